import { parseArgs } from "util";
import { errorDocument } from "../ops/errorDocument";
import { planStack } from "./plan";
import { renderPlan } from "./render";
import { exitWhenFlushed } from "./exitWhenFlushed";
import { availableStacks } from "./stackFiles";

const USAGE = `Usage: npm run plan -- --stack NAME [--json]

Runs the Pulumi program for a stack under Pulumi's mock engine (no cloud, no CLI, no credentials),
prints the resource graph and runs the policy checks. Exit codes: 0 no violations, 1 violations or
an invalid config, 2 bad usage or unknown stack. With --json, stdout holds one JSON document: the
plan, or on failure {"error": {"message", "exitCode"}} (the message is on stderr too).
Stacks: ${availableStacks().join(", ")}`;

/** Where the plan CLI writes (the process's streams; tests pass their own). */
export interface PlanIo {
    out(text: string): void;
    err(text: string): void;
}

/** Runs `npm run plan -- ...`; resolves with the exit code. Never throws. */
export async function runPlanCli(argv: string[], io: PlanIo, plan: typeof planStack = planStack): Promise<number> {
    // Guessed before parsing, so that a usage error is a JSON document too; the parsed flag decides after.
    let json = argv.includes("--json");
    const fail = (message: string, exitCode: number, usage = false): number => {
        io.err(`${message}\n${usage ? `\n${USAGE}\n` : ""}`);
        if (json) io.out(`${JSON.stringify(errorDocument(message, exitCode))}\n`);
        return exitCode;
    };
    let values: { stack?: string; json?: boolean; help?: boolean };
    try {
        ({ values } = parseArgs({ args: argv, options: { stack: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } } }));
    } catch (error) {
        return fail((error as Error).message, 2, true);
    }
    json = Boolean(values.json);
    if (values.help) {
        io.out(`${USAGE}\n`);
        return 0;
    }
    if (!values.stack) return fail("--stack is required", 2, true);
    if (!availableStacks().includes(values.stack)) return fail(`No config for stack "${values.stack}". Stacks that exist: ${availableStacks().join(", ")}`, 2);
    try {
        const document = await plan(values.stack);
        io.out(json ? `${JSON.stringify(document, null, 2)}\n` : `${renderPlan(document)}\n`);
        return document.violations.length > 0 ? 1 : 0;
    } catch (error) {
        return fail((error as Error).message, 1);
    }
}

if (require.main === module) {
    runPlanCli(process.argv.slice(2), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }).then(exitWhenFlushed);
}
