/**
 * The offline plan (plan/runStack.ts: the Pulumi program run under mocks) as the ops CLI uses it: to
 * say which code declares a rule, and to map local target DLQs to their queues and routes.
 *
 * The types are declared here (a subset of plan/engine.ts's ProgramRun, which satisfies them) and
 * the plan is loaded by a computed path, so the published CLI (dist/ops) does not compile the Pulumi
 * program, its stacks and handlers into the package. The plan runs only in a checkout.
 */
import { EXIT_USAGE, OpsError } from "./errors";

export interface PlanResource {
    urn: string;
    type: string;
    name: string;
    /** URN of the parent resource, absent at the root. */
    parent?: string;
    inputs: Record<string, any>;
    outputs: Record<string, any>;
}

export interface PlanRun {
    resources: PlanResource[];
    /** The program's outputs (stacks/platform.ts PlatformOutputs: `rules`, `queues`, `eventBusName`, ...). */
    outputs: Record<string, any>;
}

/** Relative to this file; a variable so that TypeScript does not follow it into the program. */
const RUN_STACK_MODULE = "../plan/runStack";

/** Runs the offline plan of a stack from the checkout's Pulumi program. */
export async function runOfflinePlan(stack: string): Promise<PlanRun> {
    let runStack: (stack: string) => Promise<PlanRun>;
    try {
        // Loaded on demand: the Pulumi runtime is heavy and most commands never need it.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        ({ runStack } = require(RUN_STACK_MODULE) as { runStack: (stack: string) => Promise<PlanRun> });
    } catch (error) {
        // Only this module missing (not one that it imports, which would be a broken checkout).
        if ((error as { code?: string }).code === "MODULE_NOT_FOUND" && (error as Error).message.includes(`'${RUN_STACK_MODULE}'`)) {
            throw new OpsError(
                "the offline plan needs the Pulumi program, which only a checkout of the repository has (the published package ships the CLI without it)",
                EXIT_USAGE,
            );
        }
        throw error;
    }
    return runStack(stack);
}
