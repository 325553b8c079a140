import { LocalRuntime, LocalRuntimeOptions, startLocalRuntime } from "../../local/runtime";
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
