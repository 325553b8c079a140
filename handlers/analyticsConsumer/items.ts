/**
 * Item design of the analytics table (partition key `restaurantId`, sort key `sk`, both strings;
 * TTL attribute `expiresAt`). One partition per restaurant holds:
 *
 * | sk                        | attributes                                                        |
 * | ------------------------- | ----------------------------------------------------------------- |
 * | `VIEWS#DAY#<YYYY-MM-DD>`  | `views` (number): views on that UTC day; `inflight` (string set)  |
 * | `VIEWS#TOTAL`             | `views` (number): all-time views; `inflight` (string set)         |
 * | `EVENT#<eventId>`         | idempotency record: `state` (claimed/counted), `leaseUntil` (epoch |
 * |                           | ms), `day`, `messageId`, `claimedAt`, `countedAt`, `expiresAt` (TTL) |
 *
 * The counter sort keys sort together, days before the total (`D` < `T`), so one Query
 * (`sk BETWEEN VIEWS#DAY#<from> AND VIEWS#TOTAL`) reads a window of days and the total.
 * `inflight` holds the ids of events whose increment landed but whose idempotency record is not yet
 * marked counted (see viewCounter.ts); it is empty (absent) at rest.
 */
import { MAX_EVENT_AGE_DAYS } from "../events/validateMessage";

export const TOTAL_SK = "VIEWS#TOTAL";
export const DAY_SK_PREFIX = "VIEWS#DAY#";
export const EVENT_SK_PREFIX = "EVENT#";

/**
 * Days an idempotency record is kept after its last write (claim, take-over, commit). SQS retention
 * does not bound how late an event can come back: a redrive (the ops CLI's, or an SQS move task)
 * resets a message's retention period, so a message can be redriven again and again. What bounds
 * it is the consumer: an event older than MAX_EVENT_AGE_DAYS (by its envelope `time`) is refused as
 * stale (events/validateMessage.ts) and ends in the DLQ. The record outlives that limit by
 * EVENT_RECORD_TTL_MARGIN_DAYS, for clock skew between EventBridge and Lambda and for the time
 * between an event's `time` and its first processing (the record's TTL counts from the latter, which
 * is later, so the margin only adds safety). DynamoDB's TTL never deletes an item before it expires.
 */
export const EVENT_RECORD_TTL_MARGIN_DAYS = 5;
export const EVENT_RECORD_TTL_DAYS = MAX_EVENT_AGE_DAYS + EVENT_RECORD_TTL_MARGIN_DAYS;

export function daySk(day: string): string {
    return `${DAY_SK_PREFIX}${day}`;
}

export function eventSk(eventId: string): string {
    return `${EVENT_SK_PREFIX}${eventId}`;
}

/** The UTC calendar day (YYYY-MM-DD) of an ISO 8601 timestamp. */
export function utcDay(timestamp: string | number | Date): string {
    const date = new Date(timestamp);
    if (Number.isNaN(date.getTime())) throw new Error(`not a timestamp: ${String(timestamp)}`);
    return date.toISOString().slice(0, 10);
}
