/**
 * Bounded AWS SDK client settings for the handlers. The SDK's defaults wait without limit: no
 * connection timeout, no request timeout (smithy's default is 0), only the service's socket idle
 * timeout of minutes. A service that accepts the connection and never answers would then hold the
 * invocation until Lambda kills it, turning a good request into a 5xx. With these settings every
 * attempt gives up after `connectionTimeoutMs` + `requestTimeoutMs`, and the SDK tries at most
 * `maxAttempts` times; the handlers add a deadline from the invocation's remaining time on top
 * (see deadline.ts).
 */
export interface SdkClientLimits {
    /** Time to establish the TCP/TLS connection, in ms. */
    connectionTimeoutMs: number;
    /** Time for the whole request and response of one attempt, in ms. */
    requestTimeoutMs: number;
    /** SDK attempts per call, the first included (the SDK retries throttling, 5xx and timeouts). */
    maxAttempts: number;
}

/**
 * Defaults for calls that take milliseconds when healthy (DynamoDB single-item calls, PutEvents):
 * a regional endpoint connects in tens of ms and answers these calls in tens of ms.
 */
export const DEFAULT_SDK_CLIENT_LIMITS: SdkClientLimits = { connectionTimeoutMs: 1000, requestTimeoutMs: 2000, maxAttempts: 2 };

/**
 * The client configuration (`new DynamoDBClient(sdkClientConfig())`): `maxAttempts` and the Node
 * HTTP handler's options. `throwOnRequestTimeout` is needed: since smithy's node-http-handler 4.x,
 * a breached `requestTimeout` only logs a warning without it. Runtimes with an older SDK ignore that
 * flag and treat `requestTimeout` as a socket idle timeout, which also fails the attempt.
 */
export function sdkClientConfig(limits: Partial<SdkClientLimits> = {}) {
    const { connectionTimeoutMs, requestTimeoutMs, maxAttempts } = { ...DEFAULT_SDK_CLIENT_LIMITS, ...limits };
    return {
        maxAttempts,
        requestHandler: { connectionTimeout: connectionTimeoutMs, requestTimeout: requestTimeoutMs, throwOnRequestTimeout: true },
    };
}
