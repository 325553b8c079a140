import {
    ChangeMessageVisibilityBatchCommand,
    DeleteMessageCommand,
    ListMessageMoveTasksCommand,
    ListMessageMoveTasksResultEntry,
    Message,
    ReceiveMessageCommand,
    SendMessageCommand,
    StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import { buildEventCatalog } from "../../handlers/events/catalog";
import { Ctx } from "../context";
import { discoverQueues, queueAttributes, QueueRef, resolveQueue } from "../discovery";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, OpsError } from "../errors";
import { LocalState } from "../local";
import { plural, table, truncate } from "../render";
import { issueKey, validateMessageBody, ValidationIssue } from "../validate";

/** SQS's limit on a message move task's rate (StartMessageMoveTask MaxNumberOfMessagesPerSecond). */
export const MAX_MOVE_RATE = 500;

/** One DLQ message as the analysis sees it (from SQS or from the local runtime). */
export interface DlqMessage {
    messageId: string;
    body: string;
    receiveCount?: number;
    sentAt?: string;
}

export interface Sample {
    messageId: string;
    eventId?: string;
    detailType?: string;
    receiveCount?: number;
    sentAt?: string;
    body: string;
}

export interface DlqAnalysis {
    valid: { count: number; samples: Sample[] };
    invalid: { count: number; groups: { issues: ValidationIssue[]; count: number; samples: Sample[] }[] };
}

/** Groups DLQ messages: valid (likely a transient failure, safe to redrive) vs invalid, by issue. */
export function analyze(messages: DlqMessage[], samples: number): DlqAnalysis & { validIds: string[] } {
    const catalog = buildEventCatalog();
    const result: DlqAnalysis & { validIds: string[] } = { valid: { count: 0, samples: [] }, invalid: { count: 0, groups: [] }, validIds: [] };
    const groups = new Map<string, DlqAnalysis["invalid"]["groups"][number]>();
    for (const m of messages) {
        const v = validateMessageBody(m.body, catalog);
        const sample: Sample = { messageId: m.messageId, eventId: v.eventId, detailType: v.detailType, receiveCount: m.receiveCount, sentAt: m.sentAt, body: m.body };
        if (v.valid) {
            result.valid.count++;
            result.validIds.push(m.messageId);
            if (result.valid.samples.length < samples) result.valid.samples.push(sample);
            continue;
        }
        result.invalid.count++;
        const key = issueKey(v.issues);
        const group = groups.get(key) ?? { issues: v.issues, count: 0, samples: [] };
        groups.set(key, group);
        group.count++;
        if (group.samples.length < samples) group.samples.push(sample);
    }
    result.invalid.groups = [...groups.values()].sort((a, b) => b.count - a.count);
    return result;
}

function renderSample(s: Sample): string {
    const meta = [s.eventId && `event ${s.eventId}`, s.receiveCount !== undefined && `received ${s.receiveCount}x`, s.sentAt && `sent ${s.sentAt}`].filter(Boolean).join(", ");
    return `    - ${s.messageId}${meta ? ` (${meta})` : ""}: ${truncate(shownBody(s.body), 120)}`;
}

/** The part of a body worth reading: an envelope's detail, else the body itself. */
function shownBody(body: string): string {
    try {
        const parsed = JSON.parse(body);
        if (parsed && typeof parsed === "object" && "detail" in parsed) return `detail ${JSON.stringify(parsed.detail)}`;
    } catch {
        // not JSON: show it as it is
    }
    return body;
}

