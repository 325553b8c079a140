/**
 * A local SQS event source mapping: polls a queue, gathers batches (batch size, batching window),
 * invokes the function with Lambda's SQS event shape, at most `maximumConcurrency` batches at once,
 * and settles each batch the way Lambda does:
 * - success: every message is deleted; with ReportBatchItemFailures, only the messages listed in
 *   `batchItemFailures` stay (they become visible again when their visibility timeout runs out);
 * - an error, a timeout or an invalid partial-batch response: the whole batch stays.
 * The messages of a batch stay hidden while its invocation runs (`holdMs`), however short the
 * queue's scaled visibility timeout: on AWS, a visibility timeout of at least 6 x the function's
 * timeout guarantees that a running batch is never delivered again, but locally the visibility is
 * scaled down and the function's timeout is not (see timing.ts). When the invocation ends, the
 * messages that stay become visible when the queue's visibility timeout, counted from their
 * receive, runs out (at once if it already has), as on AWS. When it was killed (its timeout, a
 * crashed environment), they stay hidden until `killedGraceMs` after its deadline: what it left
 * behind (a consumer's lease) lasts until its deadline plus a margin, and on AWS the visibility
 * timeout (>= 6 x the function timeout) would outlast that too.
 */
import { ReceivedMessage, LocalQueue } from "./queues";
import { KILLED_INVOCATION_GRACE_MS } from "./timing";

export interface SqsEventRecord {
    messageId: string;
    receiptHandle: string;
    body: string;
    attributes: Record<string, string>;
    messageAttributes: Record<string, { dataType: string; stringValue?: string }>;
    md5OfBody: string;
    eventSource: "aws:sqs";
    eventSourceARN: string;
    awsRegion: string;
}

export type InvokeOutcome =
    | { ok: true; value: unknown }
    | {
          ok: false;
          error: { errorType: string; errorMessage: string };
          /** Set when the invocation was killed (timeout, crashed environment): what it left behind may last until `until`. */
          killed?: { until: number };
      };

export type PollerEvent =
    | { kind: "batch-processed"; queue: string; functionName: string; size: number; failed: string[]; durationMs: number }
    | {
          kind: "batch-failed";
          queue: string;
          functionName: string;
          size: number;
          error: string;
          injected?: "before" | "after";
          receiveCounts: number[];
          /** Set when the invocation was killed: how long its messages stay hidden (see settle). */
          heldMs?: number;
      };

export interface PollerOptions {
    queue: LocalQueue;
    functionName: string;
    region: string;
    batchSize: number;
    batchingWindowMs: number;
    /** How long received messages stay hidden while their batch may still run. Default: the queue's visibility timeout. */
    holdMs?: number;
    /** How long after a killed invocation's deadline its messages stay hidden. Default KILLED_INVOCATION_GRACE_MS. */
    killedGraceMs?: number;
    maxConcurrency: number;
    reportBatchItemFailures: boolean;
    invoke(event: { Records: SqsEventRecord[] }): Promise<InvokeOutcome>;
    /** Fault injection: probability that an invocation fails (half before, half after the function ran). */
    failRate?(): number;
    random?(): number;
    onEvent?(event: PollerEvent): void;
}

/** Reads a partial batch response: the message ids to keep, or undefined when the whole batch failed. */
export function failedItems(response: unknown, batch: { messageId: string }[]): { keep: string[] } | { invalid: string } {
    if (response === null || response === undefined) return { keep: [] };
    if (typeof response !== "object" || Array.isArray(response)) return { keep: [] };
    const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
    if (failures === null || failures === undefined) return { keep: [] };
    if (!Array.isArray(failures)) return { invalid: "batchItemFailures is not a list" };
    const ids = new Set(batch.map((m) => m.messageId));
    const keep: string[] = [];
    for (const failure of failures) {
        const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
        // Lambda treats an empty, null or unknown itemIdentifier as a failure of the whole batch.
        if (typeof id !== "string" || id === "" || !ids.has(id)) return { invalid: `itemIdentifier ${JSON.stringify(id)} is not a message id of the batch` };
        keep.push(id);
    }
    return { keep };
}

export class QueuePoller {
    private running = false;
    private inFlight = new Set<Promise<void>>();
    private wake?: () => void;
    private timer?: NodeJS.Timeout;
    private loop?: Promise<void>;
    private readonly onChange = () => this.wake?.();
    /** When each message of a running batch was received, by receipt handle. */
    private readonly receivedAt = new Map<string, number>();

    constructor(private readonly options: PollerOptions) {}

    start(): void {
        if (this.running) return;
        this.running = true;
        this.options.queue.on("change", this.onChange);
        this.loop = this.run();
    }

    /** Stops polling and waits for the batches being processed. */
    async stop(): Promise<void> {
        this.running = false;
        this.options.queue.off("change", this.onChange);
        this.wake?.();
        await this.loop;
        await Promise.all([...this.inFlight]);
    }

