/**
 * Local time. The durations the platform WAITS (queue visibility timeouts, retention, delivery
 * delays, batching windows) are multiplied by one scale factor, so that retries and dead-lettering
 * that take many minutes on AWS take seconds here while keeping their proportions.
 *
 * The time a function WORKS is not scaled: its handler's CPU time and its calls to the local
 * DynamoDB and EventBridge take real milliseconds, and take more of them under load. So a function's
 * timeout is its declared timeout in real time, and `context.getRemainingTimeInMillis()` answers in
 * real milliseconds, as on Lambda: a handler's safety margins (stop starting records with 3 s left,
 * abandon calls with 1 s left) mean what they mean on AWS. (Scaling the timeout, with a floor of 1 s,
 * left a 30 s consumer about 100 real ms of margin: under a burst, dynalite calls of several hundred
 * ms timed healthy batches out, and their messages reached the DLQ.)
 *
 * What keeps a poison message fast is the queue's scaled visibility timeout: a failed message is
 * received again after it, `maxReceiveCount` times, then dead-lettered. A running batch's messages
 * stay hidden while its invocation runs (the poller holds them; on AWS, visibility >= 6 x the
 * timeout guarantees the same), and take their scaled visibility timeout from their receive when it
 * ends normally: see poller.ts.
 *
 * An invocation that does NOT end normally can leave behind what it sized to its remaining time in
 * real milliseconds: the analytics consumer's claim on an event lasts until the invocation's deadline
 * plus a few seconds, and blocks the event's retries until then. On AWS the visibility timeout (at
 * least 6 x the function timeout, counted from the receive) always outlasts that. Locally the scaled
 * visibility would not (0.99 s against a 30 s timeout), and the retries would burn the message's
 * receives and dead-letter a valid event. So the messages of such an invocation stay hidden until
 * KILLED_INVOCATION_GRACE_MS after its deadline (or after its end, if later):
 * - killed at its timeout, or its environment crashed: the poller sees it end (poller.ts);
 * - in flight when the runtime itself was killed (kill -9, a crash): the queue keeps the hold the
 *   poller gave them at their receive (the batching window, a cold start, the timeout, and this
 *   grace), and a restart honours it (queues.ts, queueStore.ts). That is the same bound: the dead
 *   invocation started within the hold's first part, so its deadline lies within the hold.
 * A message that fails normally (the handler answered) is not held: a consumer that fails between
 * claim and commit releases its claim itself, and a poison message still reaches its DLQ in seconds.
 */
import { LocalModel, QueueSpec } from "./model";

/** With the default scale, a message that always fails reaches its DLQ within this budget (plus polling). */
export const POISON_BUDGET_MS = 5000;
/** Upper bound of the default scale: even tiny graphs run at 1/100 of AWS time. */
export const MAX_DEFAULT_SCALE = 0.01;
/** Lambda's init phase limit (not scaled: module loading takes real time). */
export const INIT_TIMEOUT_MS = 10_000;
/**
 * How long after a killed invocation's deadline its messages stay hidden (real ms, not scaled): longer
 * than the margin by which a consumer's lease may outlive its deadline (the analytics consumer's
 * DEFAULT_LEASE_MARGIN_MS, 5 s; a test keeps the two in that order). See the top of this file.
 */
export const KILLED_INVOCATION_GRACE_MS = 10_000;

export class TimeScaleError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "TimeScaleError";
    }
}

/** A plain decimal number as flags take it: `0.3`, `.3`, `1` (no sign, exponent, hex or spaces). */
export const DECIMAL = /^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/;

/** Parses a --time-scale value: a decimal number > 0 and <= 1. */
export function parseTimeScale(text: string): number {
    const value = DECIMAL.test(text) ? Number(text) : NaN;
    if (!(value > 0 && value <= 1)) {
        throw new TimeScaleError(`--time-scale must be a decimal number > 0 and <= 1 (e.g. 0.01 = 100x faster than AWS), got "${text}"`);
    }
    return value;
}

/**
 * The default scale: the largest of "1/100" and "a poison message on the slowest consumed queue
 * reaches its DLQ in POISON_BUDGET_MS" that is not above 1/100, rounded down to two significant digits.
 */
export function defaultTimeScale(model: Pick<LocalModel, "queues" | "mappings">): number {
    let slowest = 0;
    for (const m of model.mappings) {
        const q = model.queues.find((x) => x.name === m.queue);
        if (!q?.redrive) continue;
        slowest = Math.max(slowest, q.redrive.maxReceiveCount * (q.visibilityTimeoutSeconds + m.batchingWindowSeconds) * 1000);
    }
    const scale = slowest > 0 ? Math.min(MAX_DEFAULT_SCALE, POISON_BUDGET_MS / slowest) : MAX_DEFAULT_SCALE;
    const magnitude = 10 ** Math.floor(Math.log10(scale));
    return Number(((Math.floor((scale / magnitude) * 10) / 10) * magnitude).toPrecision(2));
}

export class Timing {
    constructor(
        readonly scale: number,
        /** Every function's timeout in ms instead of its own (tests of timeouts); default: each function's declared timeout. */
        readonly functionTimeoutOverrideMs?: number,
    ) {}

    /** An AWS duration the platform waits, in seconds, in local milliseconds. */
    ms(seconds: number): number {
        return seconds * 1000 * this.scale;
    }

    /** A function's timeout: its declared timeout, in real milliseconds (work is not scaled). */
    functionTimeoutMs(timeoutSeconds: number): number {
        return this.functionTimeoutOverrideMs ?? timeoutSeconds * 1000;
    }

    /** A queue's visibility timeout: scaled (a running batch is kept hidden by its poller, not by this). */
    visibilityTimeoutMs(queue: Pick<QueueSpec, "visibilityTimeoutSeconds">): number {
        return this.ms(queue.visibilityTimeoutSeconds);
    }

    /** "0.0055 (1 s on AWS = 5.5 ms here; function timeouts in real time)" */
    describe(): string {
        const functions = this.functionTimeoutOverrideMs === undefined ? "function timeouts as declared, in real time" : `function timeouts ${formatMs(this.functionTimeoutOverrideMs)}`;
        return `${this.scale} (1 s on AWS = ${formatMs(1000 * this.scale)} here; ${functions})`;
    }
}

/**
 * A duration in ms as the state shows it: to the microsecond, so that the float noise of scaling
 * (180 s x 0.0055 = 989.9999999999999 ms) reads 990. Internal values keep their precision.
 */
export function displayMs(ms: number): number {
    return Math.round(ms * 1000) / 1000;
}

export function formatMs(ms: number): string {
    if (ms >= 1000) return `${Number((ms / 1000).toPrecision(3))} s`;
    return `${Number(ms.toPrecision(3))} ms`;
}