export function renderAnalysis(a: DlqAnalysis): string[] {
    const lines = [`VALID: ${a.valid.count} (likely a transient failure: safe to redrive)`, ...a.valid.samples.map(renderSample)];
    lines.push(`INVALID: ${a.invalid.count} (poison: fix the producer or drop them; a redrive would fail again)`);
    for (const g of a.invalid.groups) {
        lines.push(`  ${g.count} x ${g.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
        lines.push(...g.samples.map(renderSample));
    }
    return lines;
}

// ---------------------------------------------------------------------------------------------
// Which DLQ, which source
// ---------------------------------------------------------------------------------------------

interface DlqPair {
    /** The ProcessedQueue component's name. */
    processedQueue: string;
    dlq: QueueRef;
    source?: QueueRef;
    /** "dlq": the queue's SQS DLQ; "target-dlq": the DLQ of an EventBridge target delivering to it. */
    kind: "dlq" | "target-dlq";
}

async function resolveDlq(ctx: Ctx, command: string, given: string, prefix?: string, targetDlq = false): Promise<DlqPair> {
    const queues = await discoverQueues(ctx, ctx.requireStack(command), prefix);
    const { queue, named, ref } = resolveQueue(queues, given, command);
    if (named === "target-dlq") return { processedQueue: queue.name, dlq: ref!, source: queue.source, kind: "target-dlq" };
    if (targetDlq) {
        if (queue.targetDlqs.length === 1) return { processedQueue: queue.name, dlq: queue.targetDlqs[0], source: queue.source, kind: "target-dlq" };
        if (queue.targetDlqs.length === 0) throw new OpsError(`ProcessedQueue "${queue.name}" has no EventBridge target DLQ (no route delivers to it)`);
        throw new OpsError(
            `ProcessedQueue "${queue.name}" has ${queue.targetDlqs.length} target DLQs, one per route: name one instead of the queue: ` +
                queue.targetDlqs.map((t) => t.route ?? t.name).join(", "),
            EXIT_USAGE,
        );
    }
    if (!queue.dlq) {
        throw new OpsError(`Not a DLQ: ProcessedQueue "${queue.name}" has no queue tagged bellyfed:queue-role=dlq, so there is no dead-letter queue to read`);
    }
    return { processedQueue: queue.name, dlq: queue.dlq, source: queue.source, kind: "dlq" };
}

/** The local queue a `dlq` command works on and which of its DLQs: its SQS DLQ, or a target DLQ (by name). */
interface LocalDlqPick {
    queue: LocalState["queues"][number];
    dlq: string;
    /** Set when the DLQ is the EventBridge target DLQ of a route delivering to the queue. */
    targetDlq?: string;
}

/** As resolveDlq does on AWS: a queue (name, logical name, DLQ or target DLQ name) and which of its DLQs. */
function findLocalDlq(state: LocalState, given: string, command: string, targetDlq = false): LocalDlqPick {
    const queue = state.queues.find((q) => q.name === given || q.logicalName === given || q.dlq?.name === given || (q.targetDlqs ?? []).some((t) => t.name === given));
    if (!queue) {
        const names = state.queues.map((q) => (q.logicalName && q.logicalName !== q.name ? `${q.logicalName} (${q.name})` : q.name));
        throw new OpsError(`Unknown queue "${given}" for \`${command}\`: the local runtime's queues are ${names.join(", ") || "none"}`, EXIT_USAGE);
    }
    const targets = queue.targetDlqs ?? [];
    const named = targets.find((t) => t.name === given);
    if (named) return { queue, dlq: named.name, targetDlq: named.name };
    if (targetDlq) {
        if (targets.length === 1) return { queue, dlq: targets[0].name, targetDlq: targets[0].name };
        if (targets.length === 0) throw new OpsError(`Local queue "${queue.name}" has no EventBridge target DLQ (no route delivers to it)`);
        throw new OpsError(`Local queue "${queue.name}" has ${targets.length} target DLQs, one per route: name one instead of the queue: ${targets.map((t) => t.name).join(", ")}`, EXIT_USAGE);
    }
    if (!queue.dlq) throw new OpsError(`Not a DLQ: local queue "${queue.name}" has no dead-letter queue`);
    return { queue, dlq: queue.dlq.name };
}

/** Reads the picked DLQ from the local runtime, making sure it answered for that DLQ. */
async function readLocalDlq(ctx: Ctx, pick: LocalDlqPick) {
    const dlq = await ctx.local().dlq(pick.queue.name, pick.targetDlq);
    if (pick.targetDlq && dlq.dlq !== pick.targetDlq) {
        throw new OpsError(
            `The local runtime at ${ctx.opts.local} answered with ${dlq.dlq}, not the target DLQ ${pick.targetDlq}: it does not support target DLQs ` +
                "(GET /_local/queues/{name}/dlq?target=...); restart it from this checkout",
            EXIT_USAGE,
        );
    }
    return dlq;
}

