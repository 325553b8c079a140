/**
 * Local SQS queues with the semantics consumers depend on: visibility timeout, receive counts,
 * redrive to the dead-letter queue once a message would be received more than `maxReceiveCount`
 * times, retention, delivery delay, receipt handles, FIFO message groups and deduplication, and the
 * DLQ redrive (the local twin of a message move task: moved messages are new messages).
 * Time comes from an injected clock so the semantics are tested without waiting.
 */
import { createHash, randomUUID } from "crypto";
import { EventEmitter } from "events";

export interface Clock {
    now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface LocalQueueOptions {
    name: string;
    arn: string;
    url: string;
    fifo?: boolean;
    contentBasedDeduplication?: boolean;
    visibilityTimeoutMs: number;
    retentionMs: number;
    delayMs?: number;
    /** FIFO deduplication interval (5 minutes on AWS, scaled). */
    deduplicationMs?: number;
    clock?: Clock;
}

export interface StoredMessage {
    messageId: string;
    body: string;
    md5OfBody: string;
    sentTimestamp: number;
    receiveCount: number;
    firstReceiveTimestamp?: number;
    visibleAt: number;
    receiptHandle?: string;
    messageGroupId?: string;
    deduplicationId?: string;
    messageAttributes?: Record<string, { dataType: string; stringValue?: string }>;
}

/** A message as a consumer receives it (SQS event record fields). */
export interface ReceivedMessage {
    messageId: string;
    receiptHandle: string;
    body: string;
    md5OfBody: string;
    attributes: Record<string, string>;
    messageAttributes: Record<string, { dataType: string; stringValue?: string }>;
}

export interface SendOptions {
    messageGroupId?: string;
    deduplicationId?: string;
    delayMs?: number;
    messageAttributes?: StoredMessage["messageAttributes"];
}

/** What a queue reports as it works (the runtime turns these into flow lines and counters). */
export type QueueEvent =
    | { kind: "sent"; queue: string; messageId: string }
    | { kind: "dead-lettered"; queue: string; dlq: string; messageId: string; receiveCount: number }
    | { kind: "expired"; queue: string; messageId: string }
    | { kind: "deduplicated"; queue: string; messageId: string };

export class QueueError extends Error {
    constructor(queue: string, message: string) {
        super(`queue ${queue}: ${message}`);
        this.name = "QueueError";
    }
}

/**
 * A change of a queue's stored messages, as the on-disk journal records it (queueStore.ts), visibility
 * included: after a crash, a message keeps the visibility it had, as SQS keeps it (a message held for a
 * running invocation stays hidden for that hold, see timing.ts). `visibleAt` is absent from entries
 * written before it was recorded: such a message comes back visible.
 */
export type QueueMutation =
    | { op: "put"; message: StoredMessage }
    | { op: "received"; messages: { messageId: string; receiveCount: number; firstReceiveTimestamp: number; visibleAt?: number }[] }
    | { op: "visibility"; messageId: string; visibleAt: number }
    | { op: "delete"; messageIds: string[] };

/** SQS's limit on a message body (1 MiB since 2025). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * A character SQS refuses in a message body (InvalidMessageContents): it allows #x9 | #xA | #xD |
 * #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF (XML 1.0's characters), so NUL, the other control
 * characters, a lone surrogate and U+FFFE/U+FFFF are out.
 */
const NOT_AN_SQS_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** SQS's InvalidMessageContents message for the first character it refuses in `body`, if any. */
export function invalidMessageContents(body: string): string | undefined {
    const found = NOT_AN_SQS_CHARACTER.exec(body);
    if (!found) return undefined;
    const hex = found[0].codePointAt(0)!.toString(16).toUpperCase();
    return `InvalidMessageContents: invalid character '#x${hex}' at index ${found.index} of the message body; the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`;
}

export class LocalQueue extends EventEmitter {
    readonly name: string;
    readonly arn: string;
    readonly url: string;
    readonly fifo: boolean;
    visibilityTimeoutMs: number;
    readonly retentionMs: number;
    readonly delayMs: number;
    private readonly contentBasedDeduplication: boolean;
    private readonly deduplicationMs: number;
    private readonly clock: Clock;
    private messages: StoredMessage[] = [];
    private readonly dedup = new Map<string, { messageId: string; until: number }>();
    /** Where messages go after `maxReceiveCount` receives. */
    deadLetter?: { queue: LocalQueue; maxReceiveCount: number };
    /**
     * Receives every change of the stored messages before it is acknowledged (the on-disk journal).
     * A `put` that throws fails the send: a message is never accepted without being recorded.
     */
    recorder?: (mutation: QueueMutation) => void;

