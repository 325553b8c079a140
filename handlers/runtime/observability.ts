/**
 * Structured JSON logs and embedded-metric-format metrics (Powertools for AWS Lambda).
 * Required at call time so that nothing of Powertools is captured by the closure serializer.
 * Configured by the standard Powertools variables the stack sets: POWERTOOLS_SERVICE_NAME,
 * POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL (and POWERTOOLS_METRICS_DISABLED in tests).
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";

export interface Observability {
    logger: Logger;
    metrics: Metrics;
    /** Metric units, so callers need not import Powertools themselves. */
    units: typeof import("@aws-lambda-powertools/metrics").MetricUnit;
}

export function createObservability(serviceName: string): Observability {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { Logger } = require("@aws-lambda-powertools/logger") as typeof import("@aws-lambda-powertools/logger");
    const { Metrics, MetricUnit } = require("@aws-lambda-powertools/metrics") as typeof import("@aws-lambda-powertools/metrics");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName });
    const metrics = new Metrics({
        serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName,
        namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? "Bellyfed",
    });
    return { logger, metrics, units: MetricUnit };
}

/** Reads required environment variables, failing the cold start with the names that are missing. */
export function requireEnv<K extends string>(...names: K[]): Record<K, string> {
    const missing = names.filter((n) => !process.env[n]);
    if (missing.length > 0) throw new Error(`Missing environment variable(s): ${missing.join(", ")}`);
    return Object.fromEntries(names.map((n) => [n, process.env[n] as string])) as Record<K, string>;
}
