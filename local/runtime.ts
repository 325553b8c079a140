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
import { LocalDynamo, lockDataDir, readSeedFile, seedTables, startLocalDynamo } from "./dynamo";
import { AwsApiError, handleEventBridgeCall, LocalEventBridge } from "./eventBridge";
import { FlowEvent } from "./flow";
import { LocalFunction, LogSink } from "./functions";
import { applyCors, buildHttpEvent, IncomingRequest, jsonError, mapLambdaResult, OutgoingResponse, preflight, selectRoute } from "./httpApi";
import { buildLocalModel, LocalModel, QueueSpec } from "./model";
import { QueuePoller } from "./poller";
import { LocalQueue, StoredMessage } from "./queues";
import { defaultTimeScale, Timing } from "./timing";

export const DEFAULT_PORT = 3000;
export const DEFAULT_SEED_FILE = path.join(PROJECT_ROOT, "data", "sample-restaurants.json");
export const DATA_ROOT = path.join(PROJECT_ROOT, ".local-data");
/** Largest request body the HTTP API accepts (API Gateway's payload limit). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Path of the EventBridge endpoint on the runtime's server (any path works with the X-Amz-Target header). */
export const EVENTBRIDGE_PATH = "/_aws/events";

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
    /** Multiplier of every AWS duration; default from the graph (see timing.ts). */
    timeScale?: number;
    minFunctionTimeoutMs?: number;
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
    /** Most execution environments per function when it declares no reserved concurrency. Default 10. */
    maxEnvironmentsPerFunction?: number;
}

export interface LocalState {
    stack: string;
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
        dlq: { name: string; visible: number; inFlight: number } | null;
        /** Dead-letter queues of the rule targets that deliver to this queue (EventBridge's DLQs). */
        targetDlqs: { name: string; visible: number; inFlight: number }[];
    }[];
    rules: { name: string; logicalName: string; bus: string; enabled: boolean; matched: number; delivered: number; failed: number }[];
    functions: { name: string; logicalName: string; invocations: number; errors: number; timeouts: number; coldStarts: number; environments: number }[];
    timeScale: number;
    failRate: number;
    startedAt: string;
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
    stop(): Promise<void>;
}

/** Which EventBridge target DLQ of a queue: `true` = its only one, or a target DLQ's physical or logical name. */
export type TargetDlqChoice = true | string;

export class PortInUseError extends Error {
    constructor(host: string, port: number) {
        super(`Port ${port} on ${host} is already in use (another local runtime?). Stop it, or pick another port with --port N (--port 0 picks a free one).`);
        this.name = "PortInUseError";
    }
}

export class LocalRequestError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
        this.name = "LocalRequestError";
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