    constructor(options: LocalQueueOptions) {
        super();
        this.name = options.name;
        this.arn = options.arn;
        this.url = options.url;
        this.fifo = Boolean(options.fifo);
        this.contentBasedDeduplication = Boolean(options.contentBasedDeduplication);
        this.visibilityTimeoutMs = options.visibilityTimeoutMs;
        this.retentionMs = options.retentionMs;
        this.delayMs = options.delayMs ?? 0;
        this.deduplicationMs = options.deduplicationMs ?? 5 * 60 * 1000;
        this.clock = options.clock ?? systemClock;
    }

    private emitEvent(event: QueueEvent): void {
        this.emit("event", event);
    }

    /** Wakes pollers: something may have become receivable. */
    private changed(): void {
        this.emit("change");
    }

    private record(mutation: QueueMutation): void {
        if (mutation.op === "delete" && mutation.messageIds.length === 0) return;
        this.recorder?.(mutation);
    }

    send(body: string, options: SendOptions = {}): { messageId: string; duplicate: boolean } {
        if (typeof body !== "string" || body.length === 0) throw new QueueError(this.name, "message body must be a non-empty string");
        if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) throw new QueueError(this.name, `message body is ${Buffer.byteLength(body)} bytes, over the ${MAX_MESSAGE_BYTES}-byte limit`);
        const invalid = invalidMessageContents(body);
        if (invalid) throw new QueueError(this.name, invalid);
        const now = this.clock.now();
        let deduplicationId = options.deduplicationId;
        if (this.fifo) {
            if (!options.messageGroupId) throw new QueueError(this.name, "a FIFO queue needs a MessageGroupId on every message");
            if (!deduplicationId) {
                if (!this.contentBasedDeduplication) throw new QueueError(this.name, "a FIFO queue without content-based deduplication needs a MessageDeduplicationId");
                deduplicationId = createHash("sha256").update(body).digest("hex");
            }
            for (const [key, entry] of this.dedup) if (entry.until <= now) this.dedup.delete(key);
            const seen = this.dedup.get(deduplicationId);
            if (seen) {
                this.emitEvent({ kind: "deduplicated", queue: this.name, messageId: seen.messageId });
                return { messageId: seen.messageId, duplicate: true };
            }
        }
        const message: StoredMessage = {
            messageId: randomUUID(),
            body,
            md5OfBody: createHash("md5").update(body).digest("hex"),
            sentTimestamp: now,
            receiveCount: 0,
            visibleAt: now + (this.fifo ? 0 : (options.delayMs ?? this.delayMs)),
            messageGroupId: options.messageGroupId,
            deduplicationId,
            messageAttributes: options.messageAttributes,
        };
        // Recorded first: a message that could not be recorded is not accepted.
        this.record({ op: "put", message });
        if (this.fifo && deduplicationId) this.dedup.set(deduplicationId, { messageId: message.messageId, until: now + this.deduplicationMs });
        this.messages.push(message);
        this.emitEvent({ kind: "sent", queue: this.name, messageId: message.messageId });
        this.changed();
        return { messageId: message.messageId, duplicate: false };
    }

