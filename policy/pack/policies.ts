/**
 * The CrossGuard side of the policy rules: each rule of `policy/rules.ts` (the one definition, also
 * used by the offline plan's `violations`) becomes a stack validation policy. This module does not
 * start the pack's gRPC server (index.ts does), so tests call `validateStack` directly.
 */
import {
    PolicyResource as CrossGuardResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
    UnknownValueError,
} from "@pulumi/policy";
import { POLICY_RULES, PolicyResource, PolicyRule, UNKNOWN } from "../rules";

/** The fields of a CrossGuard resource the rules read. */
export type CrossGuardResourceView = Pick<CrossGuardResource, "urn" | "type" | "name" | "props"> & { parent?: { urn: string } };

/**
 * A deep plain copy of CrossGuard props. During a preview, CrossGuard hands props through a proxy
 * that throws `UnknownValueError` when a value is not known yet; every unknown becomes the rules'
 * `UNKNOWN` (not `undefined`: a KMS key ARN not known yet is still a key, not a missing one).
 */
export function knownValues(value: unknown): any {
    if (value === null || typeof value !== "object") return value;
    const read = (key: string | number): unknown => {
        try {
            return knownValues((value as any)[key]);
        } catch (e) {
            if (e instanceof UnknownValueError) return UNKNOWN;
            throw e;
        }
    };
    if (Array.isArray(value)) return Array.from({ length: value.length }, (_, i) => read(i));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
        const v = read(key);
        if (v !== undefined) out[key] = v;
    }
    return out;
}

/** Adapts a CrossGuard resource to the rules' neutral shape: the parent becomes its URN. */
export function toRuleResource(r: CrossGuardResourceView): PolicyResource {
    return { urn: r.urn, type: r.type, name: r.name, parent: r.parent?.urn, props: knownValues(r.props) ?? {} };
}

/** One rule as a mandatory stack validation policy: every finding is reported against its resource's URN. */
export function stackPolicy(rule: PolicyRule): StackValidationPolicy {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: "mandatory",
        validateStack: (args: Pick<StackValidationArgs, "resources">, reportViolation: ReportViolation) => {
            for (const v of rule.check(args.resources.map(toRuleResource))) reportViolation(v.message, v.urn);
        },
    };
}

/** Every rule of policy/rules.ts, in the plan's report order. */
export const policies: StackValidationPolicy[] = POLICY_RULES.map(stackPolicy);
