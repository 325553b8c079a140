/**
 * Exit codes and the errors that carry them.
 *
 *  0  success
 *  1  a check failed or an operation failed (unhealthy queue, poison messages, disagreement,
 *     partial failure, an AWS error such as AccessDenied, throttling that outlasted the retries)
 *  2  the command could not run as asked: bad usage (unknown command or flag, missing argument,
 *     malformed JSON or pattern), unknown stack or queue, missing credentials or region, no local
 *     runtime at the --local URL
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** An error whose message is meant for the operator, with the exit code it ends the command with. */
export class OpsError extends Error {
    constructor(
        message: string,
        readonly exitCode: number = EXIT_FAILED,
    ) {
        super(message);
        this.name = "OpsError";
    }
}

/** Bad usage: the message says what was wrong; the command's usage follows it. */
export class UsageError extends OpsError {
    constructor(
        message: string,
        /** The command whose usage to print after the message ("" = the general usage). */
        readonly command?: string,
    ) {
        super(message, EXIT_USAGE);
        this.name = "UsageError";
    }
}

/** An AWS call kept being throttled (or kept failing transiently) after the bounded retries. */
export class ThrottledError extends OpsError {
    constructor(operation: string, attempts: number, cause: Error) {
        super(
            `AWS kept throttling ${operation} (${cause.name}: ${cause.message}) after ${attempts} attempts with exponential backoff; ` +
                "nothing was lost: wait a minute and run the command again",
            EXIT_FAILED,
        );
        this.name = "ThrottledError";
    }
}

/**
 * A call that changes state failed in a way that does not say whether AWS carried it out (a 5xx, a
 * timeout, a reset connection), and it is not safe to send again: the caller checks the state, or
 * the message tells the operator what to check.
 */
export class OutcomeUnknownError extends OpsError {
    constructor(
        readonly operation: string,
        readonly failure: Error,
    ) {
        super(`${operation} failed with ${failure.name}: ${failure.message}; AWS may or may not have carried it out, so it was not sent again`, EXIT_FAILED);
        this.name = "OutcomeUnknownError";
    }
}
