import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { daySk, EVENT_RECORD_TTL_DAYS, eventSk, TOTAL_SK, utcDay } from "./items";

/**
 * Exactly-once view counting with single-item conditional writes.
 *
 * Why not one TransactWriteItems (Put EVENT#id if absent + Update both counters)? It would be the
 * shortest correct design on AWS, but the local runtime and the tests run on dynalite, which has no
 * transactions (UnknownOperationException). This protocol is correct on AWS and on dynalite, costs
 * the same write units as that transaction (6 per new event) and needs no rollback:
 *
 * 1. Claim: Put `EVENT#<id>` {state: claimed, leaseUntil} if it does not exist. Exactly one attempt
 *    ever wins the claim. The lease outlives the claiming invocation: its remaining time (which runs
 *    up to the moment Lambda kills it) plus DEFAULT_LEASE_MARGIN_MS, so a claim whose lease has
 *    expired belongs to an invocation that is gone.
 *    - Record exists and is `counted`: a duplicate; nothing is counted.
 *    - Record exists, `claimed`, lease running: another invocation is counting it now: retry later.
 *    - Record exists, `claimed`, lease expired: its owner died mid-way; take the claim over with a
 *      conditional update on the old lease (one taker wins).
 * 2. Apply: for each counter item (the day and the total): ADD views 1 and ADD the event id to the
 *    item's `inflight` set, on condition that `inflight` does not contain the id. Each increment is
 *    atomic with its own marker, so a previous owner's increment that landed is recognised and not
 *    repeated (ConditionalCheckFailed means "already applied").
 * 3. Commit: set the record `counted`, on condition that this attempt still holds the lease.
 *    A failure between claim and commit (a DynamoDB error, the invocation's deadline) ends the lease
 *    at once (conditional on still holding it), so the record's next receive takes the claim over
 *    instead of finding it "in progress" until the lease runs out.
 * 4. Clean up: DELETE the id from both `inflight` sets (only after commit: once `counted`, nobody
 *    applies again). Best effort: the view is counted once the commit succeeded, so a failed
 *    clean-up is reported (`cleanUpError`) but never turns "counted" into a failure, which would
 *    send an already-counted view back to the queue and, after maxReceiveCount, to the DLQ. A crash
 *    or failure before clean-up leaves the id in the set; the next duplicate, if any, removes it.
 *    The sets stay bounded by the events in flight at once.
 *
 * Every write that creates or takes over the record (claim, take-over, commit) sets `expiresAt` to
 * EVENT_RECORD_TTL_DAYS from now: the record outlives the last attempt on the event, not the first.
 * Events older than MAX_EVENT_AGE_DAYS never reach `count` (the consumer refuses them as stale).
 */
export type CountOutcome = "counted" | "duplicate" | "in-progress";

export interface CountResult {
    outcome: CountOutcome;
    /** The error of a failed clean-up (step 4): the outcome stands, the markers stay behind. */
    cleanUpError?: unknown;
}

export interface CountOptions {
    /** How long the calling invocation may still run, in ms: the claim's lease must outlive it. */
    remainingMs: number;
    /** Abandons the DynamoDB calls in flight (see runtime/deadline.ts); `count` then throws. */
    abortSignal?: AbortSignal;
}

export interface ViewToCount {
    /** The EventBridge event id: the idempotency key. */
    eventId: string;
    restaurantId: string;
    /** ISO timestamp of the view; its UTC day is the day counted. */
    viewedAt: string;
    /** The SQS message id, kept on the idempotency record for tracing. */
    messageId?: string;
}

export interface ViewCounterOptions {
    documents: DynamoDBDocumentClient;
    tableName: string;
    /** Clock in epoch milliseconds (tests pin it). Default Date.now. */
    now?: () => number;
    /** How long a claim outlives the claiming invocation's remaining time. Default DEFAULT_LEASE_MARGIN_MS. */
    leaseMarginMs?: number;
}

/**
 * How long a claim's lease outlives the claiming invocation's deadline: 5 s.
 *
 * The lease already runs to the hard kill (`remainingMs` counts down to Lambda's timeout), so the
 * margin only has to cover what can make another host see the lease end before the owner stopped:
 * clock skew between Lambda hosts (Amazon Time Sync keeps it to milliseconds) and a kill that lands
 * a little after the deadline. Correctness never rests on it: the in-flight markers keep a late
 * increment from repeating and the commit is conditional on the lease, so a take-over that comes too
 * early costs a retry, never a double count. A long margin, by contrast, costs a dead owner's event
 * its retries: every receive before the lease ends finds it "in progress", and after
 * maxReceiveCount receives a valid event is dead-lettered. (It was 30 s; on AWS the visibility
 * timeout, at least 6 x the function timeout, outlasts either; the local runtime keeps the messages of
 * a killed invocation hidden past the deadline plus a grace longer than this margin, see
 * local/timing.ts.)
 */
