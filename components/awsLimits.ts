/**
 * Values AWS accepts for the settings the components expose, in one place: a component checks its
 * arguments against these before registering anything, and the stack config (stacks/config.ts)
 * validates with the same definitions, so a value AWS would reject at deploy time fails at `new`.
 */

/** Retention values CloudWatch Logs accepts (PutRetentionPolicy); anything else is rejected at deploy time. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** What a log retention must be, for error messages (the components' and the stack config's). */
export const LOG_RETENTION_RULE = "must be one of CloudWatch Logs' retention values";

/** Whether `days` is one of CloudWatch Logs' retention values. */
export function isLogRetentionDays(days: unknown): boolean {
    return (LOG_RETENTION_DAYS as readonly unknown[]).includes(days);
}

/** Lambda memory, in MB: 128 to 10240 (whole MB). */
export const LAMBDA_MEMORY_MB = { min: 128, max: 10240 } as const;

/**
 * A CORS origin as API Gateway and browsers compare it: `"*"`, or `scheme://host[:port]` with no
 * path (not even a trailing `/`, which no browser sends in `Origin`, so it would never match).
 */
export function isCorsOrigin(origin: unknown): boolean {
    return origin === "*" || (typeof origin === "string" && /^https?:\/\/[^/\s]+$/.test(origin));
}

/** What a CORS origin must look like, for error messages. */
export const CORS_ORIGIN_RULE = 'must be "*" or a scheme://host[:port] origin without a path';

/** CloudWatch dashboard names: A-Z, a-z, 0-9, "-" and "_", 1 to 255 characters. */
export const DASHBOARD_NAME = /^[A-Za-z0-9_-]{1,255}$/;