/** A target DLQ is not an SQS DLQ: only --only-valid redrives it (as on AWS, where move tasks refuse it). */
function targetDlqMoveTaskError(dlq: string, source: string): OpsError {
    return new OpsError(
        `Not a DLQ of an SQS queue: ${dlq} is the DLQ of an EventBridge target (events EventBridge could not deliver to ${source}). ` +
            "SQS message move tasks only take DLQs of SQS queues; use `--only-valid` to send its valid events to the queue",
    );
}

// ---------------------------------------------------------------------------------------------
// Receiving without losing anything
// ---------------------------------------------------------------------------------------------

async function receive(ctx: Ctx, url: string, max: number, visibilityTimeout: number, waitSeconds: number): Promise<Message[]> {
    const { Messages } = await ctx.call("sqs:ReceiveMessage", () =>
        ctx.aws().sqs.send(
            new ReceiveMessageCommand({
                QueueUrl: url,
                MaxNumberOfMessages: Math.max(1, Math.min(10, max)),
                VisibilityTimeout: visibilityTimeout,
                WaitTimeSeconds: waitSeconds,
                MessageSystemAttributeNames: ["All"],
                MessageAttributeNames: ["All"],
            }),
        ),
    );
    return Messages ?? [];
}

/** Makes received messages visible again at once (ChangeMessageVisibility 0, in batches of 10). */
async function release(ctx: Ctx, url: string, messages: Message[]): Promise<string[]> {
    const failures: string[] = [];
    for (let i = 0; i < messages.length; i += 10) {
        const batch = messages.slice(i, i + 10);
        try {
            const { Failed } = await ctx.call("sqs:ChangeMessageVisibilityBatch", () =>
                ctx.aws().sqs.send(
                    new ChangeMessageVisibilityBatchCommand({
                        QueueUrl: url,
                        Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
                    }),
                ),
            );
            for (const f of Failed ?? []) failures.push(`${batch[Number(f.Id)]?.MessageId}: ${f.Code} ${f.Message ?? ""}`.trim());
        } catch (error) {
            failures.push(...batch.map((m) => `${m.MessageId}: ${(error as Error).message}`));
        }
    }
    return failures;
}

function toDlqMessage(m: Message): DlqMessage {
    const sent = Number(m.Attributes?.SentTimestamp);
    return {
        messageId: m.MessageId ?? "?",
        body: m.Body ?? "",
        receiveCount: m.Attributes?.ApproximateReceiveCount ? Number(m.Attributes.ApproximateReceiveCount) : undefined,
        sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : undefined,
    };
}

export interface ReadOptions {
    /** Most messages to read. */
    max: number;
    /** Seconds the read messages stay hidden while the command works (then they are released). */
    visibilityTimeout: number;
    /** Long-poll seconds per ReceiveMessage (so an empty answer means the queue is empty). */
    waitSeconds: number;
}

/**
 * Reads up to `max` messages, deduplicated by message id, then releases them all (visibility 0):
 * inspect never deletes. Stops when a receive brings nothing new.
 */
async function peek(ctx: Ctx, url: string, options: ReadOptions): Promise<{ messages: Message[]; releaseFailures: string[] }> {
    const seen = new Map<string, Message>();
    let releaseFailures: string[] = [];
    try {
        while (seen.size < options.max) {
            const batch = await receive(ctx, url, options.max - seen.size, options.visibilityTimeout, options.waitSeconds);
            const fresh = batch.filter((m) => !seen.has(m.MessageId!));
            // A repeat (its visibility ran out while reading) keeps its newest receipt handle for the release.
            for (const m of batch) seen.set(m.MessageId!, m);
            if (fresh.length === 0) break;
        }
    } finally {
        releaseFailures = await release(ctx, url, [...seen.values()]);
    }
    return { messages: [...seen.values()], releaseFailures };
}