    /** Puts an existing message (same id, timestamps, receive count) on this queue: the DLQ side of a redrive policy. */
    private adopt(message: StoredMessage): void {
        // A FIFO message moved to a FIFO DLQ takes its message id as deduplication id (SQS does the same).
        const deduplicationId = this.fifo ? message.messageId : message.deduplicationId;
        const adopted = { ...message, deduplicationId, visibleAt: this.clock.now(), receiptHandle: undefined };
        this.record({ op: "put", message: adopted });
        this.messages.push(adopted);
        this.changed();
    }

    private expire(now: number): void {
        const kept: StoredMessage[] = [];
        const expired: StoredMessage[] = [];
        for (const m of this.messages) (now - m.sentTimestamp >= this.retentionMs ? expired : kept).push(m);
        if (expired.length === 0) return;
        this.record({ op: "delete", messageIds: expired.map((m) => m.messageId) });
        this.messages = kept;
        for (const m of expired) this.emitEvent({ kind: "expired", queue: this.name, messageId: m.messageId });
    }

    /**
     * Receives up to `max` visible messages and hides them for the visibility timeout. A message
     * that has already been received `maxReceiveCount` times moves to the DLQ instead of being
     * received again (SQS: "when the ReceiveCount exceeds maxReceiveCount").
     */
    receive(max: number, visibilityTimeoutMs = this.visibilityTimeoutMs): ReceivedMessage[] {
        const now = this.clock.now();
        this.expire(now);
        const out: ReceivedMessage[] = [];
        const busyGroups = new Set(this.fifo ? this.messages.filter((m) => m.visibleAt > now && m.receiveCount > 0).map((m) => m.messageGroupId) : []);
        const moved: StoredMessage[] = [];
        const received: StoredMessage[] = [];
        for (const m of this.messages) {
            if (out.length >= max) break;
            if (m.visibleAt > now) continue;
            if (this.fifo && busyGroups.has(m.messageGroupId)) continue;
            if (this.deadLetter && m.receiveCount >= this.deadLetter.maxReceiveCount) {
                moved.push(m);
                continue;
            }
            m.receiveCount += 1;
            m.firstReceiveTimestamp ??= now;
            m.visibleAt = now + visibilityTimeoutMs;
            m.receiptHandle = randomUUID();
            if (this.fifo) busyGroups.add(m.messageGroupId);
            received.push(m);
            out.push(toReceived(m));
        }
        if (received.length > 0) {
            this.record({
                op: "received",
                messages: received.map((m) => ({ messageId: m.messageId, receiveCount: m.receiveCount, firstReceiveTimestamp: m.firstReceiveTimestamp!, visibleAt: m.visibleAt })),
            });
        }
        if (moved.length > 0) {
            // On the DLQ before it leaves this queue: a crash in between duplicates, never loses.
            for (const m of moved) this.deadLetter!.queue.adopt(m);
            this.record({ op: "delete", messageIds: moved.map((m) => m.messageId) });
            this.messages = this.messages.filter((m) => !moved.includes(m));
            for (const m of moved) {
                this.emitEvent({ kind: "dead-lettered", queue: this.name, dlq: this.deadLetter!.queue.name, messageId: m.messageId, receiveCount: m.receiveCount });
            }
        }
        return out;
    }

    /** Deletes a received message. A stale receipt handle (the message was received again since) deletes nothing, as on SQS. */
    delete(receiptHandle: string): boolean {
        const index = this.messages.findIndex((m) => m.receiptHandle === receiptHandle);
        if (index < 0) return false;
        this.record({ op: "delete", messageIds: [this.messages[index].messageId] });
        this.messages.splice(index, 1);
        this.changed();
        return true;
    }

    /** ChangeMessageVisibility: 0 makes the message receivable at once. */
    changeVisibility(receiptHandle: string, visibilityTimeoutMs: number): boolean {
        const message = this.messages.find((m) => m.receiptHandle === receiptHandle);
        if (!message) return false;
        message.visibleAt = this.clock.now() + visibilityTimeoutMs;
        this.record({ op: "visibility", messageId: message.messageId, visibleAt: message.visibleAt });
        this.changed();
        return true;
    }

