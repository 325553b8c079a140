/**
 * The Lambda runtime of one local execution environment: runs inside a worker thread, loads the
 * serialized `__index.js` (the callback factory runs then: the cold start), and answers one
 * invocation at a time, like the Node.js runtime interface client.
 *
 * `lambdaWorkerMain` is started from its source text (`new Worker(source, { eval: true })`), so it
 * must be self-contained: no imports, only `require` of Node built-ins and the code file.
 */

/** Messages between the host (functions.ts) and the worker. */
export type WorkerRequest = { type: "invoke"; id: number; event: unknown; requestId: string; clock: InvocationClock };

/**
 * How `context.getRemainingTimeInMillis()` counts: real milliseconds left before the local runtime
 * kills the invocation, as on Lambda (a function's work is not scaled: see timing.ts).
 */
export interface InvocationClock {
    startedAt: number;
    /** When the local runtime kills the invocation (ms after startedAt). */
    timeoutMs: number;
}

export type WorkerReply =
    | { type: "ready"; initMs: number }
    | { type: "init-error"; error: SerializedError }
    | { type: "result"; id: number; ok: true; value: unknown }
    | { type: "result"; id: number; ok: false; error: SerializedError };

export interface SerializedError {
    errorType: string;
    errorMessage: string;
    stack?: string;
}

export interface WorkerData {
    file: string;
    functionName: string;
    functionArn: string;
    memoryMb: number;
    logGroupName: string;
}

export function lambdaWorkerMain(): void {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { parentPort, workerData } = require("node:worker_threads");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const data = workerData as WorkerData;
    const serialize = (error: any): SerializedError => ({
        errorType: (error && error.name) || "Error",
        errorMessage: error instanceof Error ? error.message : typeof error === "string" ? error : JSON.stringify(error) ?? String(error),
        stack: error instanceof Error ? error.stack : undefined,
    });
    const logStreamName = `${new Date().toISOString().slice(0, 10).replace(/-/g, "/")}/[$LATEST]${Math.random().toString(16).slice(2, 18)}`;

    let handler: (...args: any[]) => any;
    const started = Date.now();
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require(data.file);
        handler = mod.handler;
        if (typeof handler !== "function") throw new Error(`Runtime.HandlerNotFound: ${data.file} exports no "handler" function`);
        parentPort.postMessage({ type: "ready", initMs: Date.now() - started });
    } catch (error) {
        parentPort.postMessage({ type: "init-error", error: serialize(error) });
        return;
    }

    const run = (event: unknown, context: any): Promise<unknown> =>
        new Promise((resolve, reject) => {
            let settled = false;
            const callback = (error: unknown, value?: unknown) => {
                if (settled) return;
                settled = true;
                if (error !== null && error !== undefined) reject(error);
                else resolve(value);
            };
            try {
                const returned = handler(event, context, callback);
                if (returned && typeof returned.then === "function") {
                    returned.then(
                        (value: unknown) => callback(null, value),
                        (error: unknown) => callback(error ?? new Error("handler rejected with no reason")),
                    );
                } else if (handler.length < 3) {
                    callback(null, returned);
                }
            } catch (error) {
                callback(error);
            }
        });

    parentPort.on("message", async (message: WorkerRequest) => {
        if (message.type !== "invoke") return;
        const context = {
            callbackWaitsForEmptyEventLoop: true,
            functionName: data.functionName,
            functionVersion: "$LATEST",
            invokedFunctionArn: data.functionArn,
            memoryLimitInMB: String(data.memoryMb),
            awsRequestId: message.requestId,
            logGroupName: data.logGroupName,
            logStreamName,
            getRemainingTimeInMillis: () => Math.max(0, message.clock.startedAt + message.clock.timeoutMs - Date.now()),
        };
        try {
            const value = await run(message.event, context);
            let json: unknown;
            try {
                // Lambda returns the result as JSON: undefined becomes null, class instances plain objects.
                json = value === undefined ? null : JSON.parse(JSON.stringify(value));
            } catch (error) {
                parentPort.postMessage({ type: "result", id: message.id, ok: false, error: { errorType: "Runtime.MarshalError", errorMessage: `Unable to marshal response: ${(error as Error).message}` } });
                return;
            }
            parentPort.postMessage({ type: "result", id: message.id, ok: true, value: json });
        } catch (error) {
            parentPort.postMessage({ type: "result", id: message.id, ok: false, error: serialize(error) });
        }
    });
}

/** The source a worker is started from. */
export function lambdaWorkerSource(): string {
    return `(${lambdaWorkerMain.toString()})();`;
}