// ---------------------------------------------------------------------------------------------
// dlq inspect
// ---------------------------------------------------------------------------------------------

export interface InspectArgs {
    queue: string;
    /** Read the queue's EventBridge target DLQ instead of its SQS DLQ. */
    targetDlq?: boolean;
    samples: number;
    read: ReadOptions;
    prefix?: string;
}

export async function dlqInspect(ctx: Ctx, args: InspectArgs): Promise<number> {
    let target: { processedQueue: string; dlq: string; kind: string };
    let messages: DlqMessage[];
    let approximate: number | undefined;
    let releaseFailures: string[] = [];
    if (ctx.opts.local) {
        const pick = findLocalDlq(await ctx.local().state(), args.queue, "dlq inspect", args.targetDlq);
        const dlq = await readLocalDlq(ctx, pick);
        target = { processedQueue: pick.queue.name, dlq: dlq.dlq ?? pick.dlq, kind: pick.targetDlq ? "target-dlq" : "dlq" };
        messages = dlq.messages.slice(0, args.read.max).map((m) => ({
            messageId: m.messageId,
            body: m.body,
            receiveCount: m.receiveCount,
            sentAt: m.sentTimestamp !== undefined ? new Date(Number(m.sentTimestamp)).toISOString() : undefined,
        }));
        approximate = dlq.messages.length;
    } else {
        const pair = await resolveDlq(ctx, "dlq inspect", args.queue, args.prefix, args.targetDlq);
        target = { processedQueue: pair.processedQueue, dlq: pair.dlq.name, kind: pair.kind };
        approximate = Number((await queueAttributes(ctx, pair.dlq.url, ["ApproximateNumberOfMessages"])).ApproximateNumberOfMessages ?? NaN);
        const read = await peek(ctx, pair.dlq.url, args.read);
        messages = read.messages.map(toDlqMessage);
        releaseFailures = read.releaseFailures;
    }
    const { validIds: _validIds, ...analysis } = analyze(messages, args.samples);
    const code = analysis.invalid.count > 0 || releaseFailures.length > 0 ? EXIT_FAILED : EXIT_OK;
    if (ctx.opts.json) {
        ctx.json({ ...target, approximateMessages: Number.isFinite(approximate) ? approximate : null, read: messages.length, deleted: 0, ...analysis, releaseFailures });
        return code;
    }
    ctx.out(`DLQ ${target.dlq} of ${target.processedQueue}${target.kind === "target-dlq" ? " (EventBridge target DLQ)" : ""}: read ${plural(messages.length, "message")}` +
        `${Number.isFinite(approximate) ? ` of ~${approximate}` : ""}; none deleted, all visible again`);
    if (messages.length === 0) {
        ctx.out("The DLQ is empty.");
        return code;
    }
    ctx.out(renderAnalysis(analysis).join("\n"));
    if (analysis.valid.count > 0) {
        const where = ctx.opts.local ? `--local ${ctx.opts.local}` : `--stack ${ctx.opts.stack}`;
        ctx.out(`\nNext: \`npm run ops -- dlq redrive ${args.queue} ${where} --only-valid\` moves the ${analysis.valid.count} valid message(s) back and leaves the poison ones.`);
    }
    if (releaseFailures.length) {
        ctx.err(`warning: ${releaseFailures.length} message(s) could not be made visible again; they reappear by themselves after ${args.read.visibilityTimeout}s:`);
        for (const f of releaseFailures) ctx.err(`  ${f}`);
    }
    return code;
}

// ---------------------------------------------------------------------------------------------
// dlq redrive
// ---------------------------------------------------------------------------------------------

export interface RedriveArgs {
    queue: string;
    /** Redrive the queue's EventBridge target DLQ (events EventBridge could not deliver) instead of its SQS DLQ. */
    targetDlq?: boolean;
    onlyValid: boolean;
    dryRun: boolean;
    maxPerSecond?: number;
    pollSeconds: number;
    samples: number;
    read: ReadOptions;
    prefix?: string;
}

interface Checked {
    pair: DlqPair & { source: QueueRef };
    dlqArn: string;
    sourceArn: string;
    fifo: boolean;
    approximate: number;
}