    counts(): { visible: number; inFlight: number; delayed: number } {
        const now = this.clock.now();
        this.expire(now);
        let visible = 0;
        let inFlight = 0;
        let delayed = 0;
        for (const m of this.messages) {
            if (m.visibleAt <= now) visible++;
            else if (m.receiveCount > 0) inFlight++;
            else delayed++;
        }
        return { visible, inFlight, delayed };
    }

    /** When the next hidden message becomes visible (for pollers' timers), if any is hidden. */
    nextVisibleAt(): number | undefined {
        const now = this.clock.now();
        let next: number | undefined;
        for (const m of this.messages) if (m.visibleAt > now && (next === undefined || m.visibleAt < next)) next = m.visibleAt;
        return next;
    }

    /** Every message, oldest first, without receiving any (DLQ inspection). */
    peek(): StoredMessage[] {
        this.expire(this.clock.now());
        return this.messages.map((m) => ({ ...m }));
    }

    /**
     * Moves messages of this queue (a DLQ) to `destination` as new messages (new ids, new
     * timestamps, receive count 0), like an SQS message move task. `messageIds` limits the move;
     * messages in flight are left alone. Returns the ids moved, old -> new.
     */
    moveTo(destination: LocalQueue, messageIds?: string[]): { from: string; to: string }[] {
        const now = this.clock.now();
        this.expire(now);
        const wanted = messageIds ? new Set(messageIds) : undefined;
        const moving = this.messages.filter((m) => m.visibleAt <= now && (!wanted || wanted.has(m.messageId)));
        const moved: { from: string; to: string }[] = [];
        for (const m of moving) {
            const { messageId } = destination.send(m.body, { messageGroupId: m.messageGroupId, deduplicationId: destination.fifo ? m.messageId : undefined, messageAttributes: m.messageAttributes });
            moved.push({ from: m.messageId, to: messageId });
        }
        this.record({ op: "delete", messageIds: moving.map((m) => m.messageId) });
        this.messages = this.messages.filter((m) => !moving.includes(m));
        if (moving.length > 0) this.changed();
        return moved;
    }

    /** Drops every message (tests and `purge`). */
    purge(): number {
        const n = this.messages.length;
        this.record({ op: "delete", messageIds: this.messages.map((m) => m.messageId) });
        this.messages = [];
        return n;
    }

    /** Messages as JSON for the on-disk snapshot, with their visibility (a receipt handle dies with the process). */
    snapshot(): StoredMessage[] {
        return this.messages.map((m) => ({ ...m, receiptHandle: undefined }));
    }

    /**
     * Puts saved messages back (at start, before anything is recorded), with the visibility they had,
     * as SQS keeps it: a message that was in flight stays hidden until its visibility (for a message a
     * poller held for its invocation, the hold) runs out, then is received again with a new receipt
     * handle. A delayed message keeps its delay.
     */
    restore(messages: StoredMessage[]): void {
        this.messages.push(...messages.map((m) => ({ ...m, receiptHandle: undefined })));
        this.changed();
    }
}

function toReceived(m: StoredMessage): ReceivedMessage {
    const attributes: Record<string, string> = {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentTimestamp),
        SenderId: "AIDAIENQZJOLO23YVJ4VO",
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp),
    };
    if (m.messageGroupId) attributes.MessageGroupId = m.messageGroupId;
    if (m.deduplicationId) attributes.MessageDeduplicationId = m.deduplicationId;
    return {
        messageId: m.messageId,
        receiptHandle: m.receiptHandle!,
        body: m.body,
        md5OfBody: m.md5OfBody,
        attributes,
        messageAttributes: m.messageAttributes ?? {},
    };
}
