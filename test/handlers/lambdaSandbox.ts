import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { withEnv } from "../../local/functionCode";

const REPO_NODE_MODULES = path.resolve(__dirname, "..", "..", "node_modules");

/**
 * A directory outside the repository laid out like a Lambda function's /var/task: the archive's
 * `node_modules/<package>` entries, copied (not linked, so that their own `require`s cannot reach the
 * repository's node_modules either), plus links to the repository's `@aws-sdk/*` packages standing in
 * for what the Node.js runtime provides. A package the archive lacks cannot be found from here.
 */
export interface LambdaSandbox {
    dir: string;
    /** Writes one function's `__index.js` as `<name>.js` and loads it as Lambda would, with `env` set during the load (the cold start). */
    load(name: string, code: string, env?: Record<string, string>): (event: unknown, context?: unknown) => Promise<any>;
    remove(): void;
}

export function createLambdaSandbox(archive: string[]): LambdaSandbox {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bellyfed-lambda-"));
    const packages = archive.filter((key) => key.startsWith("node_modules/")).map((key) => key.slice("node_modules/".length));
    for (const pkg of packages) {
        fs.cpSync(path.join(REPO_NODE_MODULES, pkg), path.join(dir, "node_modules", pkg), { recursive: true, dereference: true });
    }
    // The runtime's SDK: linked, so the SDK's own dependencies resolve as they do in /var/runtime.
    fs.mkdirSync(path.join(dir, "node_modules", "@aws-sdk"), { recursive: true });
    for (const sdk of fs.readdirSync(path.join(REPO_NODE_MODULES, "@aws-sdk"))) {
        const target = path.join(dir, "node_modules", "@aws-sdk", sdk);
        if (!fs.existsSync(target)) fs.symlinkSync(path.join(REPO_NODE_MODULES, "@aws-sdk", sdk), target, "dir");
    }
    return {
        dir,
        load(name, code, env = {}) {
            const file = path.join(dir, `${name}.js`);
            fs.writeFileSync(file, code);
            return withEnv(env, () => {
                const mod = require(file);
                if (typeof mod.handler !== "function") throw new Error(`${name}: the serialized module exports no handler function`);
                return mod.handler;
            });
        },
        remove() {
            for (const key of Object.keys(require.cache)) if (key.startsWith(dir)) delete require.cache[key];
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
