import * as path from "path";
import { StackConfigError } from "../stacks/config";
import { asRunFailure, ProgramRun, runUnderMocks } from "./engine";
import { PROJECT_ROOT, readStackFile, SECRET_PLACEHOLDER, StackFile } from "./stackFiles";

/**
 * Runs the real Pulumi program (index.ts, as named by Pulumi.yaml) for one stack under the mock
 * engine, with that stack's config file. The module is re-evaluated on every call so several stacks
 * can be planned in one process. `stackFilesDir` holds the Pulumi.yaml and Pulumi.<stack>.yaml to read
 * (the project's own by default).
 */
export async function runStack(stack: string, overrides: Record<string, string> = {}, stackFilesDir = PROJECT_ROOT): Promise<ProgramRun<unknown>> {
    const file = readStackFile(stack, stackFilesDir);
    const entry = require.resolve(path.join(PROJECT_ROOT, "index"));
    const config = { ...file.config, ...overrides };
    try {
        const run = await runUnderMocks({
            project: file.project,
            stack,
            config,
            secretKeys: file.secretKeys,
            defaultRegion: false,
            program: () => {
                delete require.cache[entry];
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                return require(entry);
            },
        });
        // A non-finite number where the schema takes null (an optional setting) still is a mistake.
        if (file.nonFinite.length > 0) throw new StackConfigError(stack, []);
        return run;
    } catch (error) {
        if (error instanceof StackConfigError) throw asRunFailure(error, explainOfflineProblems(error, file.nonFinite, config));
        throw error;
    }
}

/**
 * The program's config problems, told in terms of the stack file rather than of what the offline
 * plan handed the program: a YAML number JSON cannot hold arrived as null ("expected number, received
 * null"), and a `secure:` value as the "[secret]" placeholder ("received string"). Every problem is
 * kept, so one run still names every bad key.
 */
function explainOfflineProblems(error: StackConfigError, nonFinite: StackFile["nonFinite"], config: Record<string, string>): StackConfigError {
    const keyOf = (problem: string) => problem.slice(0, problem.indexOf(": "));
    const nonFiniteKeys = new Set(nonFinite.map((n) => n.key));
    const problems = error.problems
        .filter((problem) => !nonFiniteKeys.has(keyOf(problem)))
        .map((problem) => {
            const key = keyOf(problem);
            if (configValueAt(config, key) !== SECRET_PLACEHOLDER) return problem;
            return (
                `${key}: is a secure: value, which the offline plan does not decrypt (it reads "${SECRET_PLACEHOLDER}"), and this setting does not take ` +
                `a string (${problem.slice(key.length + 2)}): keep settings that are not secrets in plain text`
            );
        });
    return new StackConfigError(error.stackName, [...nonFinite.map((n) => n.problem), ...problems]);
}

/** The value at a problem's key path (`bellyfed:alarms.queueDepth`) in the config handed to the program. */
function configValueAt(config: Record<string, string>, keyPath: string): unknown {
    const [top, ...rest] = keyPath.split(".");
    if (config[top] === undefined) return undefined;
    let value: unknown = config[top];
    if (rest.length === 0) return value;
    try {
        value = JSON.parse(config[top]);
    } catch {
        return undefined;
    }
    for (const step of rest) value = value && typeof value === "object" ? (value as Record<string, unknown>)[step] : undefined;
    return value;
}
