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
export const TOTAL_SK = "VIEWS#TOTAL";
export const DAY_SK_PREFIX = "VIEWS#DAY#";
export const EVENT_SK_PREFIX = "EVENT#";

/**
 * Days an idempotency record is kept. Longer than anything that can redeliver an event on its own:
 * SQS keeps a message at most 14 days and EventBridge retries a delivery at most 24 hours. Replaying
 * an older archive window on purpose counts those views again.
 */
export const EVENT_RECORD_TTL_DAYS = 35;

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
