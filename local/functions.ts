/**
 * Local Lambda functions. Each execution environment is a worker thread with the function's own
 * environment variables (Worker `env`: process.env is never swapped, so the AWS SDK's lazy endpoint
 * resolution always sees the right AWS_ENDPOINT_URL_*), running one invocation at a time. A function
 * scales out to more environments under concurrent load, up to its cap; an environment that times
 * out, crashes or runs out of memory is thrown away, and the next invocation gets a cold one.
 */
import { randomUUID } from "crypto";
import { Readable } from "stream";
import { Worker } from "worker_threads";
import { writeFunctionCode } from "./functionCode";
import { InvocationClock, lambdaWorkerSource, SerializedError, WorkerData, WorkerReply } from "./lambdaWorker";
import { FunctionSpec } from "./model";
import { INIT_TIMEOUT_MS } from "./timing";

export type InvokeResult =
    | { ok: true; value: unknown; requestId: string; durationMs: number; coldStart: boolean }
    | { ok: false; error: SerializedError; requestId: string; durationMs: number; coldStart: boolean; timedOut: boolean; killed?: KilledInvocation };

/**
 * An invocation that did not end by answering: killed at its timeout, or its environment crashed
 * (exit, out of memory). Whatever it sized to `getRemainingTimeInMillis` (a consumer's lease on the
 * records it was working on) may last until `until`: the later of its deadline and its end.
 */
export interface KilledInvocation {
    until: number;
}

/** Receives what a function writes to stdout/stderr (its CloudWatch log stream on AWS). */
export type LogSink = (functionName: string, text: string) => void;

export interface LocalFunctionOptions {
    /** The worker's whole environment (Lambda's reserved variables, endpoints, the function's own). */
    env: Record<string, string>;
    /** When the local runtime kills an invocation (real ms; getRemainingTimeInMillis counts down to it). */
    timeoutMs: number;
    /** Most execution environments at once (Lambda's concurrency). */
    maxEnvironments: number;
    logs?: LogSink;
    initTimeoutMs?: number;
}

export interface FunctionStats {
    invocations: number;
    errors: number;
    timeouts: number;
    coldStarts: number;
    environments: number;
    busy: number;
}

class Environment {
    readonly worker: Worker;
    readonly ready: Promise<void>;
    dead = false;
    private nextId = 1;
    private pending?: { id: number; resolve: (reply: { ok: true; value: unknown } | { ok: false; error: SerializedError }) => void };

    constructor(file: string, spec: FunctionSpec, options: LocalFunctionOptions) {
        const workerData: WorkerData = {
            file,
            functionName: spec.name,
            functionArn: spec.arn,
            memoryMb: spec.memoryMb,
            logGroupName: spec.logGroup ?? `/aws/lambda/${spec.name}`,
        };
        this.worker = new Worker(lambdaWorkerSource(), {
            eval: true,
            env: options.env,
            workerData,
            stdout: true,
            stderr: true,
            // Lambda's memory setting caps the heap, so a leak fails here as it would there.
            resourceLimits: { maxOldGenerationSizeMb: Math.max(spec.memoryMb, 128) },
            name: spec.name,
        });
        const forward = (stream: Readable) => {
            stream.setEncoding("utf8");
            stream.on("data", (text: string) => options.logs?.(spec.name, text));
        };
        forward(this.worker.stdout);
        forward(this.worker.stderr);

        this.ready = new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => {
                reject(Object.assign(new Error(`Init phase did not finish within ${options.initTimeoutMs ?? INIT_TIMEOUT_MS} ms`), { errorType: "Runtime.InitTimeout" }));
                this.kill();
            }, options.initTimeoutMs ?? INIT_TIMEOUT_MS);
            this.worker.on("message", (reply: WorkerReply) => {
                if (reply.type === "ready") {
                    clearTimeout(timer);
                    resolve();
                } else if (reply.type === "init-error") {
                    clearTimeout(timer);
                    reject(Object.assign(new Error(reply.error.errorMessage), { errorType: reply.error.errorType || "Runtime.InitError" }));
                    this.kill();
                } else if (reply.type === "result" && this.pending?.id === reply.id) {
                    const { resolve: done } = this.pending;
                    this.pending = undefined;
                    done(reply.ok ? { ok: true, value: reply.value } : { ok: false, error: reply.error });
                }
            });
            const fail = (error: SerializedError) => {
                clearTimeout(timer);
                this.dead = true;
                reject(Object.assign(new Error(error.errorMessage), { errorType: error.errorType }));
                const pending = this.pending;
                this.pending = undefined;
                pending?.resolve({ ok: false, error });
            };
            this.worker.on("error", (error: any) =>
                fail({
                    errorType: error?.code === "ERR_WORKER_OUT_OF_MEMORY" ? "Runtime.OutOfMemory" : `Runtime.${error?.name ?? "Error"}`,
                    errorMessage: error?.message ?? String(error),
                }),
            );
            this.worker.on("exit", (code) => fail({ errorType: "Runtime.ExitError", errorMessage: `Runtime exited with code ${code}` }));
        });
        // An init failure is reported to whoever acquires the environment; never unhandled.
        this.ready.catch(() => undefined);
    }

    invoke(event: unknown, requestId: string, clock: InvocationClock): Promise<{ ok: true; value: unknown } | { ok: false; error: SerializedError }> {
        return new Promise((resolve) => {
            const id = this.nextId++;
            this.pending = { id, resolve };
            this.worker.postMessage({ type: "invoke", id, event, requestId, clock });
        });
    }

    kill(): void {
        this.dead = true;
        void this.worker.terminate();
    }
}