function parsePolicy(text: string | undefined, attribute: string, queue: string): any {
    if (!text) return undefined;
    try {
        return JSON.parse(text);
    } catch {
        throw new OpsError(`${queue}: its ${attribute} attribute is not JSON: ${text}`);
    }
}

/**
 * The checks before any message moves: the queue is a DLQ of the source (the source's RedrivePolicy
 * names it and the DLQ's RedriveAllowPolicy lets that source use it), both queues have the same type,
 * and no move task is already running on the DLQ.
 */
async function checkRedrive(ctx: Ctx, pair: DlqPair, moveTask: boolean): Promise<Checked> {
    if (!pair.source) throw new OpsError(`ProcessedQueue "${pair.processedQueue}" has no source queue tagged bellyfed:queue-role=source: nowhere to move messages to`);
    if (pair.kind === "target-dlq" && moveTask) throw targetDlqMoveTaskError(pair.dlq.name, pair.source.name);
    const dlq = await queueAttributes(ctx, pair.dlq.url, ["QueueArn", "FifoQueue", "RedriveAllowPolicy", "ApproximateNumberOfMessages"]);
    const source = await queueAttributes(ctx, pair.source.url, ["QueueArn", "FifoQueue", "RedrivePolicy"]);
    const dlqArn = dlq.QueueArn;
    const sourceArn = source.QueueArn;
    if (pair.kind === "dlq") {
        const redrive = parsePolicy(source.RedrivePolicy, "RedrivePolicy", pair.source.name);
        if (redrive?.deadLetterTargetArn !== dlqArn) {
            throw new OpsError(
                `Not a DLQ: ${pair.dlq.name} is not the dead-letter queue of ${pair.source.name} ` +
                    `(${pair.source.name}'s RedrivePolicy ${redrive ? `names ${redrive.deadLetterTargetArn}` : "is not set"}); nothing was moved`,
            );
        }
        const allow = parsePolicy(dlq.RedriveAllowPolicy, "RedriveAllowPolicy", pair.dlq.name);
        if (allow?.redrivePermission === "denyAll" || (allow?.redrivePermission === "byQueue" && !(allow.sourceQueueArns ?? []).includes(sourceArn))) {
            throw new OpsError(`Not a DLQ of ${pair.source.name}: ${pair.dlq.name}'s RedriveAllowPolicy (${dlq.RedriveAllowPolicy}) does not allow it as a source; nothing was moved`);
        }
    }
    const dlqFifo = dlq.FifoQueue === "true";
    const sourceFifo = source.FifoQueue === "true";
    if (dlqFifo !== sourceFifo) {
        const kind = (fifo: boolean) => (fifo ? "FIFO" : "standard");
        throw new OpsError(
            `Queue type mismatch: the DLQ ${pair.dlq.name} is ${kind(dlqFifo)} but its source ${pair.source.name} is ${kind(sourceFifo)}; ` +
                "SQS moves messages only between queues of the same type. Nothing was moved",
        );
    }
    // Move tasks only run on SQS DLQs: a target DLQ has none to collide with.
    const running = pair.kind === "dlq" ? (await listMoveTasks(ctx, dlqArn, 10)).find((t) => t.Status === "RUNNING" || t.Status === "CANCELLING") : undefined;
    if (running) {
        throw new OpsError(
            `A message move task is already ${running.Status} on ${pair.dlq.name} (started ${startedAt(running)}, moved ${running.ApproximateNumberOfMessagesMoved ?? 0} ` +
                `of ~${running.ApproximateNumberOfMessagesToMove ?? "?"}); SQS allows one at a time. Wait for it, or cancel it: ` +
                `aws sqs cancel-message-move-task --task-handle ${running.TaskHandle ?? "<handle>"}`,
        );
    }
    return { pair: pair as Checked["pair"], dlqArn, sourceArn, fifo: dlqFifo, approximate: Number(dlq.ApproximateNumberOfMessages ?? 0) };
}

function startedAt(task: ListMessageMoveTasksResultEntry): string {
    return task.StartedTimestamp ? new Date(Number(task.StartedTimestamp)).toISOString() : "at an unknown time";
}

