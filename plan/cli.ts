import { parseArgs } from "util";
import { planStack } from "./plan";
import { renderPlan } from "./render";
import { exitWhenFlushed } from "./exitWhenFlushed";
import { availableStacks } from "./stackFiles";

const USAGE = `Usage: npm run plan -- --stack NAME [--json]

Runs the Pulumi program for a stack under Pulumi's mock engine (no cloud, no CLI, no credentials),
prints the resource graph and runs the policy checks. Exit codes: 0 no violations, 1 violations or
an invalid config, 2 bad usage or unknown stack.
Stacks: ${availableStacks().join(", ")}`;

async function main(argv: string[]): Promise<number> {
    let values: { stack?: string; json?: boolean; help?: boolean };
    try {
        ({ values } = parseArgs({ args: argv, options: { stack: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } } }));
    } catch (error) {
        process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
        return 2;
    }
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    if (!values.stack) {
        process.stderr.write(`--stack is required\n\n${USAGE}\n`);
        return 2;
    }
    if (!availableStacks().includes(values.stack)) {
        process.stderr.write(`No config for stack "${values.stack}". Stacks that exist: ${availableStacks().join(", ")}\n`);
        return 2;
    }
    try {
        const plan = await planStack(values.stack);
        process.stdout.write(values.json ? `${JSON.stringify(plan, null, 2)}\n` : `${renderPlan(plan)}\n`);
        return plan.violations.length > 0 ? 1 : 0;
    } catch (error) {
        process.stderr.write(`${(error as Error).message}\n`);
        return 1;
    }
}

main(process.argv.slice(2)).then(exitWhenFlushed);