export class LocalFunction {
    private readonly file: string;
    private readonly all = new Set<Environment>();
    private readonly idle: Environment[] = [];
    private readonly waiters: ((env: Promise<Environment>) => void)[] = [];
    private stopped = false;
    private readonly stats = { invocations: 0, errors: 0, timeouts: 0, coldStarts: 0 };

    constructor(
        readonly spec: FunctionSpec,
        private readonly options: LocalFunctionOptions,
    ) {
        this.file = writeFunctionCode(spec.code);
    }

    get name(): string {
        return this.spec.name;
    }

    get timeoutMs(): number {
        return this.options.timeoutMs;
    }

    counters(): FunctionStats {
        return { ...this.stats, environments: this.all.size, busy: this.all.size - this.idle.length };
    }

    private spawn(): Environment {
        const env = new Environment(this.file, this.spec, this.options);
        this.all.add(env);
        this.stats.coldStarts++;
        return env;
    }

    /** Starts one environment ahead of the first invocation; rejects with the init error, if any. */
    async warm(): Promise<void> {
        if (this.all.size > 0) return;
        const env = this.spawn();
        try {
            await env.ready;
            this.release(env);
        } catch (error) {
            this.all.delete(env);
            throw error;
        }
    }

    private async acquire(): Promise<{ env: Environment; cold: boolean }> {
        const idle = this.idle.pop();
        if (idle) return { env: idle, cold: false };
        if (this.all.size < this.options.maxEnvironments) {
            const env = this.spawn();
            try {
                await env.ready;
            } catch (error) {
                this.all.delete(env);
                throw error;
            }
            return { env, cold: true };
        }
        const env = await new Promise<Promise<Environment>>((resolve) => this.waiters.push(resolve));
        return { env: await env, cold: false };
    }

    private release(env: Environment): void {
        if (env.dead || this.stopped) {
            this.all.delete(env);
            if (!env.dead) env.kill();
            const waiter = this.waiters.shift();
            if (waiter && !this.stopped) {
                const fresh = this.spawn();
                waiter(fresh.ready.then(() => fresh, (error) => {
                    this.all.delete(fresh);
                    throw error;
                }));
            }
            return;
        }
        const waiter = this.waiters.shift();
        if (waiter) waiter(Promise.resolve(env));
        else this.idle.push(env);
    }

    /** Invokes the function once (synchronous invocation); never throws: failures are results. */
    async invoke(event: unknown): Promise<InvokeResult> {
        const requestId = randomUUID();
        const started = Date.now();
        this.stats.invocations++;
        if (this.stopped) return this.failed(requestId, started, false, { errorType: "Local.Stopped", errorMessage: "the local runtime is stopping" });
        let env: Environment;
        let cold: boolean;
        try {
            ({ env, cold } = await this.acquire());
        } catch (error: any) {
            return this.failed(requestId, started, true, { errorType: error?.errorType ?? "Runtime.InitError", errorMessage: error?.message ?? String(error) });
        }
        const invokeStarted = Date.now();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<"timeout">((resolve) => {
            timer = setTimeout(() => resolve("timeout"), this.options.timeoutMs);
        });
        const clock = { startedAt: invokeStarted, timeoutMs: this.options.timeoutMs };
        const outcome = await Promise.race([env.invoke(event, requestId, clock), timeout]);
        clearTimeout(timer);
        const killed = (): KilledInvocation => ({ until: Math.max(Date.now(), invokeStarted + this.options.timeoutMs) });
        if (outcome === "timeout") {
            env.kill();
            this.release(env);
            this.stats.timeouts++;
            const seconds = (this.options.timeoutMs / 1000).toFixed(2);
            return this.failed(requestId, started, cold, { errorType: "Sandbox.Timedout", errorMessage: `Task timed out after ${seconds} seconds` }, true, killed());
        }
        // The environment died under the invocation (it exited, ran out of memory): it did not answer either.
        const crashed = env.dead;
        this.release(env);
        if (!outcome.ok) return this.failed(requestId, started, cold, outcome.error, false, crashed ? killed() : undefined);
        return { ok: true, value: outcome.value, requestId, durationMs: Date.now() - started, coldStart: cold };
    }

    private failed(requestId: string, started: number, cold: boolean, error: SerializedError, timedOut = false, killed?: KilledInvocation): InvokeResult {
        this.stats.errors++;
        return { ok: false, error, requestId, durationMs: Date.now() - started, coldStart: cold, timedOut, ...(killed ? { killed } : {}) };
    }

    /** Terminates every environment (running invocations fail). */
    async stop(): Promise<void> {
        this.stopped = true;
        const envs = [...this.all];
        this.all.clear();
        this.idle.length = 0;
        await Promise.all(envs.map((env) => env.worker.terminate().catch(() => undefined)));
        for (const waiter of this.waiters.splice(0)) waiter(Promise.reject(Object.assign(new Error("the local runtime is stopping"), { errorType: "Local.Stopped" })));
    }
}
