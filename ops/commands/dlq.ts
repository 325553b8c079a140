import { DeleteMessageCommand, Message, SendMessageCommand } from "@aws-sdk/client-sqs";
import { buildEventCatalog } from "../../handlers/events/catalog";
import { Ctx } from "../context";
import { discoverQueues, queueAttributes, QueueRef, resolveQueue } from "../discovery";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, OpsError } from "../errors";
import { plural, table, truncate } from "../render";
import { issueKey, validateMessageBody, ValidationIssue } from "../validate";
import { DlqReader, ReadOptions, Remaining, StopReason, stopText } from "./dlqRead";
import { findLocalDlq, readLocalDlq } from "./dlqLocal";
import { listMoveTasks, runMoveTask, startedAtText } from "./dlqMoveTask";

export type { ReadOptions } from "./dlqRead";

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
export function analyze(messages: DlqMessage[], samples: number, now: () => number = Date.now): DlqAnalysis & { validIds: string[] } {
    const catalog = buildEventCatalog();
    const result: DlqAnalysis & { validIds: string[] } = { valid: { count: 0, samples: [] }, invalid: { count: 0, groups: [] }, validIds: [] };
    const groups = new Map<string, DlqAnalysis["invalid"]["groups"][number]>();
    for (const m of messages) {
        const v = validateMessageBody(m.body, catalog, now);
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

/** The CLI's clock in epoch ms, for the consumers' event-age check. */
const clock = (ctx: Ctx) => () => ctx.now().getTime();

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

/** A target DLQ is not an SQS DLQ: only --only-valid redrives it (as on AWS, where move tasks refuse it). */
function targetDlqMoveTaskError(dlq: string, source: string): OpsError {
    return new OpsError(
        `Not a DLQ of an SQS queue: ${dlq} is the DLQ of an EventBridge target (events EventBridge could not deliver to ${source}). ` +
            "SQS message move tasks only take DLQs of SQS queues; use `--only-valid` to send its valid events to the queue",
    );
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

/** Reads up to `max` messages and makes them all visible again: inspect never deletes. */
async function peek(ctx: Ctx, url: string, options: ReadOptions): Promise<{ messages: Message[]; stoppedBy: StopReason; remaining: Remaining; releaseFailures: string[] }> {
    const reader = new DlqReader(ctx, url, options);
    let read: { stoppedBy: StopReason; remaining: Remaining };
    let releaseFailures: string[];
    try {
        const stoppedBy = await reader.readAll(async () => "hold");
        read = { stoppedBy, remaining: await reader.remaining() };
    } finally {
        // On success and on a failed receive alike: whatever was read becomes visible again.
        releaseFailures = await reader.releaseAll();
    }
    return { messages: [...reader.held.values()], ...read, releaseFailures };
}

export async function dlqInspect(ctx: Ctx, args: InspectArgs): Promise<number> {
    let target: { processedQueue: string; dlq: string; kind: string };
    let messages: DlqMessage[];
    let approximate: number | undefined;
    let releaseFailures: string[] = [];
    let stoppedBy: StopReason = "empty";
    let unread = 0;
    if (ctx.opts.local) {
        const pick = await findLocalDlq(ctx, await ctx.local().state(), args.queue, "dlq inspect", args.targetDlq);
        const dlq = await readLocalDlq(ctx, pick);
        target = { processedQueue: pick.queue.name, dlq: dlq.dlq ?? pick.dlq, kind: pick.targetDlq ? "target-dlq" : "dlq" };
        messages = dlq.messages.slice(0, args.read.max).map((m) => ({
            messageId: m.messageId,
            body: m.body,
            receiveCount: m.receiveCount,
            sentAt: m.sentTimestamp !== undefined ? new Date(Number(m.sentTimestamp)).toISOString() : undefined,
        }));
        approximate = dlq.messages.length;
        unread = dlq.messages.length - messages.length;
        if (unread > 0) stoppedBy = "max";
    } else {
        const pair = await resolveDlq(ctx, "dlq inspect", args.queue, args.prefix, args.targetDlq);
        target = { processedQueue: pair.processedQueue, dlq: pair.dlq.name, kind: pair.kind };
        approximate = Number((await queueAttributes(ctx, pair.dlq.url, ["ApproximateNumberOfMessages"])).ApproximateNumberOfMessages ?? NaN);
        const read = await peek(ctx, pair.dlq.url, args.read);
        messages = read.messages.map(toDlqMessage);
        releaseFailures = read.releaseFailures;
        stoppedBy = read.stoppedBy;
        unread = read.stoppedBy === "empty" ? 0 : read.remaining.unread;
    }
    const { validIds: _validIds, ...analysis } = analyze(messages, args.samples, clock(ctx));
    // A read cut short by something the operator did not ask for (not --max) is a failed check too.
    const incomplete = unread > 0 && stoppedBy !== "max" && stoppedBy !== "empty";
    const code = analysis.invalid.count > 0 || releaseFailures.length > 0 || incomplete ? EXIT_FAILED : EXIT_OK;
    if (ctx.opts.json) {
        ctx.json({
            ...target,
            approximateMessages: Number.isFinite(approximate) ? approximate : null,
            read: messages.length,
            unread,
            stoppedBy,
            deleted: 0,
            ...analysis,
            releaseFailures,
        });
        return code;
    }
    ctx.out(`DLQ ${target.dlq} of ${target.processedQueue}${target.kind === "target-dlq" ? " (EventBridge target DLQ)" : ""}: read ${plural(messages.length, "message")}` +
        `${Number.isFinite(approximate) ? ` of ~${approximate}` : ""}; none deleted, all visible again`);
    if (unread > 0) {
        const text = `~${unread} message(s) not read (${stopText(stoppedBy, args.read.max)})${stoppedBy === "max" ? ": raise --max to read them" : ": run the command again"}`;
        if (incomplete) ctx.err(text);
        else ctx.out(text);
    }
    if (messages.length === 0) {
        ctx.out("The DLQ is empty.");
        return code;
    }
    ctx.out(renderAnalysis(analysis).join("\n"));
    if (analysis.valid.count > 0) {
        ctx.out(`\nNext: \`${ctx.commandLine(`dlq redrive ${args.queue}`)} --only-valid\` moves the ${analysis.valid.count} valid message(s) back and leaves the poison ones.`);
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
    /** StartedTimestamps of the move tasks listed on the DLQ before ours (dlqMoveTask.ts findOurTask). */
    earlier: Set<number>;
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
    const tasks = pair.kind === "dlq" ? await listMoveTasks(ctx, dlqArn, 10) : [];
    const running = tasks.find((t) => t.Status === "RUNNING" || t.Status === "CANCELLING");
    if (running) {
        throw new OpsError(
            `A message move task is already ${running.Status} on ${pair.dlq.name} (started ${startedAtText(running)}, moved ${running.ApproximateNumberOfMessagesMoved ?? 0} ` +
                `of ~${running.ApproximateNumberOfMessagesToMove ?? "?"}); SQS allows one at a time. Wait for it, or cancel it: ` +
                `aws sqs cancel-message-move-task --task-handle ${running.TaskHandle ?? "<handle>"}`,
        );
    }
    const earlier = new Set(tasks.map((t) => Number(t.StartedTimestamp)).filter(Number.isFinite));
    return { pair: pair as Checked["pair"], dlqArn, sourceArn, fifo: dlqFifo, approximate: Number(dlq.ApproximateNumberOfMessages ?? 0), earlier };
}

export async function dlqRedrive(ctx: Ctx, args: RedriveArgs): Promise<number> {
    if (args.maxPerSecond !== undefined && args.onlyValid) throw new OpsError("--max-per-second sets a move task's rate; it does not apply to --only-valid", EXIT_USAGE);
    if (ctx.opts.local) return localRedrive(ctx, args);
    const pair = await resolveDlq(ctx, "dlq redrive", args.queue, args.prefix, args.targetDlq);
    const checked = await checkRedrive(ctx, pair, !args.onlyValid);
    if (args.onlyValid) return redriveValid(ctx, checked, args);
    const { dlq, source } = checked.pair;
    return runMoveTask(ctx, { dlq, source, dlqArn: checked.dlqArn, sourceArn: checked.sourceArn, approximate: checked.approximate, earlier: checked.earlier }, args);
}

interface MoveFailure {
    messageId: string;
    eventId?: string;
    stage: "send" | "delete";
    error: string;
}

/**
 * Moves only messages that pass validation: receive, send to the source, delete from the DLQ only
 * after the send succeeded. Poison messages (and anything not moved) stay hidden while the command
 * works and are made visible again at the end. Reads until the DLQ is empty (dlqRead.ts), then says
 * how many messages SQS still counts beyond the ones it holds.
 */
async function redriveValid(ctx: Ctx, c: Checked, args: RedriveArgs): Promise<number> {
    const { dlq, source } = c.pair;
    const catalog = buildEventCatalog();
    const reader = new DlqReader(ctx, dlq.url, args.read);
    const poison: DlqMessage[] = [];
    const valid: DlqMessage[] = [];
    const moved: { messageId: string; newMessageId?: string; eventId?: string }[] = [];
    const failures: MoveFailure[] = [];
    let releaseFailures: string[] = [];
    let stoppedBy: StopReason;
    let remaining: Remaining;
    // Held: poison, not sent, or a dry run (visible again at the end); done: sent (deleted, or a possible duplicate).
    const decide = async (m: Message): Promise<"hold" | "done"> => {
        const id = m.MessageId!;
        const v = validateMessageBody(m.Body ?? "", catalog, clock(ctx));
        if (!v.valid) {
            poison.push(toDlqMessage(m));
            return "hold";
        }
        valid.push(toDlqMessage(m));
        if (args.dryRun) return "hold";
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
            return "hold"; // not sent: it stays in the DLQ, visible again at the end
        }
        try {
            await ctx.call("sqs:DeleteMessage", () => ctx.aws().sqs.send(new DeleteMessageCommand({ QueueUrl: dlq.url, ReceiptHandle: m.ReceiptHandle })));
            moved.push({ messageId: id, newMessageId, eventId: v.eventId });
        } catch (error) {
            failures.push({ messageId: id, eventId: v.eventId, stage: "delete", error: errorText(error) });
        }
        return "done"; // sent: never sent again in this run, even if SQS hands it out again
    };
    try {
        stoppedBy = await reader.readAll(decide);
        remaining = await reader.remaining();
    } finally {
        releaseFailures = await reader.releaseAll();
    }
    // Stopped before SQS said the DLQ was empty, with messages left: valid ones may be among them.
    const unread = stoppedBy === "empty" ? 0 : remaining.unread;
    const { validIds: _ids, ...analysis } = analyze([...valid, ...poison], args.samples, clock(ctx));
    const duplicates = failures.filter((f) => f.stage === "delete");
    const code = failures.length > 0 || poison.length > 0 || releaseFailures.length > 0 || unread > 0 ? EXIT_FAILED : EXIT_OK;
    if (ctx.opts.json) {
        ctx.json({
            dryRun: args.dryRun,
            dlq: dlq.name,
            source: source.name,
            read: valid.length + poison.length,
            moved: args.dryRun ? 0 : moved.length,
            wouldMove: args.dryRun ? valid.length : undefined,
            left: poison.length,
            unread,
            stoppedBy,
            remaining,
            ...analysis,
            movedMessages: moved,
            failures,
            releaseFailures,
        });
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
    if (unread > 0) {
        ctx.err(`~${unread} message(s) in ${dlq.name} were not read (${stopText(stoppedBy, args.read.max)}): valid ones may be among them; run the command again`);
    } else if (remaining.unread > 0) {
        ctx.out(`(SQS still counts ~${remaining.unread} message(s) beyond the ones this run left: in flight elsewhere, or its approximate counts have not caught up yet)`);
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
    const pick = await findLocalDlq(ctx, await runtime.state(), args.queue, "dlq redrive", args.targetDlq);
    const { queue } = pick;
    if (pick.targetDlq && !args.onlyValid) throw targetDlqMoveTaskError(pick.targetDlq, queue.name);
    const dlq = await readLocalDlq(ctx, pick);
    const { validIds, ...analysis } = analyze(dlq.messages.map((m) => ({ messageId: m.messageId, body: m.body, receiveCount: m.receiveCount })), args.samples, clock(ctx));
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
        ctx.err(`expected to move ${expected} but the local runtime moved ${moved}${notFound.length ? ` (no longer in the DLQ: ${notFound.join(", ")})` : ""}; run \`${ctx.commandLine(`dlq inspect ${args.queue}${pick.targetDlq ? " --target-dlq" : ""}`)}\``);
    }
    if (left) ctx.out(renderAnalysis({ valid: { count: 0, samples: [] }, invalid: analysis.invalid }).slice(1).join("\n"));
    return code;
}