function json(status: number, body: unknown, extra: [string, string][] = []): OutgoingResponse {
    return { status, headers: [["content-type", "application/json"], ...extra], body: Buffer.from(JSON.stringify(body)) };
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
        const timing = new Timing(options.timeScale ?? defaultTimeScale(model), options.minFunctionTimeoutMs);

        // DynamoDB (and the data folder: one runtime at a time)
        if (dataDir) cleanups.push(lockDataDir(dataDir, { url: base }));
        const dynamo: LocalDynamo = await startLocalDynamo(model.tables, { dataDir: dataDir && path.join(dataDir, "dynamodb"), host });
        cleanups.push(() => dynamo.close());
        let seeded: Record<string, string[]> = {};
        let seededNow: string[] = [];
        if (options.seedFile !== false) {
            const file = options.seedFile ?? DEFAULT_SEED_FILE;
            ({ ids: seeded, written: seededNow } = await seedTables(dynamo, model.tables, readSeedFile(file), file));
        }
        const urls = { http: base, dynamodb: dynamo.endpoint, eventbridge: `${base}${EVENTBRIDGE_PATH}`, state: `${base}/_local/state` };

        // Functions
        const logSink = makeLogSink(options.functionLogs ?? "file", dataDir ?? path.join(DATA_ROOT, stack));
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
                    awsTimeoutMs: spec.timeoutSeconds * 1000,
                    maxEnvironments: reserved ?? options.maxEnvironmentsPerFunction ?? 10,
                    logs: logSink.sink,
                }),
            );
        }
        cleanups.push(async () => {
            await Promise.all([...functions.values()].map((f) => f.stop()));
            logSink.close();
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
        const consumersOf = (q: QueueSpec) =>
            model.mappings.filter((m) => m.queue === q.name).map((mapping) => ({ mapping, timeoutSeconds: model.functions.find((f) => f.name === mapping.functionName)!.timeoutSeconds }));
        for (const spec of model.queues) {
            const queue = new LocalQueue({
                name: spec.name,
                arn: spec.arn,
                url: spec.url,
                fifo: spec.fifo,
                contentBasedDeduplication: spec.contentBasedDeduplication,
                visibilityTimeoutMs: timing.visibilityTimeoutMs(spec, consumersOf(spec)),
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
        const snapshotFile = dataDir ? path.join(dataDir, "queues.json") : undefined;
        if (snapshotFile && fs.existsSync(snapshotFile)) {
            const snapshot = JSON.parse(fs.readFileSync(snapshotFile, "utf8")) as Record<string, StoredMessage[]>;
            for (const [name, messages] of Object.entries(snapshot)) queues.get(name)?.restore(messages);
        }
        const findQueue = (name: string): { spec: QueueSpec; queue: LocalQueue } => {
            const spec = model.queues.find((q) => q.name === name || q.logicalName === name || q.url === name || q.arn === name);
            if (!spec) throw new LocalRequestError(404, `Unknown queue "${name}". Queues: ${model.queues.map((q) => q.name).join(", ") || "none"}`);
            return { spec, queue: queues.get(spec.name)! };
        };

        // Bus
        const bridge = new LocalEventBridge({
            region: model.region,
            accountId: model.accountId,
            buses: model.buses,
            rules: model.rules,
            queue: (name) => queues.get(name),
            invokeAsync: async (name, event) => {
                const fn = functions.get(name);
                if (!fn) return { ok: false, error: { errorMessage: `function ${name} is not running` } };
                return fn.invoke(event);
            },
            onEvent: emit,
        });

        // Event source mappings
        const pollers: QueuePoller[] = [];
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
                    maxConcurrency: mapping.maximumConcurrency ?? options.maxEnvironmentsPerFunction ?? 10,
                    reportBatchItemFailures: mapping.reportBatchItemFailures,
                    invoke: (event) => fn.invoke(event),
                    failRate: () => failRate,
                    random: options.random,
                    onEvent: emit,
                }),
            );
        }

        await Promise.all(warmups);
        for (const poller of pollers) poller.start();
        // Pollers stop before the functions they invoke (cleanups run in reverse).
        cleanups.push(async () => {
            await Promise.all(pollers.map((p) => p.stop()));
            if (snapshotFile) {
                const snapshot = Object.fromEntries([...queues].map(([name, q]) => [name, q.snapshot()]).filter(([, m]) => (m as StoredMessage[]).length > 0));
                fs.mkdirSync(path.dirname(snapshotFile), { recursive: true });
                fs.writeFileSync(snapshotFile, JSON.stringify(snapshot));
            }
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
        const countsOf = (name: string) => {
            const { visible, inFlight } = queues.get(name)!.counts();
            return { name, visible, inFlight };
        };

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
                visibilityTimeoutMs: queues.get(q.name)!.visibilityTimeoutMs,
                dlq: q.redrive?.deadLetterQueue,
                maxReceiveCount: q.redrive?.maxReceiveCount,
                targetDlqs: targetDlqsOf(q.name),
            })),
            seeded,
            seededNow,
            warnings: model.warnings,
            startupMs: 0,
            async state() {
                return {
                    stack,
                    endpoints: { http: urls.http, dynamodb: urls.dynamodb, eventbridge: urls.eventbridge, state: urls.state },
                    tables: await Promise.all(model.tables.map(async (t) => ({ name: t.name, logicalName: t.logicalName, itemCount: await dynamo.itemCount(t.name) }))),
                    queues: listed.map((q) => {
                            const queue = queues.get(q.name)!;
                            const dlq = queue.deadLetter?.queue;
                            const dlqCounts = dlq?.counts();
                            return {
                                name: q.name,
                                logicalName: q.logicalName,
                                url: q.url,
                                arn: q.arn,
                                ...queue.counts(),
                                visibilityTimeoutMs: queue.visibilityTimeoutMs,
                                maxReceiveCount: q.redrive?.maxReceiveCount ?? null,
                                dlq: dlq && dlqCounts ? { name: dlq.name, visible: dlqCounts.visible, inFlight: dlqCounts.inFlight } : null,
                                targetDlqs: targetDlqsOf(q.name).map(countsOf),
                            };
                        }),
                    rules: model.rules.map((r) => ({ name: r.name, logicalName: r.logicalName, bus: r.busName, enabled: r.enabled, ...bridge.ruleCounters(r.name) })),
                    functions: model.functions.map((f) => {
                        const { invocations, errors, timeouts, coldStarts, environments } = functions.get(f.name)!.counters();
                        return { name: f.name, logicalName: f.logicalName, invocations, errors, timeouts, coldStarts, environments };
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
                    handler = (_req, res) => send(res, jsonError(503, "The local runtime is stopping"));
                    await cleanup();
                })();
                return stopping;
            },
        };
        let stopping: Promise<void> | undefined;

        const context = { model, functions, bridge, runtime, emit };
        handler = (req, res) => {
            handleRequest(context, req).then(
                (response) => send(res, response),
                (error) => send(res, jsonError(500, `Local runtime error: ${(error as Error).message}`)),
            );
        };
        (runtime as { startupMs: number }).startupMs = Date.now() - started;
        return runtime;
    } catch (error) {
        await cleanup();
        throw error;
    }
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
        if (error instanceof LocalRequestError) return jsonError(error.status, error.message);
        throw error;
    }
    const target = req.headers["x-amz-target"];
    if ((typeof target === "string" && target.startsWith("AWSEvents.")) || pathname === EVENTBRIDGE_PATH || pathname.startsWith(`${EVENTBRIDGE_PATH}/`)) {
        return eventBridgeRequest(ctx, req.method ?? "GET", typeof target === "string" ? target : undefined, body.toString("utf8"));
    }
    if (pathname === "/_local" || pathname.startsWith("/_local/")) {
        try {
            return await localRequest(ctx, req.method ?? "GET", pathname, new URLSearchParams(url.slice(pathname.length + 1)), body);
        } catch (error) {
            if (error instanceof LocalRequestError) return json(error.status, { message: error.message });
            throw error;
        }
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

/** `?target=1` (the queue's only target DLQ) or `?target=<target DLQ name>`; absent: the queue's SQS DLQ. */
function targetQuery(query: URLSearchParams): TargetDlqChoice | undefined {
    const value = query.get("target");
    if (value === null) return undefined;
    if (value === "" || value === "0" || value === "false") throw new LocalRequestError(400, `target must be 1 (the queue's only target DLQ) or a target DLQ's name, got "${value}"`);
    return value === "1" || value === "true" ? true : value;
}

async function localRequest(ctx: RequestContext, method: string, pathname: string, query: URLSearchParams, body: Buffer): Promise<OutgoingResponse> {
    const { runtime } = ctx;
    const parseBody = (): any => {
        const text = body.toString("utf8").trim();
        if (text === "") return {};
        try {
            return JSON.parse(text);
        } catch (error) {
            throw new LocalRequestError(400, `Request body is not valid JSON: ${(error as Error).message}`);
        }
    };
    const allow = (...methods: string[]) => {
        if (!methods.includes(method)) throw new LocalRequestError(405, `${pathname} accepts ${methods.join(", ")}, not ${method}`);
    };
    if (pathname === "/_local/state") {
        allow("GET");
        return json(200, await runtime.state());
    }
    const queueRoute = /^\/_local\/queues\/([^/]+)\/(redrive|dlq|messages)$/.exec(pathname);
    if (queueRoute) {
        const name = decodeURIComponent(queueRoute[1]);
        switch (queueRoute[2]) {
            case "dlq":
                allow("GET");
                return json(200, runtime.dlqMessages(name, targetQuery(query)));
            case "redrive": {
                allow("POST");
                const request = parseBody();
                const ids = request?.messageIds;
                if (ids !== undefined && (!Array.isArray(ids) || ids.some((id: unknown) => typeof id !== "string"))) {
                    throw new LocalRequestError(400, `messageIds must be a list of message id strings, got ${JSON.stringify(ids)}`);
                }
                return json(200, runtime.redrive(name, ids, targetQuery(query)));
            }
            case "messages": {
                allow("POST");
                const request = parseBody();
                if (typeof request?.body !== "string" || request.body === "") throw new LocalRequestError(400, 'expected { "body": "<message body string>" }');
                return json(200, { messageId: runtime.sendMessage(name, request.body) });
            }
        }
    }
    if (pathname === "/_local/faults") {
        allow("GET", "POST");
        if (method === "POST") {
            const rate = parseBody()?.failRate;
            if (typeof rate !== "number" || rate < 0 || rate > 1) throw new LocalRequestError(400, `failRate must be a number from 0 to 1, got ${JSON.stringify(rate)}`);
            runtime.setFailRate(rate);
        }
        return json(200, { failRate: (await runtime.state()).failRate });
    }
    throw new LocalRequestError(404, `Unknown local endpoint ${method} ${pathname}. Endpoints: GET /_local/state, GET /_local/queues/{name}/dlq[?target=1], POST /_local/queues/{name}/redrive[?target=1], POST /_local/queues/{name}/messages, GET|POST /_local/faults`);
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

function makeLogSink(mode: "inherit" | "discard" | "file", dir: string): { sink?: LogSink; close(): void } {
    if (mode === "discard") return { sink: undefined, close() {} };
    if (mode === "inherit") {
        return {
            sink: (fn, text) => process.stdout.write(text.replace(/^(?=.)/gm, `[${fn}] `)),
            close() {},
        };
    }
    const logDir = path.join(dir, "logs");
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
        close() {
            for (const stream of streams.values()) stream.end();
        },
    };
}
