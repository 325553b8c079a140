import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { buildEventCatalog, EventCatalog, RestaurantViewedDetail } from "../events/catalog";
import { MessageIssue, validateEventMessage } from "../events/validateMessage";
import { createObservability, requireEnv } from "../runtime/observability";
import { createViewCounter, ViewToCount } from "./viewCounter";

/** A record that can never succeed, and why. */
export interface PoisonRecord {
    poison: true;
    reason: string;
}

/** Issues as one line: `detail.restaurantId: must be ...; detail.viewedAt: Invalid ISO datetime`. */
function describeIssues(issues: MessageIssue[]): string {
    return issues
        .slice(0, 5)
        .map((i) => `${i.path}: ${i.message}`)
        .join("; ");
}

/**
 * Unwraps one SQS record routed by EventBridge: the body is the whole EventBridge envelope as a JSON
 * string. Validates the envelope and the RestaurantViewed detail against the catalog.
 */
export function parseViewRecord(record: SQSRecord, catalog: EventCatalog): ViewToCount | PoisonRecord {
    const v = validateEventMessage(record.body, catalog);
    if (!v.valid && v.stage === "json") return { poison: true, reason: `body is ${v.issues[0].message}` };
    if (!v.valid && v.stage === "envelope") return { poison: true, reason: `not an EventBridge event envelope: ${describeIssues(v.issues)}` };
    if ((!v.valid && v.stage === "catalog") || (v.valid && v.event !== "RestaurantViewed")) {
        return { poison: true, reason: `event ${v.eventId} is ${v.source}/${v.detailType}, not a catalog RestaurantViewed event (this consumer counts views only)` };
    }
    if (!v.valid) return { poison: true, reason: `event ${v.eventId}: detail does not match RestaurantViewed v1: ${describeIssues(v.issues)}` };
    const detail = v.detail as RestaurantViewedDetail;
    return { eventId: v.eventId, restaurantId: detail.restaurantId, viewedAt: detail.viewedAt, messageId: record.messageId };
}

export interface AnalyticsConsumerOptions {
    documents: DynamoDBDocumentClient;
    tableName: string;
    catalog: EventCatalog;
    logger: Logger;
    metrics: Metrics;
    /** Clock in epoch milliseconds. Default Date.now. */
    now?: () => number;
    /** Records are not started with less than this much invocation time left (they are retried). Default 3000 ms. */
    safetyMarginMs?: number;
}

/** Lambda's limit when the context is unknown: a claim must outlive any invocation. */
const MAX_INVOCATION_MS = 900_000;

/**
 * The consumer of the analytics queue: counts RestaurantViewed events exactly once per event id and
 * answers with the partial batch response (`ReportBatchItemFailures`): the failed records' message
 * ids only, `[]` when every record succeeded. It never throws for one bad record:
 * - poison (invalid JSON, not an envelope, not a RestaurantViewed, bad detail): logged with the
 *   message id and the reason, counted (PoisonRecords) and reported failed, so SQS retries it and
 *   moves it to the DLQ after maxReceiveCount receives: nothing is silently dropped;
 * - DynamoDB errors and events another invocation is counting right now: reported failed (retried);
 * - duplicates (already counted): success, counted as DuplicateEvents.
 * Records are processed in order; on a FIFO queue the first failure fails the rest of the batch, as
 * ordering requires.
 */
export function createAnalyticsConsumer(options: AnalyticsConsumerOptions) {
    const { catalog, logger, metrics } = options;
    const now = options.now ?? (() => Date.now());
    const safetyMarginMs = options.safetyMarginMs ?? 3000;
    const counter = createViewCounter({ documents: options.documents, tableName: options.tableName, now });

    return async (event: SQSEvent, context?: Partial<Context>): Promise<SQSBatchResponse> => {
        const records: SQSRecord[] = Array.isArray(event?.Records) ? event.Records : [];
        const remaining = () => (typeof context?.getRemainingTimeInMillis === "function" ? context.getRemainingTimeInMillis() : MAX_INVOCATION_MS);
        const failures: SQSBatchItemFailure[] = [];
        const tally = { ViewsCounted: 0, DuplicateEvents: 0, PoisonRecords: 0, RetriedRecords: 0 };
        let stopReason: string | undefined;
        let skipped = 0;
        try {
            for (const record of records) {
                const fail = () => failures.push({ itemIdentifier: record.messageId });
                const fifo = record.eventSourceARN?.endsWith(".fifo") ?? false;
                if (stopReason === undefined && remaining() < safetyMarginMs) stopReason = "the invocation is about to time out";
                if (stopReason !== undefined) {
                    skipped++;
                    tally.RetriedRecords++;
                    fail();
                    continue;
                }
                const parsed = parseViewRecord(record, catalog);
                if ("poison" in parsed) {
                    logger.error("poison record: it cannot succeed and will reach the DLQ after the queue's maxReceiveCount receives", {
                        messageId: record.messageId,
                        reason: parsed.reason,
                        receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 0),
                    });
                    tally.PoisonRecords++;
                    fail();
                    if (fifo) stopReason = `record ${record.messageId} failed on a FIFO queue`;
                    continue;
                }
                try {
                    const outcome = await counter.count(parsed, remaining());
                    if (outcome === "counted") tally.ViewsCounted++;
                    else if (outcome === "duplicate") {
                        tally.DuplicateEvents++;
                        logger.info("duplicate event not counted again", { messageId: record.messageId, eventId: parsed.eventId });
                    } else {
                        tally.RetriedRecords++;
                        logger.warn("event is being counted by another invocation; retrying later", { messageId: record.messageId, eventId: parsed.eventId });
                        fail();
                        if (fifo) stopReason = `record ${record.messageId} failed on a FIFO queue`;
                    }
                } catch (error) {
                    tally.RetriedRecords++;
                    logger.error("record failed and will be retried", { messageId: record.messageId, eventId: parsed.eventId, error: error as Error });
                    fail();
                    if (fifo) stopReason = `record ${record.messageId} failed on a FIFO queue`;
                }
            }
            if (skipped > 0) logger.warn("records not attempted; reported failed for a retry", { skipped, reason: stopReason });
        } finally {
            for (const [name, value] of Object.entries(tally)) if (value > 0) metrics.addMetric(name, "Count", value);
            if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
        }
        return { batchItemFailures: failures };
    };
}

/**
 * The callback factory of the analytics consumer. Environment: ANALYTICS_TABLE (plus the
 * POWERTOOLS_* variables). SDK client, schemas and Powertools are built here, once per cold start.
 */
export function analyticsConsumerFactory() {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { DynamoDBClient } = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
    const { DynamoDBDocumentClient } = require("@aws-sdk/lib-dynamodb") as typeof import("@aws-sdk/lib-dynamodb");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const env = requireEnv("ANALYTICS_TABLE");
    const { logger, metrics } = createObservability("analytics-consumer");
    return createAnalyticsConsumer({
        documents: DynamoDBDocumentClient.from(new DynamoDBClient({})),
        tableName: env.ANALYTICS_TABLE,
        catalog: buildEventCatalog(),
        logger,
        metrics,
    });
}