async function listMoveTasks(ctx: Ctx, sourceArn: string, maxResults: number): Promise<ListMessageMoveTasksResultEntry[]> {
    const { Results } = await ctx.call("sqs:ListMessageMoveTasks", () => ctx.aws().sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: maxResults })));
    return Results ?? [];
}

export async function dlqRedrive(ctx: Ctx, args: RedriveArgs): Promise<number> {
    if (args.maxPerSecond !== undefined && args.onlyValid) throw new OpsError("--max-per-second sets a move task's rate; it does not apply to --only-valid", EXIT_USAGE);
    if (ctx.opts.local) return localRedrive(ctx, args);
    const pair = await resolveDlq(ctx, "dlq redrive", args.queue, args.prefix, args.targetDlq);
    const checked = await checkRedrive(ctx, pair, !args.onlyValid);
    return args.onlyValid ? redriveValid(ctx, checked, args) : moveTask(ctx, checked, args);
}

async function moveTask(ctx: Ctx, c: Checked, args: RedriveArgs): Promise<number> {
    const { dlq, source } = c.pair;
    const rate = args.maxPerSecond ? `${args.maxPerSecond} messages/s` : "a rate SQS chooses";
    if (args.dryRun || c.approximate === 0) {
        const summary = c.approximate === 0 ? `${dlq.name} is empty: nothing to redrive` : `would start a message move task from ${dlq.name} to ${source.name} for ~${c.approximate} message(s) at ${rate}`;
        if (ctx.opts.json) ctx.json({ dryRun: args.dryRun, dlq: dlq.name, source: source.name, approximateMessages: c.approximate, maxPerSecond: args.maxPerSecond ?? null, started: false });
        else ctx.out(`${args.dryRun ? "Dry run: " : ""}${summary} (checks passed: a DLQ of ${source.name}, same queue type, no move task running)`);
        return EXIT_OK;
    }
    const { TaskHandle } = await ctx.call("sqs:StartMessageMoveTask", () =>
        ctx.aws().sqs.send(new StartMessageMoveTaskCommand({ SourceArn: c.dlqArn, DestinationArn: c.sourceArn, MaxNumberOfMessagesPerSecond: args.maxPerSecond })),
    );
    if (!ctx.opts.json) ctx.out(`Started a message move task from ${dlq.name} to ${source.name} for ~${c.approximate} message(s) at ${rate} (task handle ${TaskHandle}).`);
    const progress: { status: string; moved: number; toMove?: number }[] = [];
    let task: ListMessageMoveTasksResultEntry | undefined;
    for (;;) {
        await ctx.sleep(args.pollSeconds * 1000);
        const tasks = await listMoveTasks(ctx, c.dlqArn, 10);
        task = tasks.find((t) => t.TaskHandle === TaskHandle) ?? tasks[0];
        const status = task?.Status ?? "UNKNOWN";
        const step = { status, moved: task?.ApproximateNumberOfMessagesMoved ?? 0, toMove: task?.ApproximateNumberOfMessagesToMove };
        const last = progress[progress.length - 1];
        if (!last || last.status !== step.status || last.moved !== step.moved) {
            progress.push(step);
            if (!ctx.opts.json) ctx.out(`  ${status}: moved ${step.moved} of ~${step.toMove ?? "?"}`);
        }
        if (status !== "RUNNING" && status !== "CANCELLING") break;
        if (ctx.aborted) {
            if (!ctx.opts.json) ctx.out(`Stopped watching; the task keeps running in SQS. Follow it with: aws sqs list-message-move-tasks --source-arn ${c.dlqArn}`);
            else ctx.json({ dlq: dlq.name, source: source.name, taskHandle: TaskHandle, status, progress, watching: false });
            return EXIT_OK;
        }
    }
    const status = task?.Status ?? "UNKNOWN";
    const code = status === "COMPLETED" ? EXIT_OK : EXIT_FAILED;
    if (ctx.opts.json) {
        ctx.json({ dlq: dlq.name, source: source.name, taskHandle: TaskHandle, status, moved: task?.ApproximateNumberOfMessagesMoved ?? 0, failureReason: task?.FailureReason ?? null, progress });
    } else if (status === "COMPLETED") {
        ctx.out(`Done: moved ${task?.ApproximateNumberOfMessagesMoved ?? 0} message(s) back to ${source.name}.`);
    } else {
        ctx.err(`The move task ended ${status}${task?.FailureReason ? `: ${task.FailureReason}` : ""}; moved ${task?.ApproximateNumberOfMessagesMoved ?? 0}. The rest are still in ${dlq.name}.`);
    }
    return code;
}

