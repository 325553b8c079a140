/**
 * The one bounded retry loop of the CLI (the SDK's own retries are off: see createClients).
 *
 * Two kinds of failure are worth another attempt, and they differ in what AWS did:
 * - throttling: AWS refused the request (KmsThrottled, RequestThrottled, ThrottlingException, 429, ...);
 *   nothing happened, so any call may be sent again;
 * - a transient failure (a 5xx, a timeout, a reset connection): the request may or may not have been
 *   carried out. Only calls that are safe to repeat are sent again. The others (NOT_IDEMPOTENT) end
 *   with OutcomeUnknownError, and the caller checks the state or tells the operator what to check.
 */
import { OpsError, OutcomeUnknownError, ThrottledError } from "./errors";

export interface RetryBudget {
    /** Attempts, the first included. */
    attempts: number;
    /** First backoff in ms; doubles per attempt, capped at maxDelayMs, full jitter. */
    baseDelayMs: number;
    maxDelayMs: number;
}

export interface RetryOptions extends Partial<RetryBudget> {
    sleep: (ms: number) => Promise<void>;
    random?: () => number;
    /** Whether the call may be sent again when its outcome is unknown. Default: per operation (NOT_IDEMPOTENT). */
    idempotent?: boolean;
}

/** 6 attempts, 200 ms doubling, capped at 8 s: about 6 s at most for SQS and EventBridge calls. */
export const DEFAULT_BUDGET: RetryBudget = { attempts: 6, baseDelayMs: 200, maxDelayMs: 8000 };

/**
 * Budgets that differ from the default. GetMetricData has a low account-wide rate quota shared with
 * dashboards and alarms, so a throttled query waits longer before giving up (up to about a minute).
 */
export const BUDGETS: Record<string, RetryBudget> = {
    "cloudwatch:GetMetricData": { attempts: 8, baseDelayMs: 1000, maxDelayMs: 20000 },
};

/**
 * Calls that change state and must not be repeated blindly when their outcome is unknown: a second
 * StartMessageMoveTask, PutEvents or DeleteRule after a 5xx could start a second task, publish the
 * event twice or report a failure for a delete that happened. Throttling is still retried (refused = not done).
 */
export const NOT_IDEMPOTENT = new Set(["sqs:StartMessageMoveTask", "events:PutEvents", "events:DeleteRule"]);

const THROTTLING_CODES = new Set([
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "PriorRequestNotComplete",
    "AWS.SimpleQueueService.RequestThrottled",
    // SQS refuses a request on a KMS-encrypted queue when KMS throttles it.
    "KmsThrottled",
    "AWS.SimpleQueueService.KmsThrottled",
]);
const TRANSIENT_CODES = new Set(["InternalFailure", "InternalError", "InternalServerError", "ServiceUnavailable", "RequestTimeout", "RequestTimeoutException", "TimeoutError"]);
/** Network errors worth another attempt (a reset or timed-out connection); a refused one is not. */
const TRANSIENT_NETWORK = new Set(["ECONNRESET", "ETIMEDOUT", "EPIPE", "EAI_AGAIN"]);

type AwsError = { name?: string; Code?: string; code?: string; cause?: { code?: string }; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } };

export function networkCode(error: unknown): string | undefined {
    const e = error as AwsError;
    return e?.code ?? e?.cause?.code;
}

/** AWS refused the request because of a rate: nothing was done, any call may be sent again. */
export function isThrottling(error: unknown): boolean {
    const e = error as AwsError;
    const code = e?.name ?? e?.Code ?? "";
    return THROTTLING_CODES.has(code) || e?.$retryable?.throttling === true || e?.$metadata?.httpStatusCode === 429;
}

/** A server-side failure or a lost connection: the request may or may not have been carried out. */
export function isTransient(error: unknown): boolean {
    const e = error as AwsError;
    const code = e?.name ?? e?.Code ?? "";
    if (TRANSIENT_CODES.has(code) || TRANSIENT_NETWORK.has(networkCode(error) ?? "")) return true;
    const status = e?.$metadata?.httpStatusCode;
    return status !== undefined && status >= 500;
}

/**
 * Runs one AWS call, retrying throttling (and, for calls safe to repeat, transient failures) with
 * exponential backoff and full jitter, a bounded number of times. Other errors are rethrown at once,
 * labelled with the operation.
 */
export async function withRetry<T>(operation: string, call: () => Promise<T>, options: RetryOptions): Promise<T> {
    const budget = { ...DEFAULT_BUDGET, ...BUDGETS[operation], ...definedOnly(options) };
    const idempotent = options.idempotent ?? !NOT_IDEMPOTENT.has(operation);
    const random = options.random ?? Math.random;
    for (let attempt = 1; ; attempt++) {
        try {
            return await call();
        } catch (error) {
            const throttled = isThrottling(error);
            const transient = isTransient(error);
            if (!throttled && transient && !idempotent) throw new OutcomeUnknownError(operation, error as Error);
            if (!throttled && !transient) throw labelled(error, operation);
            if (attempt >= budget.attempts) throw new ThrottledError(operation, budget.attempts, error as Error);
            await options.sleep(random() * Math.min(budget.maxDelayMs, budget.baseDelayMs * 2 ** (attempt - 1)));
        }
    }
}

function definedOnly(options: RetryOptions): Partial<RetryBudget> {
    const { attempts, baseDelayMs, maxDelayMs } = options;
    return Object.fromEntries(Object.entries({ attempts, baseDelayMs, maxDelayMs }).filter(([, v]) => v !== undefined));
}

function labelled(error: unknown, operation: string): unknown {
    if (error && typeof error === "object" && !(error instanceof OpsError)) (error as { opsOperation?: string }).opsOperation ??= operation;
    return error;
}
