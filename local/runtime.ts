/**
 * The local runtime: runs the real Pulumi program of a stack under the mock engine and builds the
 * platform from the captured resource graph: tables on dynalite, functions in worker threads,
 * queues, event source mappings, the bus with its rules and targets, and the HTTP API, all behind
 * one HTTP server (the API's routes, the EventBridge endpoint, and `/_local/*`).
 */
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { Duplex } from "stream";
import { ProgramRun } from "../plan/engine";
import { runStack } from "../plan/runStack";
import { availableStacks, PROJECT_ROOT, UnknownStackError } from "../plan/stackFiles";
import { lockDataDir, StaleLock } from "./dataLock";
import { LocalDynamo, readSeedFile, seedTables, startLocalDynamo } from "./dynamo";
import { AwsApiError, handleEventBridgeCall, LocalEventBridge } from "./eventBridge";
import { FlowEvent } from "./flow";
import { LocalFunction, LogSink } from "./functions";
import { LocalRequestError, localRequest, type TargetDlqChoice } from "./localEndpoints";
import { applyCors, buildHttpEvent, IncomingRequest, jsonError, mapLambdaResult, OutgoingResponse, preflight, selectRoute } from "./httpApi";
import { buildLocalModel, LocalModel, QueueSpec } from "./model";
import { QueuePoller } from "./poller";
import { LocalQueue } from "./queues";
import { QueueStore } from "./queueStore";
import { defaultTimeScale, displayMs, INIT_TIMEOUT_MS, KILLED_INVOCATION_GRACE_MS, Timing } from "./timing";

export const DEFAULT_PORT = 3000;
export const DEFAULT_SEED_FILE = path.join(PROJECT_ROOT, "data", "sample-restaurants.json");
export const DATA_ROOT = path.join(PROJECT_ROOT, ".local-data");
/** Largest request body the HTTP API accepts (API Gateway's payload limit). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Path of the EventBridge endpoint on the runtime's server (any path works with the X-Amz-Target header). */
export const EVENTBRIDGE_PATH = "/_aws/events";

export { LocalRequestError };
export type { TargetDlqChoice };

export interface LocalRuntimeOptions {
    /** Stack whose Pulumi.<stack>.yaml configures the program. Default `dev`. */
    stack?: string;
    /** A graph already captured for the stack (tests share one); default: run the program now. */
    run?: ProgramRun<unknown>;
    /** HTTP port; 0 picks a free one. Default 3000. */
    port?: number;
    host?: string;
    /** Keep DynamoDB and queues in memory only. Default false (on disk under .local-data/<stack>). */
    memory?: boolean;
    /** Where on-disk data lives. Default `.local-data/<stack>`. */
    dataDir?: string;
    /** Multiplier of every AWS duration the platform waits (not of function timeouts); default from the graph (see timing.ts). */
    timeScale?: number;
    /** Every function's timeout in ms instead of its declared one (tests of timeouts). Default: each function's own, in real time. */
    functionTimeoutMs?: number;
    /** Probability that a consumer invocation fails (fault injection). Default 0. */
    failRate?: number;
    random?: () => number;
    /** Seed file, or false for none. Default data/sample-restaurants.json. */
    seedFile?: string | false;
    /** Receives every flow event (the CLI prints them). */
    onFlow?: (event: FlowEvent) => void;
    /** Where functions' stdout/stderr go: the terminal, nowhere, or `<dataDir>/logs/<function>.log`. Default "file". */
    functionLogs?: "inherit" | "discard" | "file";
    /** Extra environment variables for every function (after the function's own). */
    functionEnv?: Record<string, string>;
    /** Journal size (bytes) at which the on-disk queue journal is compacted into a new snapshot. Default 8 MiB. */
    queueCompactBytes?: number;
    /** Most execution environments per function when it declares no reserved concurrency. Default 10. */
    maxEnvironmentsPerFunction?: number;
}

