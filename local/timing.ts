/**
 * Local time: every duration the graph declares (function timeouts, queue visibility timeouts,
 * retention, delays, batching windows) is multiplied by one scale factor, so that retries and
 * dead-lettering that take many minutes on AWS take seconds here while keeping their proportions.
 */
import { LocalModel, MappingSpec, QueueSpec } from "./model";

/** With the default scale, a message that always fails reaches its DLQ within this budget (plus polling). */
export const POISON_BUDGET_MS = 5000;
/** Upper bound of the default scale: even tiny graphs run at 1/100 of AWS time. */
export const MAX_DEFAULT_SCALE = 0.01;
/**
 * Floor of a scaled function timeout. A scaled-down timeout of a few milliseconds would fail
 * healthy invocations (a warm handler still needs a few ms per AWS call); real Lambda does not count
 * the cold-start init phase against the timeout either, and neither does the local runtime.
 */
export const DEFAULT_MIN_FUNCTION_TIMEOUT_MS = 1000;
/** Lambda's init phase limit (not scaled: module loading takes real time). */
export const INIT_TIMEOUT_MS = 10_000;

export class TimeScaleError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "TimeScaleError";
    }
}

/** Parses a --time-scale value: a number > 0 and <= 1. */
export function parseTimeScale(text: string): number {
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || value <= 0 || value > 1) {
        throw new TimeScaleError(`--time-scale must be a number > 0 and <= 1 (e.g. 0.01 = 100x faster than AWS), got "${text}"`);
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
        readonly minFunctionTimeoutMs = DEFAULT_MIN_FUNCTION_TIMEOUT_MS,
    ) {}

    /** An AWS duration in seconds, in local milliseconds. */
    ms(seconds: number): number {
        return seconds * 1000 * this.scale;
    }

    functionTimeoutMs(timeoutSeconds: number): number {
        return Math.max(this.ms(timeoutSeconds), this.minFunctionTimeoutMs);
    }

    /**
     * A queue's visibility timeout: scaled, but never shorter than what one invocation of its
     * consumer may take (timeout + batching window), so a running batch is never redelivered
     * (the AWS rule "visibility >= 6 x timeout" cannot survive the timeout floor otherwise).
     */
    visibilityTimeoutMs(queue: QueueSpec, consumers: { mapping: MappingSpec; timeoutSeconds: number }[]): number {
        const floor = Math.max(0, ...consumers.map((c) => this.functionTimeoutMs(c.timeoutSeconds) + this.ms(c.mapping.batchingWindowSeconds)));
        return Math.max(this.ms(queue.visibilityTimeoutSeconds), floor);
    }

    /** "0.0055 (1 s on AWS = 5.5 ms here)" */
    describe(): string {
        return `${this.scale} (1 s on AWS = ${formatMs(1000 * this.scale)} here; function timeouts >= ${formatMs(this.minFunctionTimeoutMs)})`;
    }
}

export function formatMs(ms: number): string {
    if (ms >= 1000) return `${Number((ms / 1000).toPrecision(3))} s`;
    return `${Number(ms.toPrecision(3))} ms`;
}
