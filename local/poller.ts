/**
 * A local SQS event source mapping: polls a queue, gathers batches (batch size, batching window),
 * invokes the function with Lambda's SQS event shape, at most `maximumConcurrency` batches at once,
 * and settles each batch the way Lambda does:
 * - success: every message is deleted; with ReportBatchItemFailures, only the messages listed in
 *   `batchItemFailures` stay (they become visible again when their visibility timeout runs out);
 * - an error, a timeout or an invalid partial-batch response: the whole batch stays.
 */
import { ReceivedMessage, LocalQueue } from "./queues";

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

export type InvokeOutcome = { ok: true; value: unknown } | { ok: false; error: { errorType: string; errorMessage: string } };

export type PollerEvent =
    | { kind: "batch-processed"; queue: string; functionName: string; size: number; failed: string[]; durationMs: number }
    | { kind: "batch-failed"; queue: string; functionName: string; size: number; error: string; injected?: "before" | "after"; receiveCounts: number[] };

export interface PollerOptions {
    queue: LocalQueue;
    functionName: string;
    region: string;
    batchSize: number;
    batchingWindowMs: number;
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

    private async run(): Promise<void> {
        const { queue, batchSize, batchingWindowMs, maxConcurrency } = this.options;
        while (this.running) {
            if (this.inFlight.size >= maxConcurrency) {
                await Promise.race([...this.inFlight]);
                continue;
            }
            const batch = queue.receive(batchSize);
            if (batch.length === 0) {
                await this.sleep(queue.nextVisibleAt());
                continue;
            }
            if (batchingWindowMs > 0 && batch.length < batchSize) {
                const deadline = Date.now() + batchingWindowMs;
                while (this.running && batch.length < batchSize && Date.now() < deadline) {
                    await this.sleep(Math.min(deadline, queue.nextVisibleAt() ?? deadline));
                    batch.push(...queue.receive(batchSize - batch.length));
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
        const failBatch = (error: string, injected?: "before" | "after") =>
            this.options.onEvent?.({ kind: "batch-failed", queue: queue.name, functionName, size: batch.length, error, injected, receiveCounts });

        const random = this.options.random ?? Math.random;
        const rate = this.options.failRate?.() ?? 0;
        const inject = rate > 0 && random() < rate ? (random() < 0.5 ? "before" : "after") : undefined;
        if (inject === "before") {
            failBatch("injected fault (--fail-rate) before the function ran", "before");
            return;
        }
        const outcome = await this.options.invoke(event);
        if (inject === "after") {
            failBatch("injected fault (--fail-rate) after the function ran: its side effects happened", "after");
            return;
        }
        if (!outcome.ok) {
            failBatch(`${outcome.error.errorType}: ${outcome.error.errorMessage}`);
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
        for (const m of batch) if (!keep.includes(m.messageId)) queue.delete(m.receiptHandle);
        this.options.onEvent?.({ kind: "batch-processed", queue: queue.name, functionName, size: batch.length, failed: keep, durationMs: Date.now() - started });
    }
}