export interface LocalState {
    stack: string;
    /** The data folder (absolute), or null in memory. Another runtime's start reads it to tell a held data folder from a stale lock. */
    dataDir: string | null;
    endpoints: { http: string; dynamodb: string; eventbridge: string; state: string };
    tables: { name: string; logicalName: string; itemCount: number }[];
    queues: {
        name: string;
        logicalName: string;
        url: string;
        arn: string;
        visible: number;
        inFlight: number;
        delayed: number;
        visibilityTimeoutMs: number;
        maxReceiveCount: number | null;
        tags: Record<string, string>;
        dlq: LocalQueueRef | null;
        /** Dead-letter queues of the rule targets that deliver to this queue (EventBridge's DLQs), with the rules whose targets use each. */
        targetDlqs: (LocalQueueRef & { rules: string[] })[];
    }[];
    rules: { name: string; logicalName: string; bus: string; enabled: boolean; matched: number; delivered: number; failed: number; tags: Record<string, string> }[];
    /**
     * Per function: its invocations and their outcomes, as CloudWatch's Lambda metrics count them, and
     * `injectedFaults`, the batches `--fail-rate` failed on the way to or from it (the event source
     * mapping's doing, so neither an invocation nor an error of the function when it failed one before it ran).
     */
    functions: { name: string; logicalName: string; invocations: number; errors: number; timeouts: number; coldStarts: number; environments: number; injectedFaults: number }[];
    timeScale: number;
    failRate: number;
    startedAt: string;
}

/** A DLQ in the state: how to name it (physical, logical, URL, ARN, tags) and its counts. */
export interface LocalQueueRef {
    name: string;
    logicalName: string;
    url: string;
    arn: string;
    tags: Record<string, string>;
    visible: number;
    inFlight: number;
}

export interface DlqMessage {
    messageId: string;
    body: string;
    receiveCount: number;
    sentTimestamp: number;
}

export interface LocalRuntime {
    readonly stack: string;
    readonly model: LocalModel;
    readonly urls: { http: string; dynamodb: string; eventbridge: string; state: string };
    readonly timeScale: number;
    readonly timing: Timing;
    readonly memory: boolean;
    readonly dataDir?: string;
    /** "GET /restaurant/{id} -> function name" */
    readonly routes: { routeKey: string; functionName: string }[];
    /** Queues as the state lists them: DLQs appear under the queue they serve. */
    readonly queues: { name: string; consumers: string[]; visibilityTimeoutMs: number; dlq?: string; maxReceiveCount?: number; targetDlqs: string[] }[];
    /** The seed file's key values per table (logical name): the sample ids, whether written now or kept from an earlier start. */
    readonly seeded: Record<string, string[]>;
    /** Logical names of the tables whose seed items were written at this start (tables created now). */
    readonly seededNow: string[];
    readonly warnings: string[];
    readonly startupMs: number;
    /** Where the functions' log files are (`functionLogs: "file"`), else undefined. */
    readonly logDir?: string;
    /** What an on-disk runtime found from its previous run; undefined in memory. */
    readonly recovery?: RuntimeRecovery;
    state(): Promise<LocalState>;
    /** Sends a message to a queue (by physical or logical name), as a producer would. */
    sendMessage(queue: string, body: string): string;
    /**
     * The messages of a queue's DLQ, nothing consumed. `target` reads the DLQ of the rule target
     * delivering to the queue instead (EventBridge's DLQ): `true` for the queue's only one, or its name.
     */
    dlqMessages(queue: string, target?: TargetDlqChoice): { queue: string; dlq: string; messages: DlqMessage[] };
    /** Moves DLQ messages (all, or `messageIds`) back to the queue as new messages; `target` as for dlqMessages. */
    redrive(queue: string, messageIds?: string[], target?: TargetDlqChoice): { moved: number; notFound: string[] };
    setFailRate(rate: number): void;
    /**
     * Stops cleanly: new API and `/_local` requests are refused (503) while the EventBridge endpoint
     * and DynamoDB keep serving the invocations already running; those finish (each bounded by its
     * function's timeout), the pollers finish their running batches, the queues are saved, then
     * everything closes. A request answered 200 before or during the stop keeps its effects.
     */
    stop(): Promise<void>;
}

/** What an on-disk runtime recovered at start. */
export interface RuntimeRecovery {
    /** Set when the previous runtime on this data folder did not stop cleanly (its lock was left behind). */
    uncleanStop?: StaleLock;
    /** Messages put back on their queues, per queue (physical name). */
    restored: Record<string, number>;
    restoredMessages: number;
    /** Journal entries replayed: changes the previous runtime recorded after its last snapshot. */
    journalEntries: number;
}

