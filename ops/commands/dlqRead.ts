/**
 * Reading a DLQ on AWS without losing anything and without stopping early.
 *
 * Messages the command keeps (inspect: all of them; redrive --only-valid: poison ones, failed sends,
 * everything on a dry run) are hidden by the visibility timeout of the receive. The reader extends it
 * while it works (ChangeMessageVisibility, from the time of the call), so a held message does not come
 * back in a later receive; if one does anyway, its newer receipt handle is kept and reading goes on.
 * Reading ends when a long-poll receive finds the DLQ empty, at `max` messages, when SQS keeps handing
 * out only messages already read, or on Ctrl-C; what SQS still counts is then read from the queue's
 * attributes, so a stop before the end is said, never silent.
 */
import { ChangeMessageVisibilityBatchCommand, Message, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { Ctx } from "../context";
import { queueAttributes } from "../discovery";

export interface ReadOptions {
    /** Most messages to read. */
    max: number;
    /** Seconds a read message stays hidden at a time; extended while the command works, released (0) at the end. */
    visibilityTimeout: number;
    /** Long-poll seconds per ReceiveMessage (so an empty answer means the queue has no visible message). */
    waitSeconds: number;
}

/** Why reading stopped: the DLQ had no visible message left, --max, only repeats, or Ctrl-C. */
export type StopReason = "empty" | "max" | "repeats" | "aborted";

/** Receives in a row that bring only messages already read before the reader stops (and says so). */
export const MAX_REPEAT_ONLY_RECEIVES = 5;

/** What to do with a message read for the first time: keep it hidden until the end, or never touch it again (moved). */
export type Decision = "hold" | "done";

/** What SQS still counts in the DLQ after a read. */
export interface Remaining {
    visible: number;
    inFlight: number;
    /** visible + in flight, minus the messages this run holds: messages it did not read (an estimate: the counts lag). */
    unread: number;
}

export class DlqReader {
    /** Messages held hidden by this run, by message id, with their newest receipt handle. */
    readonly held = new Map<string, Message>();
    /** Messages finished with (moved): skipped if SQS hands them out again. */
    private readonly done = new Set<string>();
    /** When each held message becomes visible again, in ms. */
    private readonly hiddenUntil = new Map<string, number>();
    /** Receipt handles whose visibility could not be extended (the message may come back before the end). */
    readonly extendFailures: string[] = [];

    constructor(
        private readonly ctx: Ctx,
        private readonly url: string,
        private readonly options: ReadOptions,
    ) {}

    /** Distinct messages read so far. */
    get read(): number {
        return this.held.size + this.done.size;
    }

    /** Receives until the DLQ is empty or another stop (StopReason); `decide` runs once per message. */
    async readAll(decide: (message: Message) => Promise<Decision>): Promise<StopReason> {
        let repeatOnly = 0;
        while (this.read < this.options.max) {
            if (this.ctx.aborted) return "aborted";
            await this.keepHidden();
            const batch = await this.receive(this.options.max - this.read);
            if (batch.length === 0) return "empty";
            const receivedAt = this.ctx.now().getTime();
            let fresh = 0;
            for (const m of batch) {
                const id = m.MessageId!;
                if (this.done.has(id)) continue;
                if (this.held.has(id)) {
                    // Back before the end (its extension failed or came late): keep the newer handle.
                    this.hold(m, receivedAt);
                    continue;
                }
                fresh++;
                if ((await decide(m)) === "done") this.done.add(id);
                else this.hold(m, receivedAt);
            }
            repeatOnly = fresh === 0 ? repeatOnly + 1 : 0;
            if (repeatOnly >= MAX_REPEAT_ONLY_RECEIVES) return "repeats";
        }
        return "max";
    }

    /** ApproximateNumberOfMessages (+NotVisible) of the DLQ, and the estimate of messages not read. Call before releaseAll. */
    async remaining(): Promise<Remaining> {
        const attrs = await queueAttributes(this.ctx, this.url, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]);
        const visible = Number(attrs.ApproximateNumberOfMessages ?? 0) || 0;
        const inFlight = Number(attrs.ApproximateNumberOfMessagesNotVisible ?? 0) || 0;
        return { visible, inFlight, unread: Math.max(0, visible + inFlight - this.held.size) };
    }

    /** Makes every held message visible again at once (ChangeMessageVisibility 0); resolves with the failures. */
    async releaseAll(): Promise<string[]> {
        return this.changeVisibility([...this.held.values()], 0);
    }

    private hold(message: Message, receivedAt: number): void {
        this.held.set(message.MessageId!, message);
        this.hiddenUntil.set(message.MessageId!, receivedAt + this.options.visibilityTimeout * 1000);
    }

    /** Extends the visibility of held messages that have less than half of their timeout left. */
    private async keepHidden(): Promise<void> {
        const now = this.ctx.now().getTime();
        const timeout = this.options.visibilityTimeout * 1000;
        const due = [...this.held.values()].filter((m) => this.hiddenUntil.get(m.MessageId!)! - now <= timeout / 2);
        if (due.length === 0) return;
        const failed = new Set(await this.changeVisibility(due, this.options.visibilityTimeout));
        this.extendFailures.push(...failed);
        for (const m of due) this.hiddenUntil.set(m.MessageId!, now + timeout);
    }

    private async receive(max: number): Promise<Message[]> {
        const { Messages } = await this.ctx.call("sqs:ReceiveMessage", () =>
            this.ctx.aws().sqs.send(
                new ReceiveMessageCommand({
                    QueueUrl: this.url,
                    MaxNumberOfMessages: Math.max(1, Math.min(10, max)),
                    VisibilityTimeout: this.options.visibilityTimeout,
                    WaitTimeSeconds: this.options.waitSeconds,
                    MessageSystemAttributeNames: ["All"],
                    MessageAttributeNames: ["All"],
                }),
            ),
        );
        return Messages ?? [];
    }

    /** ChangeMessageVisibilityBatch in batches of 10; resolves with "<message id>: <why>" per failure. */
    private async changeVisibility(messages: Message[], visibilityTimeout: number): Promise<string[]> {
        const failures: string[] = [];
        for (let i = 0; i < messages.length; i += 10) {
            const batch = messages.slice(i, i + 10);
            try {
                const { Failed } = await this.ctx.call("sqs:ChangeMessageVisibilityBatch", () =>
                    this.ctx.aws().sqs.send(
                        new ChangeMessageVisibilityBatchCommand({
                            QueueUrl: this.url,
                            Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: visibilityTimeout })),
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
}

/** Words for a stop before the DLQ was read to the end. */
export function stopText(reason: StopReason, max: number): string {
    if (reason === "max") return `--max ${max} reached`;
    if (reason === "repeats") return `SQS handed out only messages already read ${MAX_REPEAT_ONLY_RECEIVES} times in a row`;
    if (reason === "aborted") return "interrupted";
    return "the DLQ was empty";
}
