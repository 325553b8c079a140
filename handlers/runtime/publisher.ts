import type { EventBridgeClient, PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { EVENT_TYPES, EventCatalog, EventDetails, EventName } from "../events/catalog";

/** PutEvents accepts at most 10 entries per call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;

/** Per-entry error codes worth another attempt; any other code will fail the same way again. */
export const TRANSIENT_PUT_EVENTS_CODES = ["InternalFailure", "ThrottlingException", "ServiceUnavailable", "InternalException"];

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

    async function sendChunk(requests: PublishRequest[], result: PublishResult): Promise<void> {
        let pending = requests.map((request) => ({ request, entry: toEntry(request), errorCode: "", errorMessage: "" }));
        for (let attempt = 1; pending.length > 0; attempt++) {
            let retry: typeof pending = [];
            try {
                const response = await options.client.send(new PutEventsCommand({ Entries: pending.map((p) => p.entry) }));
                (response.Entries ?? []).forEach((entry, i) => {
                    const item = pending[i];
                    if (entry.EventId && !entry.ErrorCode) {
                        result.published.push({ name: item.request.name, eventId: entry.EventId });
                    } else {
                        item.errorCode = entry.ErrorCode ?? "Unknown";
                        item.errorMessage = entry.ErrorMessage ?? "";
                        retry.push(item);
                    }
                });
            } catch (error) {
                // The SDK already retried throttling and 5xx answers; what reaches here is final for this attempt.
                const e = error as { name?: string; message?: string };
                for (const item of pending) Object.assign(item, { errorCode: e.name ?? "Error", errorMessage: e.message ?? "" });
                retry = pending;
            }
            const transient = retry.filter((p) => TRANSIENT_PUT_EVENTS_CODES.includes(p.errorCode));
            const final = attempt >= maxAttempts ? retry : retry.filter((p) => !transient.includes(p));
            for (const item of final) {
                result.failed.push({ name: item.request.name, errorCode: item.errorCode, errorMessage: item.errorMessage });
                options.logger?.error("event publish failed", {
                    event: item.request.name,
                    errorCode: item.errorCode,
                    errorMessage: item.errorMessage,
                    attempts: attempt,
                });
            }
            pending = attempt >= maxAttempts ? [] : transient;
            if (pending.length > 0) await sleep(Math.random() * baseDelayMs * 2 ** (attempt - 1));
        }
    }

    return {
        async publish(requests: PublishRequest[]): Promise<PublishResult> {
            const result: PublishResult = { published: [], failed: [] };
            for (let i = 0; i < requests.length; i += PUT_EVENTS_MAX_ENTRIES) {
                await sendChunk(requests.slice(i, i + PUT_EVENTS_MAX_ENTRIES), result);
            }
            if (result.failed.length > 0) options.metrics?.addMetric("PublishFailures", "Count", result.failed.length);
            if (result.published.length > 0) options.metrics?.addMetric("EventsPublished", "Count", result.published.length);
            return result;
        },
    };
}

export type EventPublisher = ReturnType<typeof createEventPublisher>;