export const DEFAULT_LEASE_MARGIN_MS = 5_000;

/** How long releasing a claim after a failure may take: it runs after the invocation's deadline may have passed. */
const RELEASE_TIMEOUT_MS = 500;

const isConditionFailure = (error: unknown): boolean => (error as { name?: string })?.name === "ConditionalCheckFailedException";

export function createViewCounter(options: ViewCounterOptions) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { GetCommand, PutCommand, UpdateCommand } = require("@aws-sdk/lib-dynamodb") as typeof import("@aws-sdk/lib-dynamodb");
    const { documents, tableName: TableName } = options;
    const now = options.now ?? (() => Date.now());
    const leaseMarginMs = options.leaseMarginMs ?? DEFAULT_LEASE_MARGIN_MS;
    const expiresAt = () => Math.floor(now() / 1000) + EVENT_RECORD_TTL_DAYS * 86400;

    /**
     * One conditional update of the event's idempotency record. Every caller's expressions use
     * `#state` (a reserved word), and DynamoDB rejects unused names, so it is the only name.
     */
    function updateEventRecord(view: ViewToCount, update: { set: string; condition: string; values: Record<string, unknown> }, abortSignal: AbortSignal | undefined) {
        return documents.send(
            new UpdateCommand({
                TableName,
                Key: { restaurantId: view.restaurantId, sk: eventSk(view.eventId) },
                UpdateExpression: `SET ${update.set}`,
                ConditionExpression: update.condition,
                ExpressionAttributeNames: { "#state": "state" },
                ExpressionAttributeValues: update.values,
            }),
            { abortSignal },
        );
    }

    /** Returns the lease this attempt holds, or the outcome when it must not count. */
    async function claim(view: ViewToCount, day: string, call: CountOptions): Promise<{ lease: number } | CountResult> {
        const { abortSignal } = call;
        const Key = { restaurantId: view.restaurantId, sk: eventSk(view.eventId) };
        const lease = now() + call.remainingMs + leaseMarginMs;
        try {
            await documents.send(
                new PutCommand({
                    TableName,
                    Item: {
                        ...Key,
                        state: "claimed",
                        leaseUntil: lease,
                        day,
                        messageId: view.messageId ?? "unknown",
                        claimedAt: new Date(now()).toISOString(),
                        expiresAt: expiresAt(),
                    },
                    ConditionExpression: "attribute_not_exists(sk)",
                }),
                { abortSignal },
            );
            return { lease };
        } catch (error) {
            if (!isConditionFailure(error)) throw error;
        }
        const existing = (await documents.send(new GetCommand({ TableName, Key, ConsistentRead: true }), { abortSignal })).Item;
        if (existing?.state === "counted") {
            return { outcome: "duplicate", cleanUpError: await bestEffortCleanUp(view, day, abortSignal) };
        }
        // Gone (expired between the two calls) or still leased by a live invocation: try again later.
        if (!existing || Number(existing.leaseUntil) > now()) return { outcome: "in-progress" };
        try {
            await updateEventRecord(
                view,
                {
                    set: "leaseUntil = :lease, takenOverAt = :at, messageId = :messageId, expiresAt = :expiresAt",
                    condition: "#state = :claimed AND leaseUntil = :old",
                    values: {
                        ":lease": lease,
                        ":at": new Date(now()).toISOString(),
                        ":messageId": view.messageId ?? existing.messageId ?? "unknown",
                        ":expiresAt": expiresAt(),
                        ":claimed": "claimed",
                        ":old": existing.leaseUntil,
                    },
                },
                abortSignal,
            );
            return { lease };
        } catch (error) {
            if (isConditionFailure(error)) return { outcome: "in-progress" };
            throw error;
        }
    }

    const counterKeys = (view: ViewToCount, day: string) => [daySk(day), TOTAL_SK].map((sk) => ({ restaurantId: view.restaurantId, sk }));

    /**
     * Runs one conditional update on both counter items (the day and the total). A failed condition
     * means the update already happened (apply) or has nothing left to do (clean-up): not an error.
     * DynamoDB rejects an expression attribute name or value the expressions do not use, so each
     * caller passes only its own.
     */
    async function updateCounters(
        view: ViewToCount,
        day: string,
        update: { expression: string; condition: string; names: Record<string, string>; values: Record<string, unknown> },
        abortSignal: AbortSignal | undefined,
    ): Promise<void> {
        await Promise.all(
            counterKeys(view, day).map((Key) =>
                documents
                    .send(
                        new UpdateCommand({
                            TableName,
                            Key,
                            UpdateExpression: update.expression,
                            ConditionExpression: update.condition,
                            ExpressionAttributeNames: update.names,
                            ExpressionAttributeValues: update.values,
                        }),
                        { abortSignal },
                    )
                    .catch((error) => {
                        if (!isConditionFailure(error)) throw error;
                    }),
            ),
        );
    }

    /** Increments both counters, each with its in-flight marker; a previous owner's increment is not repeated. */
    // Function declarations, not const arrows: Pulumi's closure serializer cannot find a const
    // arrow declared after the closure that uses it ("missing variable in closure environment").
    function apply(view: ViewToCount, day: string, abortSignal: AbortSignal | undefined): Promise<void> {
        return updateCounters(
            view,
            day,
            {
                expression: "ADD #views :one, #inflight :ids",
                condition: "attribute_not_exists(#inflight) OR NOT contains(#inflight, :id)",
                names: { "#views": "views", "#inflight": "inflight" },
                values: { ":one": 1, ":ids": new Set([view.eventId]), ":id": view.eventId },
            },
            abortSignal,
        );
    }

    async function commit(view: ViewToCount, lease: number, abortSignal: AbortSignal | undefined): Promise<void> {
        try {
            await updateEventRecord(
                view,
                {
                    set: "#state = :counted, countedAt = :at, expiresAt = :expiresAt",
                    condition: "leaseUntil = :lease",
                    values: { ":counted": "counted", ":at": new Date(now()).toISOString(), ":expiresAt": expiresAt(), ":lease": lease },
                },
                abortSignal,
            );
        } catch (error) {
            if (isConditionFailure(error)) throw new Error(`lost the claim on event ${view.eventId} (its lease expired and another invocation took it over)`);
            throw error;
        }
    }

    /**
     * Removes the event's in-flight markers (only after commit). Best effort: returns the error
     * instead of throwing it, since the event is counted either way.
     */
    async function bestEffortCleanUp(view: ViewToCount, day: string, abortSignal: AbortSignal | undefined): Promise<unknown> {
        try {
            await updateCounters(
                view,
                day,
                {
                    expression: "DELETE #inflight :ids",
                    condition: "contains(#inflight, :id)",
                    names: { "#inflight": "inflight" },
                    values: { ":ids": new Set([view.eventId]), ":id": view.eventId },
                },
                abortSignal,
            );
            return undefined;
        } catch (error) {
            return error;
        }
    }

    /**
     * Ends this attempt's lease early after a failure between claim and commit, so the record's
     * retry can take the claim over at once instead of waiting out the lease (which outlives the
     * invocation; a host whose queue retries sooner than that, or a retry after a throttled call,
     * would otherwise find the event "in progress" on every receive and dead-letter a good event).
     * Safe at any point: the in-flight markers, not the claim, keep an increment from repeating.
     * Best effort, on its own short timeout (the invocation's signal may already be aborted); if it
     * fails, the lease simply runs out as before.
     */
    async function releaseClaim(view: ViewToCount, lease: number): Promise<void> {
        try {
            await updateEventRecord(
                view,
                { set: "leaseUntil = :released", condition: "#state = :claimed AND leaseUntil = :lease", values: { ":released": now() - 1, ":claimed": "claimed", ":lease": lease } },
                AbortSignal.timeout(RELEASE_TIMEOUT_MS),
            );
        } catch {
            // The lease runs out by itself.
        }
    }

    return {
        /**
         * Counts one view exactly once per event id. Throws on DynamoDB errors before the commit
         * (the caller retries the record); after the commit the outcome is final.
         */
        async count(view: ViewToCount, call: CountOptions): Promise<CountResult> {
            const day = utcDay(view.viewedAt);
            const claimed = await claim(view, day, call);
            if ("outcome" in claimed) return claimed;
            try {
                await apply(view, day, call.abortSignal);
                await commit(view, claimed.lease, call.abortSignal);
            } catch (error) {
                await releaseClaim(view, claimed.lease);
                throw error;
            }
            return { outcome: "counted", cleanUpError: await bestEffortCleanUp(view, day, call.abortSignal) };
        },
    };
}

export type ViewCounter = ReturnType<typeof createViewCounter>;
