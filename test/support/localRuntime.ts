import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { LocalRuntime, LocalRuntimeOptions, startLocalRuntime } from "../../local/runtime";
import { PROJECT_ROOT } from "../../plan/stackFiles";
import { stackGraph } from "./graph";

/**
 * The local runtime of a stack (default dev) for a test: in memory, on a free port, functions
 * quiet, built from the stack's graph that the test process already captured (stackGraph).
 */
export async function startTestRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
    const graph = await stackGraph(options.stack ?? "dev");
    return startLocalRuntime({
        run: graph.run,
        port: 0,
        memory: true,
        functionLogs: "discard",
        ...options,
        functionEnv: { POWERTOOLS_METRICS_DISABLED: "true", POWERTOOLS_LOG_LEVEL: "SILENT", ...options.functionEnv },
    });
}

/**
 * Polls `probe` until `done` accepts its value, and returns that value. Fails after `timeoutMs`
 * with the last value seen (a condition that is never reached, not a timing assertion).
 */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, { timeoutMs = 15_000, intervalMs = 50, what = "condition" } = {}): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: T;
    for (;;) {
        last = await probe();
        if (done(last)) return last;
        if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
        await new Promise((r) => setTimeout(r, intervalMs));
    }
}

/** GET/POST JSON against the runtime; returns status, headers and the parsed body. */
export async function request(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: any }> {
    const response = await fetch(url, init);
    const text = await response.text();
    let body: any = text;
    try {
        body = text === "" ? undefined : JSON.parse(text);
    } catch {
        // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body };
}

/** A local runtime in a child process of its own, for what a test process cannot do to itself (kill -9). */
export interface RuntimeProcess {
    urls: { http: string; state: string; dynamodb: string; eventbridge: string };
    /** SIGKILL: no stop, no clean-up, no final save. Resolves when the process is gone. */
    kill(): Promise<void>;
}

/**
 * Starts the dev stack's runtime on a free port in a child process (on disk in `dataDir`), and
 * resolves once it serves. The child runs the program under mocks itself: a few seconds.
 */
export async function startRuntimeProcess(
    dataDir: string,
    options: { failRate?: number; functionTimeoutMs?: number; functionEnv?: Record<string, string> } = {},
): Promise<RuntimeProcess> {
    const runtimeOptions = {
        port: 0,
        dataDir,
        functionLogs: "discard",
        failRate: options.failRate ?? 0,
        functionTimeoutMs: options.functionTimeoutMs,
        functionEnv: { POWERTOOLS_METRICS_DISABLED: "true", POWERTOOLS_LOG_LEVEL: "SILENT", ...options.functionEnv },
    };
    // A script file, not `node -e`: the closure serializer needs a main module to serialize the handlers right.
    const scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), "bellyfed-runtime-process-"));
    const script = path.join(scriptDir, "run.js");
    fs.writeFileSync(
        script,
        `process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
require(${JSON.stringify(path.join(PROJECT_ROOT, "local", "runtime"))}).startLocalRuntime(${JSON.stringify(runtimeOptions)}).then(
    (rt) => process.stdout.write("READY " + JSON.stringify(rt.urls) + "\\n"),
    (error) => { console.error(error); process.exit(1); },
);
`,
    );
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", script], { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (chunk) => (err += chunk));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    void exited.then(() => fs.rmSync(scriptDir, { recursive: true, force: true }));
    const kill = async () => {
        child.kill("SIGKILL");
        await exited;
    };
    const urls = await new Promise<RuntimeProcess["urls"]>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => {
            void kill();
            reject(new Error(`the runtime process did not serve within 60 s:\n${err}`));
        }, 60_000);
        child.stdout.on("data", (chunk) => {
            out += chunk;
            const ready = /^READY (.*)$/m.exec(out);
            if (ready) {
                clearTimeout(timer);
                resolve(JSON.parse(ready[1]));
            }
        });
        void exited.then(() => {
            clearTimeout(timer);
            reject(new Error(`the runtime process exited before serving:\n${err}`));
        });
    });
    return { urls, kill };
}

/**
 * A DynamoDB endpoint in front of another (`target`, set once known) that passes every request on
 * until one matches `trips`, answers that one, then holds every later request unanswered: to the
 * caller, the moment right after that call, frozen (a test then kills it there). `tripped` resolves
 * once the matching request has been answered.
 */
export interface DynamoTrap {
    url: string;
    target?: string;
    tripped: Promise<void>;
    close(): Promise<void>;
}

export async function startDynamoTrap(trips: (operation: string, body: string) => boolean): Promise<DynamoTrap> {
    let trip!: () => void;
    const tripped = new Promise<void>((resolve) => (trip = resolve));
    let holding = false;
    const held = new Set<http.ServerResponse>();
    const trap: DynamoTrap = {
        url: "",
        tripped,
        close: async () => {
            for (const res of held) res.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
            server.closeAllConnections();
        },
    };
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            if (holding || !trap.target) {
                held.add(res);
                return;
            }
            const body = Buffer.concat(chunks);
            const operation = String(req.headers["x-amz-target"] ?? "").split(".").pop() ?? "";
            const matches = trips(operation, body.toString("utf8"));
            if (matches) holding = true;
            const upstream = http.request(`${trap.target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
                res.writeHead(answer.statusCode ?? 500, answer.headers);
                answer.pipe(res);
                answer.on("end", () => {
                    if (matches) trip();
                });
            });
            upstream.on("error", () => res.destroy());
            upstream.end(body);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    trap.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return trap;
}
