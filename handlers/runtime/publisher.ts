import type { EventBridgeClient, PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { EVENT_TYPES, EventCatalog, EventDetails, EventName } from "../events/catalog";
import { DEADLINE_EXCEEDED } from "./deadline";

/** PutEvents accepts at most 10 entries per call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;

/**
 * Per-entry error codes worth another attempt; any other code will fail the same way again.
 * `MissingResult` is this publisher's own code for an entry the answer has no result for (PutEvents
 * answers one result per entry, in request order): it was sent, but nobody knows whether EventBridge
 * took it, so it is retried like a transient failure (an analytics view may then be counted twice,
 * which is better than losing it silently).
 */
export const TRANSIENT_PUT_EVENTS_CODES = ["InternalFailure", "ThrottlingException", "ServiceUnavailable", "InternalException", "MissingResult"];

export interface PublisherOptions {
    client: EventBridgeClient;
    busName: string;
    catalog: EventCatalog;
    logger?: Logger;
    metrics?: Metrics;
    /** Attempts per entry, the first included (default 3). */
    maxAttempts?: number;
    /** Base backoff in ms, doubled per attempt with full jitter (default 50). */
    baseDelayMs?: number;
    sleep?: (ms: number) => Promise<void>;
}

export interface PublishOptions {
    /**
     * Stops publishing when aborted (see runtime/deadline.ts): the request in flight is abandoned and
     * every entry not yet accepted is reported failed with the code `DeadlineExceeded`.
     */
    abortSignal?: AbortSignal;
}

export interface PublishRequest<N extends EventName = EventName> {
    name: N;
    detail: EventDetails[N];
}

export interface PublishResult {
    /** Events EventBridge accepted, with their ids, in request order. */
    published: { name: EventName; eventId: string }[];
    /** Events that failed after the retries, with the last error code. */
    failed: { name: EventName; errorCode: string; errorMessage?: string }[];
}

/**
 * Publishes catalog events to one bus. Validates every detail before sending (a schema violation is a
 * programming error and throws). PutEvents answers 200 even when entries fail, so each entry's
 * ErrorCode is checked: transient codes are retried a bounded number of times, the rest are logged,
 * counted (PublishFailures metric) and returned, never thrown.
 */
export function createEventPublisher(options: PublisherOptions) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PutEventsCommand } = require("@aws-sdk/client-eventbridge") as typeof import("@aws-sdk/client-eventbridge");
    const maxAttempts = options.maxAttempts ?? 3;
    const baseDelayMs = options.baseDelayMs ?? 50;
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

    function toEntry(request: PublishRequest): PutEventsRequestEntry {
        const type = EVENT_TYPES[request.name];
        const detail = options.catalog.detail[request.name].parse(request.detail);
        return { EventBusName: options.busName, Source: type.source, DetailType: type.detailType, Detail: JSON.stringify(detail) };
    }

    type Pending = { request: PublishRequest; entry: PutEventsRequestEntry; errorCode: string; errorMessage: string };

    function fail(item: Pending, result: PublishResult, attempts: number): void {
        result.failed.push({ name: item.request.name, errorCode: item.errorCode, errorMessage: item.errorMessage });
        options.logger?.error("event publish failed", { event: item.request.name, errorCode: item.errorCode, errorMessage: item.errorMessage, attempts });
    }

    function deadlineExceeded(items: Pending[], signal: AbortSignal): void {
        const reason = signal.reason as { message?: string } | undefined;
        for (const item of items) Object.assign(item, { errorCode: DEADLINE_EXCEEDED, errorMessage: reason?.message ?? "publishing was aborted" });
    }

    /**
     * Sorts one PutEvents answer into published and to-retry entries. The answer is walked by the
     * entries sent, not by the results received: an entry without a result is a failure
     * (`MissingResult`), never silently neither published nor failed.
     */
    function readAnswer(pending: Pending[], response: { FailedEntryCount?: number; Entries?: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[] }, result: PublishResult): Pending[] {
        const results = response.Entries ?? [];
        const retry: Pending[] = [];
        pending.forEach((item, i) => {
            const entry = results[i];
            if (!entry) {
                Object.assign(item, { errorCode: "MissingResult", errorMessage: `PutEvents answered ${results.length} result(s) for ${pending.length} entries` });
                retry.push(item);
            } else if (entry.EventId && !entry.ErrorCode) {
                result.published.push({ name: item.request.name, eventId: entry.EventId });
            } else {
                Object.assign(item, { errorCode: entry.ErrorCode ?? "Unknown", errorMessage: entry.ErrorMessage ?? "" });
                retry.push(item);
            }
        });
        const reported = response.FailedEntryCount ?? 0;
        if (reported !== retry.length) {
            // The per-entry results decide (they say which entries failed); the mismatch is worth a look.
            options.logger?.warn("PutEvents FailedEntryCount disagrees with its per-entry results", {
                failedEntryCount: reported,
                failedEntries: retry.length,
                sent: pending.length,
                results: results.length,
            });
        }
        return retry;
    }

    async function sendChunk(requests: PublishRequest[], result: PublishResult, signal: AbortSignal | undefined): Promise<void> {
        let pending: Pending[] = requests.map((request) => ({ request, entry: toEntry(request), errorCode: "", errorMessage: "" }));
        for (let attempt = 1; pending.length > 0; attempt++) {
            if (signal?.aborted) {
                deadlineExceeded(pending, signal);
                for (const item of pending) fail(item, result, attempt - 1);
                return;
            }
            let retry: Pending[];
            try {
                const response = await options.client.send(new PutEventsCommand({ Entries: pending.map((p) => p.entry) }), { abortSignal: signal });
                retry = readAnswer(pending, response, result);
            } catch (error) {
                // The SDK already retried throttling, 5xx and timeouts; what reaches here is final for this attempt.
                const e = error as { name?: string; message?: string };
                for (const item of pending) Object.assign(item, { errorCode: e.name ?? "Error", errorMessage: e.message ?? "" });
                if (signal?.aborted) deadlineExceeded(pending, signal);
                retry = pending;
            }
            const transient = retry.filter((p) => TRANSIENT_PUT_EVENTS_CODES.includes(p.errorCode));
            const final = attempt >= maxAttempts ? retry : retry.filter((p) => !transient.includes(p));
            for (const item of final) fail(item, result, attempt);
            pending = attempt >= maxAttempts ? [] : transient;
            if (pending.length > 0) await sleep(Math.random() * baseDelayMs * 2 ** (attempt - 1));
        }
    }

    return {
        async publish(requests: PublishRequest[], publishOptions: PublishOptions = {}): Promise<PublishResult> {
            const result: PublishResult = { published: [], failed: [] };
            for (let i = 0; i < requests.length; i += PUT_EVENTS_MAX_ENTRIES) {
                await sendChunk(requests.slice(i, i + PUT_EVENTS_MAX_ENTRIES), result, publishOptions.abortSignal);
            }
            if (result.failed.length > 0) options.metrics?.addMetric("PublishFailures", "Count", result.failed.length);
            if (result.published.length > 0) options.metrics?.addMetric("EventsPublished", "Count", result.published.length);
            return result;
        },
    };
}

export type EventPublisher = ReturnType<typeof createEventPublisher>;
