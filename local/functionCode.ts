import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** Where serialized function code is written: inside the project, so `require` finds node_modules. */
export const FUNCTION_CODE_DIR = path.resolve(__dirname, "..", ".local-data", "functions");

/**
 * Loads the `__index.js` that CallbackFunction would upload, as Lambda does: a CommonJS module whose
 * `handler` export is built at load time (the callback factory runs then, once per "cold start").
 * `env` is in place while the module loads, which is when the factory reads its configuration.
 */
export function loadSerializedHandler(code: string, env: Record<string, string> = {}): (event: unknown, context?: unknown) => Promise<unknown> {
    const file = writeFunctionCode(code);
    delete require.cache[file];
    return withEnv(env, () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require(file);
        if (typeof mod.handler !== "function") throw new Error(`serialized module exports no handler function (${file})`);
        return mod.handler;
    });
}

/**
 * Writes serialized function code to FUNCTION_CODE_DIR under a name derived from its content (so
 * concurrent writers agree) and returns the file path. The directory is inside the project so that
 * `require` inside the code finds the project's node_modules, as Lambda finds the archive's.
 */
export function writeFunctionCode(code: string): string {
    fs.mkdirSync(FUNCTION_CODE_DIR, { recursive: true });
    const digest = createHash("sha256").update(code).digest("hex").slice(0, 16);
    const file = path.join(FUNCTION_CODE_DIR, `${digest}.js`);
    if (!fs.existsSync(file)) {
        // Write then rename: a reader never sees a half-written module.
        const temp = `${file}.${process.pid}.${Math.random().toString(16).slice(2)}.tmp`;
        fs.writeFileSync(temp, code);
        fs.renameSync(temp, file);
    }
    return file;
}

/** Sets environment variables for the duration of a synchronous callback, then restores them. */
export function withEnv<T>(env: Record<string, string>, fn: () => T): T {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
        return fn();
    } finally {
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    }
}