export class PortInUseError extends Error {
    constructor(host: string, port: number) {
        super(`Port ${port} on ${host} is already in use (another local runtime?). Stop it, or pick another port with --port N (--port 0 picks a free one).`);
        this.name = "PortInUseError";
    }
}

function checkRate(rate: number): number {
    if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new RangeError(`fail rate must be a number from 0 to 1, got ${rate}`);
    return rate;
}

async function listen(server: http.Server, host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException) => {
            server.off("listening", onListening);
            reject(error.code === "EADDRINUSE" ? new PortInUseError(host, port) : error);
        };
        const onListening = () => {
            server.off("error", onError);
            resolve();
        };
        server.once("error", onError);
        server.once("listening", onListening);
        server.listen(port, host);
    });
    return (server.address() as AddressInfo).port;
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > limit) {
                reject(new LocalRequestError(413, "Request Entity Too Large"));
                req.resume();
                return;
            }
            chunks.push(chunk);
        });
        req.on("end", () => resolve(Buffer.concat(chunks)));
        req.on("error", reject);
    });
}

function send(res: http.ServerResponse, response: OutgoingResponse): void {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of response.headers) {
        const existing = headers[name];
        headers[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    res.writeHead(response.status, headers);
    res.end(response.body);
}

/**
 * The answer to a request Node's HTTP parser rejects before any handler sees it: a request line plus
 * headers over the server's limit (431, as API Gateway refuses oversized request lines and headers),
 * a request that took too long to arrive (408), anything malformed (400). JSON, like every other error.
 */
export function clientErrorResponse(code: string | undefined, maxHeaderSize = http.maxHeaderSize): OutgoingResponse {
    switch (code) {
        case "HPE_HEADER_OVERFLOW":
            return jsonError(431, `Request Header Fields Too Large: the request line and headers exceed ${maxHeaderSize} bytes`);
        case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
            return jsonError(413, "Request Entity Too Large: chunk extensions too large");
        case "ERR_HTTP_REQUEST_TIMEOUT":
            return jsonError(408, "Request Timeout");
        default:
            return jsonError(400, "Bad Request: malformed HTTP request");
    }
}

/**
 * `clientError` of the server (replaces Node's bare-status answer): writes the JSON answer unless a
 * response is already under way on the connection, then closes the connection.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
        socket.destroy();
        return;
    }
    const response = clientErrorResponse(error.code);
    const head = [
        `HTTP/1.1 ${response.status} ${http.STATUS_CODES[response.status] ?? ""}`,
        ...response.headers.map(([name, value]) => `${name}: ${value}`),
        `content-length: ${response.body.length}`,
        "connection: close",
    ];
    socket.end(Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`), response.body]), () => socket.destroy());
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
    const started = Date.now();
    const stack = options.stack ?? options.run?.stack ?? "dev";
    if (!options.run && !availableStacks().includes(stack)) throw new UnknownStackError(stack, availableStacks());
    const host = options.host ?? "127.0.0.1";
    const memory = Boolean(options.memory);
    const dataDir = memory ? undefined : (options.dataDir ?? path.join(DATA_ROOT, stack));
    let failRate = checkRate(options.failRate ?? 0);
    const emit = (event: FlowEvent) => options.onFlow?.({ ...event, at: Date.now() });

    // Bind first: a port in use fails in milliseconds, before any work.
    let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => send(res, jsonError(503, "The local runtime is starting"));
    const server = http.createServer((req, res) => handler(req, res));
    server.keepAliveTimeout = 5000;
    server.on("clientError", answerClientError);
    const port = await listen(server, host, options.port ?? DEFAULT_PORT);
    const base = `http://${host}:${port}`;

    const cleanups: (() => Promise<void> | void)[] = [];
    const cleanup = async () => {
        for (const fn of cleanups.splice(0).reverse()) {
            try {
                await fn();
            } catch {
                // best effort: keep closing the rest
            }
        }
    };
    cleanups.push(
        () =>
            new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            }),
    );

    try {
        const run = options.run ?? (await runStack(stack));
        const model = buildLocalModel(run);
        const timing = new Timing(options.timeScale ?? defaultTimeScale(model), options.functionTimeoutMs);

        // DynamoDB (and the data folder: one runtime at a time)
        let uncleanStop: StaleLock | undefined;
        if (dataDir) {
            const lock = await lockDataDir(dataDir, { url: base, stack });
            cleanups.push(lock.release);
            uncleanStop = lock.stale;
        }
        const dynamo: LocalDynamo = await startLocalDynamo(model.tables, { dataDir: dataDir && path.join(dataDir, "dynamodb"), host });
        cleanups.push(() => dynamo.close());
        let seeded: Record<string, string[]> = {};
        let seededNow: string[] = [];
        if (options.seedFile !== false) {
            const file = options.seedFile ?? DEFAULT_SEED_FILE;
            ({ ids: seeded, written: seededNow } = await seedTables(dynamo, model.tables, readSeedFile(file), file));
        }
        const urls = { http: base, dynamodb: dynamo.endpoint, eventbridge: `${base}${EVENTBRIDGE_PATH}`, state: `${base}/_local/state` };

        // Functions. An in-memory runtime logs to a folder of its own (per port: unique among the
        // runtimes running), never into the files of an on-disk runtime of the same stack.
        const logDir = dataDir ? path.join(dataDir, "logs") : path.join(DATA_ROOT, stack, "logs", `memory-${port}`);
        const logSink = makeLogSink(options.functionLogs ?? "file", logDir);
        const functions = new Map<string, LocalFunction>();
        for (const spec of model.functions) {
            const reserved = spec.reservedConcurrency !== undefined && spec.reservedConcurrency >= 0 ? spec.reservedConcurrency : undefined;
            functions.set(
                spec.name,
                new LocalFunction(spec, {
                    env: {
                        ...spec.environment,
                        AWS_REGION: model.region,
                        AWS_DEFAULT_REGION: model.region,
                        AWS_ACCESS_KEY_ID: "local",
                        AWS_SECRET_ACCESS_KEY: "local",
                        AWS_ENDPOINT_URL_DYNAMODB: urls.dynamodb,
                        AWS_ENDPOINT_URL_EVENTBRIDGE: urls.eventbridge,
                        AWS_LAMBDA_FUNCTION_NAME: spec.name,
                        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
                        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
                        AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroup ?? `/aws/lambda/${spec.name}`,
                        AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
                        _HANDLER: "__index.handler",
                        // Lambda runs Node 22; the SDK's "upgrade from Node 20" notice is noise here.
                        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
                        ...(options.functionEnv ?? {}),
                    },
                    timeoutMs: timing.functionTimeoutMs(spec.timeoutSeconds),
                    maxEnvironments: reserved ?? options.maxEnvironmentsPerFunction ?? 10,
                    logs: logSink.sink,
                }),
            );
        }
        cleanups.push(async () => {
            await Promise.all([...functions.values()].map((f) => f.stop()));
            await logSink.close();
        });
        const warmups = [...functions.values()].map((f) =>
            f.warm().catch((error) => {
                const message = `function ${f.name} failed to initialize: ${error.errorType ?? error.name}: ${error.message}`;
                model.warnings.push(message);
                emit({ kind: "warning", message });
            }),
        );

        // Queues
        const queues = new Map<string, LocalQueue>();
        for (const spec of model.queues) {
            const queue = new LocalQueue({
                name: spec.name,
                arn: spec.arn,
                url: spec.url,
                fifo: spec.fifo,
                contentBasedDeduplication: spec.contentBasedDeduplication,
                visibilityTimeoutMs: timing.visibilityTimeoutMs(spec),
                retentionMs: timing.ms(spec.messageRetentionSeconds),
                delayMs: timing.ms(spec.delaySeconds),
                deduplicationMs: timing.ms(300),
            });
            queue.on("event", (event) => {
                if (event.kind !== "sent") emit(event);
            });
            queues.set(spec.name, queue);
        }
        for (const spec of model.queues) {
            if (spec.redrive) queues.get(spec.name)!.deadLetter = { queue: queues.get(spec.redrive.deadLetterQueue)!, maxReceiveCount: spec.redrive.maxReceiveCount };
        }
        // On disk, every queue change is journaled before it is acknowledged (see queueStore.ts).
        let recovery: RuntimeRecovery | undefined;
        let store: QueueStore | undefined;
        if (dataDir) {
            store = new QueueStore(dataDir, queues, { compactBytes: options.queueCompactBytes, onWarning: (message) => emit({ kind: "warning", message }) });
            const loaded = store.load();
            model.warnings.push(...loaded.warnings);
            const restoredMessages = Object.values(loaded.restored).reduce((n, c) => n + c, 0);
            recovery = { uncleanStop, restored: loaded.restored, restoredMessages, journalEntries: loaded.journalEntries };
        }
        const findQueue = (name: string): { spec: QueueSpec; queue: LocalQueue } => {
            const spec = model.queues.find((q) => q.name === name || q.logicalName === name || q.url === name || q.arn === name);
            if (!spec) throw new LocalRequestError(404, `Unknown queue "${name}". Queues: ${model.queues.map((q) => q.name).join(", ") || "none"}`);
            return { spec, queue: queues.get(spec.name)! };
        };

        // Requests being answered and asynchronous invocations: a stop waits for them.
        const running = new Set<Promise<unknown>>();
        const track = <T>(work: Promise<T>): Promise<T> => {
            running.add(work);
            void work.finally(() => running.delete(work)).catch(() => undefined);
            return work;
        };
        const settleRunning = async () => {
            // Loop: what is running may start more (an event published now may invoke a function target).
            while (running.size > 0) await Promise.allSettled([...running]);
        };

        // Bus
        const bridge = new LocalEventBridge({
            region: model.region,
            accountId: model.accountId,
            buses: model.buses,
            rules: model.rules,
            queue: (name) => queues.get(name),
            invokeAsync: async (name, event) => {
                if (!functions.has(name)) return { ok: false, error: { errorMessage: `function ${name} is not running` } };
                return track(functions.get(name)!.invoke(event));
            },
            onEvent: emit,
        });

        // Event source mappings
        const pollers: QueuePoller[] = [];
        const injectedFaults = new Map<string, number>();
        for (const mapping of model.mappings) {
            if (!mapping.enabled) continue;
            const fn = functions.get(mapping.functionName)!;
            pollers.push(
                new QueuePoller({
                    queue: queues.get(mapping.queue)!,
                    functionName: mapping.functionName,
                    region: model.region,
                    batchSize: mapping.batchSize,
                    batchingWindowMs: timing.ms(mapping.batchingWindowSeconds),
                    // A batch stays hidden while its invocation may run (the batching window, a cold start, the
                    // timeout) and, should the runtime be killed meanwhile, until what the invocation left behind
                    // has expired (the grace): a restart keeps this hold (see timing.ts).
                    holdMs: timing.ms(mapping.batchingWindowSeconds) + INIT_TIMEOUT_MS + fn.timeoutMs + KILLED_INVOCATION_GRACE_MS,
                    maxConcurrency: mapping.maximumConcurrency ?? options.maxEnvironmentsPerFunction ?? 10,
                    reportBatchItemFailures: mapping.reportBatchItemFailures,
                    invoke: (event) => fn.invoke(event),
                    failRate: () => failRate,
                    random: options.random,
                    onEvent: (event) => {
                        if (event.kind === "batch-failed" && event.injected) injectedFaults.set(mapping.functionName, (injectedFaults.get(mapping.functionName) ?? 0) + 1);
                        emit(event);
                    },
                }),
            );
        }

        await Promise.all(warmups);
        for (const poller of pollers) poller.start();
        // Cleanups run in reverse: this one first, while the functions, DynamoDB and the server's
        // EventBridge endpoint still serve. Running requests finish, then the pollers' running
        // batches (and whatever those publish), then the queues are saved.
        cleanups.push(async () => {
            await settleRunning();
            await Promise.all(pollers.map((p) => p.stop()));
            await settleRunning();
            store?.close();
        });

        const dlqOf = (name: string) => {
            const { spec, queue } = findQueue(name);
            if (!spec.redrive || !queue.deadLetter) throw new LocalRequestError(400, `Queue ${spec.name} has no dead-letter queue (no redrivePolicy)`);
            return { spec, queue, dlq: queue.deadLetter.queue };
        };
        const targetDlqOf = (name: string, choice: TargetDlqChoice) => {
            const { spec, queue } = findQueue(name);
            const names = targetDlqsOf(spec.name);
            if (names.length === 0) throw new LocalRequestError(400, `Queue ${spec.name} has no EventBridge target DLQ (no rule target delivering to it has a dead-letter queue)`);
            let chosen: string | undefined;
            if (choice === true) {
                if (names.length > 1) throw new LocalRequestError(400, `Queue ${spec.name} has ${names.length} target DLQs (one per rule target): name one with ?target=<name>: ${names.join(", ")}`);
                chosen = names[0];
            } else {
                chosen = names.find((n) => n === choice || model.queues.find((q) => q.name === n)?.logicalName === choice);
                if (!chosen) throw new LocalRequestError(404, `"${choice}" is not a target DLQ of queue ${spec.name}. Its target DLQs: ${names.join(", ")}`);
            }
            return { spec, queue, dlq: queues.get(chosen)! };
        };
        const dlqNames = new Set(model.queues.flatMap((q) => (q.redrive ? [q.redrive.deadLetterQueue] : [])));
        const targetDlqsOf = (queue: string) => [
            ...new Set(model.rules.flatMap((r) => r.targets.filter((t) => t.kind === "queue" && t.resource === queue && t.deadLetterQueue).map((t) => t.deadLetterQueue!))),
        ];
        const attachedTargetDlqs = new Set(model.queues.flatMap((q) => targetDlqsOf(q.name)));
        const listed = model.queues.filter((q) => !dlqNames.has(q.name) && !attachedTargetDlqs.has(q.name));
        const refOf = (name: string): LocalQueueRef => {
            const spec = model.queues.find((q) => q.name === name)!;
            const { visible, inFlight } = queues.get(name)!.counts();
            return { name, logicalName: spec.logicalName, url: spec.url, arn: spec.arn, tags: spec.tags, visible, inFlight };
        };
        const rulesDeliveringWith = (queue: string, dlq: string) =>
            model.rules.filter((r) => r.targets.some((t) => t.kind === "queue" && t.resource === queue && t.deadLetterQueue === dlq)).map((r) => r.name);

        const runtime: LocalRuntime = {
            stack,
            model,
            urls,
            timeScale: timing.scale,
            timing,
            memory,
            dataDir,
            routes: model.apis.flatMap((a) => a.routes.map((r) => ({ routeKey: r.routeKey, functionName: r.functionName }))),
            queues: listed.map((q) => ({
                name: q.name,
                consumers: model.mappings.filter((m) => m.queue === q.name).map((m) => m.functionName),
                visibilityTimeoutMs: displayMs(queues.get(q.name)!.visibilityTimeoutMs),
                dlq: q.redrive?.deadLetterQueue,
                maxReceiveCount: q.redrive?.maxReceiveCount,
                targetDlqs: targetDlqsOf(q.name),
            })),
            seeded,
            seededNow,
            warnings: model.warnings,
            startupMs: 0,
            logDir: options.functionLogs === undefined || options.functionLogs === "file" ? logDir : undefined,
            recovery,
            async state() {
                return {
                    stack,
                    dataDir: dataDir ? path.resolve(dataDir) : null,
                    endpoints: { http: urls.http, dynamodb: urls.dynamodb, eventbridge: urls.eventbridge, state: urls.state },
                    tables: await Promise.all(model.tables.map(async (t) => ({ name: t.name, logicalName: t.logicalName, itemCount: await dynamo.itemCount(t.name) }))),
                    queues: listed.map((q) => {
                            const queue = queues.get(q.name)!;
                            const dlq = queue.deadLetter?.queue;
                            return {
                                name: q.name,
                                logicalName: q.logicalName,
                                url: q.url,
                                arn: q.arn,
                                ...queue.counts(),
                                visibilityTimeoutMs: displayMs(queue.visibilityTimeoutMs),
                                maxReceiveCount: q.redrive?.maxReceiveCount ?? null,
                                tags: q.tags,
                                dlq: dlq ? refOf(dlq.name) : null,
                                targetDlqs: targetDlqsOf(q.name).map((name) => ({ ...refOf(name), rules: rulesDeliveringWith(q.name, name) })),
                            };
                        }),
                    rules: model.rules.map((r) => ({ name: r.name, logicalName: r.logicalName, bus: r.busName, enabled: r.enabled, ...bridge.ruleCounters(r.name), tags: r.tags })),
                    functions: model.functions.map((f) => {
                        const { invocations, errors, timeouts, coldStarts, environments } = functions.get(f.name)!.counters();
                        return { name: f.name, logicalName: f.logicalName, invocations, errors, timeouts, coldStarts, environments, injectedFaults: injectedFaults.get(f.name) ?? 0 };
                    }),
                    timeScale: timing.scale,
                    failRate,
                    startedAt: new Date(started).toISOString(),
                };
            },
            sendMessage(name, body) {
                const { spec, queue } = findQueue(name);
                return queue.send(body, { messageGroupId: spec.fifo ? "local" : undefined, deduplicationId: spec.fifo ? randomUUID() : undefined }).messageId;
            },
            dlqMessages(name, target) {
                const { spec, dlq } = target === undefined ? dlqOf(name) : targetDlqOf(name, target);
                return {
                    queue: spec.name,
                    dlq: dlq.name,
                    messages: dlq.peek().map((m) => ({ messageId: m.messageId, body: m.body, receiveCount: m.receiveCount, sentTimestamp: m.sentTimestamp })),
                };
            },
            redrive(name, messageIds, target) {
                const { spec, queue, dlq } = target === undefined ? dlqOf(name) : targetDlqOf(name, target);
                const moved = dlq.moveTo(queue, messageIds);
                const movedIds = new Set(moved.map((m) => m.from));
                if (moved.length > 0) emit({ kind: "redriven", queue: spec.name, dlq: dlq.name, moved: moved.length });
                return { moved: moved.length, notFound: (messageIds ?? []).filter((id) => !movedIds.has(id)) };
            },
            setFailRate(rate) {
                failRate = checkRate(rate);
            },
            stop: () => {
                stopping ??= (async () => {
                    draining = true;
                    await cleanup();
                })();
                return stopping;
            },
        };
        let stopping: Promise<void> | undefined;
        let draining = false;

        const context = { model, functions, bridge, runtime, emit };
        handler = (req, res) => {
            if (draining && !servedWhileStopping(req)) {
                send(res, { ...jsonError(503, "The local runtime is stopping"), headers: [["content-type", "application/json"], ["connection", "close"]] });
                return;
            }
            void track(
                handleRequest(context, req).then(
                    (response) => send(res, response),
                    (error) => send(res, jsonError(500, `Local runtime error: ${(error as Error).message}`)),
                ),
            );
        };
        (runtime as { startupMs: number }).startupMs = Date.now() - started;
        return runtime;
    } catch (error) {
        await cleanup();
        throw error;
    }
}

/**
 * What a stopping runtime still serves: the EventBridge endpoint (running functions publish through
 * it, and treat a failed publish as best effort: refusing it would lose the event of a request
 * answered 200) and the read-only state.
 */
function servedWhileStopping(req: http.IncomingMessage): boolean {
    return isEventBridgeRequest(req) || ((req.url ?? "/").split("?")[0] === "/_local/state" && req.method === "GET");
}

/** A call for the EventBridge endpoint: an `AWSEvents.*` target (on any path, as the SDK sends it), or the endpoint's path. */
function isEventBridgeRequest(req: http.IncomingMessage): boolean {
    const target = req.headers["x-amz-target"];
    const pathname = (req.url ?? "/").split("?")[0];
    return (typeof target === "string" && target.startsWith("AWSEvents.")) || pathname === EVENTBRIDGE_PATH || pathname.startsWith(`${EVENTBRIDGE_PATH}/`);
}

interface RequestContext {
    model: LocalModel;
    functions: Map<string, LocalFunction>;
    bridge: LocalEventBridge;
    runtime: LocalRuntime;
    emit: (event: FlowEvent) => void;
}

async function handleRequest(ctx: RequestContext, req: http.IncomingMessage): Promise<OutgoingResponse> {
    const url = req.url ?? "/";
    const pathname = url.split("?")[0];
    let body: Buffer;
    try {
        body = await readBody(req, MAX_BODY_BYTES);
    } catch (error) {
        if (!(error instanceof LocalRequestError)) throw error;
        // The EventBridge endpoint answers in its own protocol's shape, whatever went wrong.
        if (isEventBridgeRequest(req)) {
            return awsError(new AwsApiError("ValidationException", `Total size of the entries in the request is over the limit: the request body is over ${MAX_BODY_BYTES} bytes`, error.status));
        }
        return jsonError(error.status, error.message);
    }
    if (isEventBridgeRequest(req)) {
        const target = req.headers["x-amz-target"];
        return eventBridgeRequest(ctx, req.method ?? "GET", typeof target === "string" ? target : undefined, body.toString("utf8"));
    }
    if (pathname === "/_local" || pathname.startsWith("/_local/")) {
        return localRequest(ctx.runtime, req.method ?? "GET", pathname, new URLSearchParams(url.slice(pathname.length + 1)), body);
    }
    return apiRequest(ctx, {
        method: req.method ?? "GET",
        url,
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""),
    });
}

