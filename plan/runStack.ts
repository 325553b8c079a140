import * as path from "path";
import { ProgramRun, runUnderMocks } from "./engine";
import { PROJECT_ROOT, readStackFile } from "./stackFiles";

/**
 * Runs the real Pulumi program (index.ts, as named by Pulumi.yaml) for one stack under the mock
 * engine, with that stack's config file. The module is re-evaluated on every call so several stacks
 * can be planned in one process.
 */
export function runStack(stack: string, overrides: Record<string, string> = {}): Promise<ProgramRun<unknown>> {
    const file = readStackFile(stack);
    const entry = require.resolve(path.join(PROJECT_ROOT, "index"));
    return runUnderMocks({
        project: file.project,
        stack,
        config: { ...file.config, ...overrides },
        secretKeys: file.secretKeys,
        defaultRegion: false,
        program: () => {
            delete require.cache[entry];
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            return require(entry);
        },
    });
}
