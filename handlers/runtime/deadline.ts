/**
 * A deadline for the AWS calls of one invocation, as an AbortSignal to pass to `client.send(command,
 * { abortSignal })`: the SDK then abandons the request and its retries at once (AbortError). A
 * handler that aborts in time still answers (a JSON 500, a record reported for a retry) instead of
 * being killed by Lambda's timeout.
 */
export interface Deadline {
    signal: AbortSignal;
    /** Stops the timer; call it when the guarded work is done. */
    dispose(): void;
}

export interface DeadlineOptions {
    /** The invocation's remaining time in ms (`context.getRemainingTimeInMillis`); unknown when absent. */
    remainingMs?: () => number;
    /** Abort when less than this much invocation time is left: the time needed to answer. */
    reserveMs: number;
    /** Abort after this long in any case (a budget for best-effort work). Default: no budget. */
    budgetMs?: number;
    /** How often the remaining time is read again, in ms. Default 100. */
    pollMs?: number;
}

/**
 * Time an API handler keeps back from the invocation's remaining time to answer after an aborted
 * call (its `reserveMs`), in ms.
 */
export const RESPONSE_RESERVE_MS = 500;

/** The name of the abort reason (the SDK's AbortError carries it as its `cause`). */
export const DEADLINE_EXCEEDED = "DeadlineExceeded";

/**
 * Creates a deadline. The remaining time is read again every `pollMs` rather than turned into one
 * timer, so a context whose clock does not run at real speed (a test's, or a host that scales time)
 * still ends the work in time.
 */
export function invocationDeadline(options: DeadlineOptions): Deadline {
    const controller = new AbortController();
    const started = Date.now();
    const pollMs = options.pollMs ?? 100;
    let timer: ReturnType<typeof setTimeout> | undefined;

    function check(): void {
        const budgetLeft = options.budgetMs === undefined ? Infinity : options.budgetMs - (Date.now() - started);
        const invocationLeft = options.remainingMs ? options.remainingMs() - options.reserveMs : Infinity;
        if (budgetLeft <= 0 || invocationLeft <= 0) {
            const why =
                budgetLeft <= 0
                    ? `its ${options.budgetMs} ms budget is spent`
                    : `less than ${options.reserveMs} ms of the invocation are left`;
            // A plain Error, not a subclass: the closure serializer copies functions, and a small
            // object is all a log needs.
            controller.abort(Object.assign(new Error(`deadline: ${why}`), { name: DEADLINE_EXCEEDED }));
            return;
        }
        if (budgetLeft === Infinity && invocationLeft === Infinity) return;
        timer = setTimeout(check, Math.min(budgetLeft, invocationLeft, pollMs));
        // Never keep a process (a test, the local runtime's worker) alive for a deadline alone.
        timer.unref?.();
    }

    check();
    return {
        signal: controller.signal,
        dispose: () => {
            if (timer !== undefined) clearTimeout(timer);
        },
    };
}

/** The `context.getRemainingTimeInMillis` of an invocation, when the caller gave a context that has one. */
export function remainingTimeOf(context: { getRemainingTimeInMillis?: () => number } | undefined): (() => number) | undefined {
    const fn = context?.getRemainingTimeInMillis;
    return typeof fn === "function" ? () => fn.call(context) : undefined;
}