function awsError(error: AwsApiError): OutgoingResponse {
    return {
        status: error.status,
        headers: [
            ["content-type", "application/x-amz-json-1.1"],
            ["x-amzn-errortype", error.type],
            ["x-amzn-requestid", randomUUID()],
        ],
        body: Buffer.from(JSON.stringify({ __type: error.type, message: error.message })),
    };
}

function eventBridgeRequest(ctx: RequestContext, method: string, target: string | undefined, body: string): OutgoingResponse {
    try {
        if (method !== "POST") throw new AwsApiError("UnknownOperationException", `EventBridge requests are POSTs (AWS JSON 1.1 protocol), got ${method}`);
        const result = handleEventBridgeCall(ctx.bridge, ctx.model, target, body);
        return {
            status: 200,
            headers: [
                ["content-type", "application/x-amz-json-1.1"],
                ["x-amzn-requestid", randomUUID()],
            ],
            body: Buffer.from(JSON.stringify(result)),
        };
    } catch (error) {
        if (error instanceof AwsApiError) return awsError(error);
        return awsError(new AwsApiError("InternalException", (error as Error).message, 500));
    }
}

async function apiRequest(ctx: RequestContext, request: IncomingRequest): Promise<OutgoingResponse> {
    const started = Date.now();
    const rawPath = request.url.split("?")[0];
    const log = (status: number, route?: string, error?: string) =>
        ctx.emit({ kind: "http", method: request.method, path: request.url, status, durationMs: Date.now() - started, route, error });
    // One HTTP API per stack is the norm; with several, the first API's CORS applies to preflights.
    const cors = ctx.model.apis[0]?.cors;
    // With a CORS configuration, API Gateway answers preflights itself, whatever the routes.
    const pre = preflight(cors, request);
    if (pre) {
        log(pre.status, "(CORS preflight)");
        return pre;
    }
    const match = selectRoute(ctx.model.apis, request.method, rawPath);
    if (!match) {
        log(404);
        return applyCors(cors, request, jsonError(404, "Not Found"));
    }
    const fn = ctx.functions.get(match.route.functionName)!;
    const result = await fn.invoke(buildHttpEvent(request, match, ctx.model.accountId));
    let response: OutgoingResponse;
    let error: string | undefined;
    if (result.ok) {
        response = mapLambdaResult(result.value);
        if (response.status === 500 && !(result.value as any)?.statusCode) error = "malformed Lambda proxy response";
    } else {
        error = `${result.error.errorType}: ${result.error.errorMessage}`;
        ctx.emit({ kind: "function-error", functionName: fn.name, error });
        response = jsonError(500, "Internal Server Error");
    }
    response = applyCors(match.api.cors, request, response);
    response.headers.push(["apigw-requestid", result.requestId]);
    log(response.status, match.route.routeKey, error);
    return response;
}

/** Where functions' output goes; in "file" mode one `<function>.log` per function in `logDir`, closed (flushed) by `close`. */
function makeLogSink(mode: "inherit" | "discard" | "file", logDir: string): { sink?: LogSink; close(): Promise<void> } {
    if (mode === "discard") return { sink: undefined, close: async () => undefined };
    if (mode === "inherit") {
        return {
            sink: (fn, text) => process.stdout.write(text.replace(/^(?=.)/gm, `[${fn}] `)),
            close: async () => undefined,
        };
    }
    fs.mkdirSync(logDir, { recursive: true });
    const streams = new Map<string, fs.WriteStream>();
    return {
        sink: (fn, text) => {
            let stream = streams.get(fn);
            if (!stream) {
                stream = fs.createWriteStream(path.join(logDir, `${fn}.log`), { flags: "a" });
                streams.set(fn, stream);
            }
            stream.write(text);
        },
        close: async () => {
            await Promise.all([...streams.values()].map((stream) => new Promise<void>((resolve) => stream.end(() => resolve()))));
        },
    };
}