interface MoveFailure {
    messageId: string;
    eventId?: string;
    stage: "send" | "delete";
    error: string;
}

/**
 * Moves only messages that pass validation: receive, send to the source, delete from the DLQ only
 * after the send succeeded. Poison messages (and anything not moved) are made visible again at the end.
 */
async function redriveValid(ctx: Ctx, c: Checked, args: RedriveArgs): Promise<number> {
    const { dlq, source } = c.pair;
    const catalog = buildEventCatalog();
    const held = new Map<string, Message>(); // received, to be released at the end
    const handled = new Set<string>(); // moved or failed: never touched twice in one run
    const poison: DlqMessage[] = [];
    const valid: DlqMessage[] = [];
    const moved: { messageId: string; newMessageId?: string; eventId?: string }[] = [];
    const failures: MoveFailure[] = [];
    let releaseFailures: string[] = [];
    try {
        while (handled.size + held.size < args.read.max) {
            const batch = await receive(ctx, dlq.url, args.read.max - handled.size - held.size, args.read.visibilityTimeout, args.read.waitSeconds);
            let fresh = 0;
            for (const m of batch) {
                const id = m.MessageId!;
                if (held.has(id)) {
                    held.set(id, m); // seen again: keep the newest receipt handle for the release
                    continue;
                }
                if (handled.has(id)) continue;
                fresh++;
                const v = validateMessageBody(m.Body ?? "", catalog);
                if (!v.valid) {
                    poison.push(toDlqMessage(m));
                    held.set(id, m);
                    continue;
                }
                valid.push(toDlqMessage(m));
                if (args.dryRun) {
                    held.set(id, m);
                    continue;
                }
                let newMessageId: string | undefined;
                try {
                    const sent = await ctx.call("sqs:SendMessage", () =>
                        ctx.aws().sqs.send(
                            new SendMessageCommand({
                                QueueUrl: source.url,
                                MessageBody: m.Body,
                                MessageAttributes: m.MessageAttributes,
                                ...(c.fifo ? { MessageGroupId: m.Attributes?.MessageGroupId, MessageDeduplicationId: `redrive-${id}`.slice(0, 128) } : {}),
                            }),
                        ),
                    );
                    newMessageId = sent.MessageId;
                } catch (error) {
                    failures.push({ messageId: id, eventId: v.eventId, stage: "send", error: errorText(error) });
                    held.set(id, m); // not sent: it stays in the DLQ, visible again at the end
                    continue;
                }
                handled.add(id);
                try {
                    await ctx.call("sqs:DeleteMessage", () => ctx.aws().sqs.send(new DeleteMessageCommand({ QueueUrl: dlq.url, ReceiptHandle: m.ReceiptHandle })));
                    moved.push({ messageId: id, newMessageId, eventId: v.eventId });
                } catch (error) {
                    failures.push({ messageId: id, eventId: v.eventId, stage: "delete", error: errorText(error) });
                }
            }
            if (fresh === 0) break;
        }
    } finally {
        releaseFailures = await release(ctx, dlq.url, [...held.values()]);
    }
    const { validIds: _ids, ...analysis } = analyze([...valid, ...poison], args.samples);
    const duplicates = failures.filter((f) => f.stage === "delete");
    const code = failures.length > 0 || poison.length > 0 || releaseFailures.length > 0 ? EXIT_FAILED : EXIT_OK;
    if (ctx.opts.json) {
        ctx.json({ dryRun: args.dryRun, dlq: dlq.name, source: source.name, read: valid.length + poison.length, moved: args.dryRun ? 0 : moved.length, wouldMove: args.dryRun ? valid.length : undefined, left: poison.length, ...analysis, movedMessages: moved, failures, releaseFailures });
        return code;
    }
    if (args.dryRun) {
        ctx.out(`Dry run on ${dlq.name}: would move ${plural(valid.length, "valid message")} to ${source.name} and leave ${poison.length} poison; nothing moved, all visible again.`);
    } else {
        ctx.out(`Moved ${plural(moved.length, "valid message")} from ${dlq.name} to ${source.name}; left ${poison.length} poison message(s) in the DLQ (visible again).`);
    }
    if (poison.length) ctx.out(renderAnalysis({ valid: { count: 0, samples: [] }, invalid: analysis.invalid }).slice(1).join("\n"));
    for (const f of failures.filter((x) => x.stage === "send")) ctx.err(`send failed for ${f.messageId}: ${f.error} (left in the DLQ)`);
    if (duplicates.length) {
        ctx.err(`${duplicates.length} message(s) were sent to ${source.name} but could not be deleted from ${dlq.name}: possible duplicates (the idempotent consumer counts an event id once):`);
        ctx.err(table(["MESSAGE ID", "EVENT ID", "ERROR"], duplicates.map((d) => [d.messageId, d.eventId, d.error])));
    }
    for (const f of releaseFailures) ctx.err(`could not make ${f} visible again; it reappears after ${args.read.visibilityTimeout}s`);
    return code;
}

