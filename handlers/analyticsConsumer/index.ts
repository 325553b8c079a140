import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { buildEventCatalog, EventCatalog, RestaurantViewedDetail } from "../events/catalog";
import { MessageIssue, validateEventMessage } from "../events/validateMessage";
import { sdkClientConfig } from "../runtime/awsClients";
import { invocationDeadline, remainingTimeOf } from "../runtime/deadline";
import { createObservability, requireEnv } from "../runtime/observability";
import { createViewCounter, ViewToCount } from "./viewCounter";

/** A record that can never succeed, and why. */
export interface PoisonRecord {
    poison: true;
    reason: string;
    /** Set when the record is poison because its event is older than MAX_EVENT_AGE_DAYS. */
    stale?: boolean;
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
 * string. Validates the envelope, the RestaurantViewed detail and the event's age (`now`, epoch ms)
 * with the shared message validator.
 */
export function parseViewRecord(record: SQSRecord, catalog: EventCatalog, now: () => number = Date.now): ViewToCount | PoisonRecord {
    const v = validateEventMessage(record.body, catalog, { now });
    if (!v.valid && v.stage === "json") return { poison: true, reason: `body is ${v.issues[0].message}` };
    if (!v.valid && v.stage === "envelope") return { poison: true, reason: `not an EventBridge event envelope: ${describeIssues(v.issues)}` };
    if ((!v.valid && v.stage === "catalog") || (v.valid && v.event !== "RestaurantViewed")) {
        return { poison: true, reason: `event ${v.eventId} is ${v.source}/${v.detailType}, not a catalog RestaurantViewed event (this consumer counts views only)` };
    }
    if (!v.valid && v.stage === "stale") return { poison: true, stale: true, reason: `event ${v.eventId} (time ${v.time}) is stale: ${describeIssues(v.issues)}` };
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
    /**
     * DynamoDB calls in flight are abandoned when less than this much invocation time is left, so the
     * handler answers (those records reported for a retry) before Lambda's timeout. Default 1000 ms.
     */
    deadlineReserveMs?: number;
    /** Records of a standard queue counted at once. Default 5. A FIFO queue's records always run one at a time. */
    concurrency?: number;
}

/** Lambda's limit when the context is unknown: a claim must outlive any invocation. */
const MAX_INVOCATION_MS = 900_000;

/** What happened to one record; everything but counted and duplicate is reported failed. */
type RecordOutcome = "counted" | "duplicate" | "poison" | "retry" | "not-attempted";

/**
 * The consumer of the analytics queue: counts RestaurantViewed events exactly once per event id and
 * answers with the partial batch response (`ReportBatchItemFailures`): the failed records' message
 * ids only, in batch order, `[]` when every record succeeded. It never throws for one bad record:
 * - poison (invalid JSON, not an envelope, not a RestaurantViewed, bad detail, stale: older than
 *   MAX_EVENT_AGE_DAYS): logged with the message id and the reason, counted (PoisonRecords, and
 *   StaleEvents for stale ones) and reported failed, so SQS retries it and moves it to the DLQ after
 *   maxReceiveCount receives: nothing is silently dropped;
 * - DynamoDB errors, calls abandoned at the deadline, and events another invocation is counting
 *   right now: reported failed (retried);
 * - duplicates (already counted): success, counted as DuplicateEvents.
 * A standard queue's records are counted `concurrency` at a time (records of one event id one after
 * the other, so a duplicate within the batch is a duplicate, not a conflict), which lets a large
 * batch be attempted within the timeout. On a FIFO queue records run in order and the first failure
 * fails the rest of the batch, as ordering requires.
 */
export function createAnalyticsConsumer(options: AnalyticsConsumerOptions) {
    const { catalog, logger, metrics } = options;
    const now = options.now ?? (() => Date.now());
    const safetyMarginMs = options.safetyMarginMs ?? 3000;
    const deadlineReserveMs = options.deadlineReserveMs ?? 1000;
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? 5));
    const counter = createViewCounter({ documents: options.documents, tableName: options.tableName, now });

    return async (event: SQSEvent, context?: Partial<Context>): Promise<SQSBatchResponse> => {
        const records: SQSRecord[] = Array.isArray(event?.Records) ? event.Records : [];
        const remaining = remainingTimeOf(context) ?? (() => MAX_INVOCATION_MS);
        const deadline = invocationDeadline({ remainingMs: remainingTimeOf(context), reserveMs: deadlineReserveMs });
        const outcomes: RecordOutcome[] = records.map(() => "not-attempted");
        const tally = { ViewsCounted: 0, DuplicateEvents: 0, PoisonRecords: 0, StaleEvents: 0, RetriedRecords: 0, CleanUpFailures: 0 };
        const fifo = records.some((r) => r.eventSourceARN?.endsWith(".fifo"));
        let stopReason: string | undefined;

        /** Runs one record to its outcome; never throws. */
        async function processRecord(record: SQSRecord, parsed: ViewToCount | PoisonRecord): Promise<RecordOutcome> {
            if ("poison" in parsed) {
                logger.error("poison record: it cannot succeed and will reach the DLQ after the queue's maxReceiveCount receives", {
                    messageId: record.messageId,
                    reason: parsed.reason,
                    receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 0),
                });
                tally.PoisonRecords++;
                if (parsed.stale) tally.StaleEvents++;
                return "poison";
            }
            try {
                const { outcome, cleanUpError } = await counter.count(parsed, { remainingMs: remaining(), abortSignal: deadline.signal });
                if (cleanUpError !== undefined) {
                    tally.CleanUpFailures++;
                    logger.warn("event counted, but its in-flight markers were not removed (the next duplicate removes them)", {
                        messageId: record.messageId,
                        eventId: parsed.eventId,
                        error: cleanUpError as Error,
                    });
                }
                if (outcome === "counted") {
                    tally.ViewsCounted++;
                    return "counted";
                }
                if (outcome === "duplicate") {
                    tally.DuplicateEvents++;
                    logger.info("duplicate event not counted again", { messageId: record.messageId, eventId: parsed.eventId });
                    return "duplicate";
                }
                tally.RetriedRecords++;
                logger.warn("event is being counted by another invocation; retrying later", { messageId: record.messageId, eventId: parsed.eventId });
                return "retry";
            } catch (error) {
                tally.RetriedRecords++;
                logger.error("record failed and will be retried", {
                    messageId: record.messageId,
                    eventId: parsed.eventId,
                    error: error as Error,
                    deadline: deadline.signal.aborted,
                });
                return "retry";
            }
        }

        /** Whether another record may start: not after a FIFO failure, not close to the timeout. */
        function mayStart(): boolean {
            if (stopReason === undefined && (remaining() < safetyMarginMs || deadline.signal.aborted)) stopReason = "the invocation is about to time out";
            return stopReason === undefined;
        }

        try {
            const parsed = records.map((record) => parseViewRecord(record, catalog, now));
            if (fifo) {
                for (const [i, record] of records.entries()) {
                    if (!mayStart()) break;
                    outcomes[i] = await processRecord(record, parsed[i]);
                    if (outcomes[i] !== "counted" && outcomes[i] !== "duplicate") stopReason = `record ${record.messageId} failed on a FIFO queue`;
                }
            } else {
                // One lane per event id (a poison record is a lane of its own); lanes run `concurrency` at a time.
                const lanes = new Map<string, number[]>();
                parsed.forEach((p, i) => {
                    const key = "poison" in p ? `poison#${i}` : `event#${p.eventId}`;
                    const lane = lanes.get(key);
                    if (lane) lane.push(i);
                    else lanes.set(key, [i]);
                });
                const queue = [...lanes.values()];
                const worker = async (): Promise<void> => {
                    for (let lane = queue.shift(); lane; lane = queue.shift()) {
                        for (const i of lane) {
                            if (!mayStart()) return;
                            outcomes[i] = await processRecord(records[i], parsed[i]);
                        }
                    }
                };
                await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
            }
            const skipped = outcomes.filter((o) => o === "not-attempted").length;
            if (skipped > 0) {
                tally.RetriedRecords += skipped;
                logger.warn("records not attempted; reported failed for a retry", { skipped, reason: stopReason });
            }
        } finally {
            deadline.dispose();
            for (const [name, value] of Object.entries(tally)) if (value > 0) metrics.addMetric(name, "Count", value);
            if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
        }
        const failures: SQSBatchItemFailure[] = records
            .filter((_, i) => outcomes[i] !== "counted" && outcomes[i] !== "duplicate")
            .map((record) => ({ itemIdentifier: record.messageId }));
        return { batchItemFailures: failures };
    };
}

/**
 * The callback factory of the analytics consumer. Environment: ANALYTICS_TABLE (plus the
 * POWERTOOLS_* variables). SDK client (bounded timeouts and attempts), schemas and Powertools are
 * built here, once per cold start.
 */
export function analyticsConsumerFactory() {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { DynamoDBClient } = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
    const { DynamoDBDocumentClient } = require("@aws-sdk/lib-dynamodb") as typeof import("@aws-sdk/lib-dynamodb");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const env = requireEnv("ANALYTICS_TABLE");
    const { logger, metrics } = createObservability("analytics-consumer");
    return createAnalyticsConsumer({
        documents: DynamoDBDocumentClient.from(new DynamoDBClient(sdkClientConfig())),
        tableName: env.ANALYTICS_TABLE,
        catalog: buildEventCatalog(),
        logger,
        metrics,
    });
}