    /** Waits until the queue changes, `untilMs` passes or the poller stops. */
    private sleep(untilMs?: number): Promise<void> {
        return new Promise((resolve) => {
            const done = () => {
                clearTimeout(this.timer);
                this.wake = undefined;
                resolve();
            };
            this.wake = done;
            if (untilMs !== undefined) this.timer = setTimeout(done, Math.max(1, untilMs - Date.now()));
        });
    }

    /** Receives up to `max` messages, hidden for the hold, noting when each was received. */
    private receive(max: number): ReceivedMessage[] {
        const { queue } = this.options;
        const received = queue.receive(max, Math.max(queue.visibilityTimeoutMs, this.options.holdMs ?? 0));
        const now = Date.now();
        for (const m of received) this.receivedAt.set(m.receiptHandle, now);
        return received;
    }

    /**
     * Ends a batch: deletes the messages that succeeded; the others become visible once the queue's
     * visibility timeout, counted from their receive, has run out, and, when the invocation was
     * killed, not before `killedGraceMs` after `killedUntil`. Returns how long the kept ones stay hidden.
     */
    private settle(batch: ReceivedMessage[], keep: string[], killedUntil?: number): number {
        const { queue } = this.options;
        const now = Date.now();
        const notBefore = killedUntil === undefined ? 0 : killedUntil + (this.options.killedGraceMs ?? KILLED_INVOCATION_GRACE_MS);
        let longest = 0;
        for (const m of batch) {
            const receivedAt = this.receivedAt.get(m.receiptHandle) ?? now;
            this.receivedAt.delete(m.receiptHandle);
            if (!keep.includes(m.messageId)) {
                queue.delete(m.receiptHandle);
                continue;
            }
            const hiddenMs = Math.max(0, receivedAt + queue.visibilityTimeoutMs - now, notBefore - now);
            queue.changeVisibility(m.receiptHandle, hiddenMs);
            longest = Math.max(longest, hiddenMs);
        }
        return longest;
    }

    private async run(): Promise<void> {
        const { queue, batchSize, batchingWindowMs, maxConcurrency } = this.options;
        while (this.running) {
            if (this.inFlight.size >= maxConcurrency) {
                await Promise.race([...this.inFlight]);
                continue;
            }
            const batch = this.receive(batchSize);
            if (batch.length === 0) {
                await this.sleep(queue.nextVisibleAt());
                continue;
            }
            if (batchingWindowMs > 0 && batch.length < batchSize) {
                const deadline = Date.now() + batchingWindowMs;
                while (this.running && batch.length < batchSize && Date.now() < deadline) {
                    await this.sleep(Math.min(deadline, queue.nextVisibleAt() ?? deadline));
                    batch.push(...this.receive(batchSize - batch.length));
                }
            }
            const work: Promise<void> = this.process(batch).finally(() => this.inFlight.delete(work));
            this.inFlight.add(work);
        }
    }

    private async process(batch: ReceivedMessage[]): Promise<void> {
        const { queue, functionName, region } = this.options;
        const event = {
            Records: batch.map<SqsEventRecord>((m) => ({
                messageId: m.messageId,
                receiptHandle: m.receiptHandle,
                body: m.body,
                attributes: m.attributes,
                messageAttributes: m.messageAttributes,
                md5OfBody: m.md5OfBody,
                eventSource: "aws:sqs",
                eventSourceARN: queue.arn,
                awsRegion: region,
            })),
        };
        const started = Date.now();
        const receiveCounts = batch.map((m) => Number(m.attributes.ApproximateReceiveCount));
        const failBatch = (error: string, injected?: "before" | "after", killedUntil?: number) => {
            const heldMs = this.settle(batch, batch.map((m) => m.messageId), killedUntil);
            this.options.onEvent?.({ kind: "batch-failed", queue: queue.name, functionName, size: batch.length, error, injected, receiveCounts, ...(killedUntil === undefined ? {} : { heldMs }) });
        };

        const random = this.options.random ?? Math.random;
        const rate = this.options.failRate?.() ?? 0;
        const inject = rate > 0 && random() < rate ? (random() < 0.5 ? "before" : "after") : undefined;
        if (inject === "before") {
            failBatch("injected fault (--fail-rate) before the function ran", "before");
            return;
        }
        const outcome = await this.options.invoke(event);
        if (inject === "after") {
            failBatch("injected fault (--fail-rate) after the function ran: its side effects happened", "after", outcome.ok ? undefined : outcome.killed?.until);
            return;
        }
        if (!outcome.ok) {
            failBatch(`${outcome.error.errorType}: ${outcome.error.errorMessage}`, undefined, outcome.killed?.until);
            return;
        }
        let keep: string[] = [];
        if (this.options.reportBatchItemFailures) {
            const parsed = failedItems(outcome.value, batch);
            if ("invalid" in parsed) {
                failBatch(`invalid partial batch response: ${parsed.invalid}`);
                return;
            }
            keep = parsed.keep;
        }
        this.settle(batch, keep);
        this.options.onEvent?.({ kind: "batch-processed", queue: queue.name, functionName, size: batch.length, failed: keep, durationMs: Date.now() - started });
    }
}