function errorText(error: unknown): string {
    const e = error as { name?: string; message?: string };
    return `${e.name ?? "Error"}: ${e.message ?? String(error)}`;
}

async function localRedrive(ctx: Ctx, args: RedriveArgs): Promise<number> {
    const runtime = ctx.local();
    const pick = findLocalDlq(await runtime.state(), args.queue, "dlq redrive", args.targetDlq);
    const { queue } = pick;
    if (pick.targetDlq && !args.onlyValid) throw targetDlqMoveTaskError(pick.targetDlq, queue.name);
    const dlq = await readLocalDlq(ctx, pick);
    const { validIds, ...analysis } = analyze(dlq.messages.map((m) => ({ messageId: m.messageId, body: m.body, receiveCount: m.receiveCount })), args.samples);
    const ids = args.onlyValid ? validIds.slice(0, args.read.max) : undefined;
    const expected = ids ? ids.length : dlq.messages.length;
    let moved = 0;
    let notFound: string[] = [];
    if (!args.dryRun && expected > 0) ({ moved, notFound = [] } = await runtime.redrive(queue.name, ids, pick.targetDlq));
    const left = args.onlyValid ? analysis.invalid.count : 0;
    const code = (!args.dryRun && moved !== expected) || left > 0 ? EXIT_FAILED : EXIT_OK;
    if (ctx.opts.json) {
        ctx.json({ dryRun: args.dryRun, local: true, dlq: dlq.dlq, source: queue.name, read: dlq.messages.length, moved, expected, left, notFound, ...analysis });
        return code;
    }
    const what = args.onlyValid ? `${plural(expected, "valid message")}` : plural(expected, "message");
    if (args.dryRun) ctx.out(`Dry run on local ${dlq.dlq}: would move ${what} to ${queue.name}${args.onlyValid ? ` and leave ${left} poison` : ""}.`);
    else ctx.out(`Moved ${moved} of ${what} from local ${dlq.dlq} to ${queue.name}${args.onlyValid ? `; left ${left} poison` : ""}.`);
    if (!args.dryRun && moved !== expected) {
        ctx.err(`expected to move ${expected} but the local runtime moved ${moved}${notFound.length ? ` (no longer in the DLQ: ${notFound.join(", ")})` : ""}; run \`dlq inspect ${args.queue}${pick.targetDlq ? " --target-dlq" : ""} --local ${ctx.opts.local}\``);
    }
    if (left) ctx.out(renderAnalysis({ valid: { count: 0, samples: [] }, invalid: analysis.invalid }).slice(1).join("\n"));
    return code;
}
