import { compareCodePoints } from "../components/codePointOrder";
import { CapturedResource, ProgramRun } from "./engine";
import { evaluatePolicies, PolicyResource, Violation } from "../policy/rules";
import { runStack } from "./runStack";

/** The offline plan document: the contract that PR checks and tools read (see DESIGN.md). */
export interface PlanDocument {
    project: string;
    stack: string;
    resources: { urn: string; type: string; name: string; parent: string | null; inputs: Record<string, any>; outputs: Record<string, any> }[];
    outputs: Record<string, any>;
    violations: Violation[];
}

/** The neutral shape the policy rules read; state wins over inputs, as after a deploy. */
export function toPolicyResources(resources: CapturedResource[]): PolicyResource[] {
    return resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent, props: { ...r.inputs, ...r.outputs } }));
}

export function planDocument(run: ProgramRun<unknown>): PlanDocument {
    // Registration order depends on promise timing; URN order (by code point, not by the locale's
    // collation, which LANG / LC_ALL change) is the same on every run and every machine. Violations
    // follow: rule by rule (POLICY_RULES order), each rule in this resource order.
    const resources = [...run.resources].sort((a, b) => compareCodePoints(a.urn, b.urn));
    return {
        project: run.project,
        stack: run.stack,
        resources: resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent ?? null, inputs: r.inputs, outputs: r.outputs })),
        outputs: run.outputs,
        violations: evaluatePolicies(toPolicyResources(resources)),
    };
}

export async function planStack(stack: string, overrides?: Record<string, string>): Promise<PlanDocument> {
    return planDocument(await runStack(stack, overrides));
}
