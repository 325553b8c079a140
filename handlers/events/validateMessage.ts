import { EVENT_TYPES, EventCatalog, EventName, findEventType } from "./catalog";

/** One problem with a message, at a field path: `detail.restaurantId`, `detail-type`, `(body)`. */
export interface MessageIssue {
    path: string;
    message: string;
}

/** Why a message failed: the first check it did not pass. */
export type MessageStage = "json" | "envelope" | "catalog" | "detail" | "stale";

/**
 * The oldest event (by its envelope `time`) a consumer may still process. Consumers keep their
 * idempotency records for longer than this plus a margin (the analytics consumer: 35 days, see
 * analyticsConsumer/items.ts), so an event this young is always recognised when it was processed
 * before. An older one may have outlived its record and would be processed twice; nothing bounds
 * its age otherwise: an SQS redrive resets a message's retention ("redriven messages are
 * considered new messages"), and the ops CLI redrives.
 */
export const MAX_EVENT_AGE_DAYS = 30;

export interface ValidateMessageOptions {
    /** Clock in epoch milliseconds, for the age check. Default Date.now. */
    now?: () => number;
}

export type MessageValidation =
    | { valid: true; event: EventName; eventId: string; source: string; detailType: string; detail: unknown }
    | { valid: false; stage: Exclude<MessageStage, "stale">; issues: MessageIssue[]; eventId?: string; source?: string; detailType?: string }
    /** `time` is the envelope's, as the message gives it (what a log of the stale event shows). */
    | { valid: false; stage: "stale"; issues: MessageIssue[]; eventId: string; source: string; detailType: string; time: string };

/** Formats a zod issue path: ["detail", "items", 0, "id"] -> "detail.items[0].id". */
export function formatPath(path: readonly PropertyKey[], prefix = ""): string {
    let out = prefix;
    for (const key of path) {
        if (typeof key === "number") out += `[${key}]`;
        else out += out === "" ? String(key) : `.${String(key)}`;
    }
    return out === "" ? "(root)" : out;
}

/**
 * Validates a queue message body routed by EventBridge (the whole envelope as a JSON string), the
 * way consumers and the ops CLI must agree on: JSON, then the envelope, then the catalog entry of
 * (source, detail-type), then the detail against its zod schema, then the event's age: an event
 * older than MAX_EVENT_AGE_DAYS (envelope `time`) is `stale`, a record that can never succeed. Uses
 * the catalog it is given (built once per cold start by the caller), so nothing of zod is captured
 * here.
 */
export function validateEventMessage(body: string, catalog: EventCatalog, options: ValidateMessageOptions = {}): MessageValidation {
    let parsed: unknown;
    try {
        parsed = JSON.parse(body);
    } catch (error) {
        return { valid: false, stage: "json", issues: [{ path: "(body)", message: `not JSON: ${(error as Error).message}` }] };
    }
    const raw = parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
    const known = {
        eventId: typeof raw.id === "string" ? raw.id : undefined,
        source: typeof raw.source === "string" ? raw.source : undefined,
        detailType: typeof raw["detail-type"] === "string" ? raw["detail-type"] : undefined,
    };
    const envelope = catalog.envelope.safeParse(parsed);
    if (!envelope.success) {
        return { valid: false, stage: "envelope", ...known, issues: envelope.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) };
    }
    const { id: eventId, source } = envelope.data;
    const detailType = envelope.data["detail-type"];
    const time = Date.parse(envelope.data.time);
    if (Number.isNaN(time)) {
        return { valid: false, stage: "envelope", ...known, issues: [{ path: "time", message: `not a timestamp: ${JSON.stringify(envelope.data.time)}` }] };
    }
    const event = findEventType(source, detailType);
    if (!event) {
        const catalogued = Object.values(EVENT_TYPES).map((t) => `${t.source}/${t.detailType}`).join(", ");
        return {
            valid: false,
            stage: "catalog",
            eventId,
            source,
            detailType,
            issues: [{ path: "detail-type", message: `no catalog event for source "${source}" and detail-type "${detailType}" (catalog: ${catalogued})` }],
        };
    }
    const detail = catalog.detail[event].safeParse(envelope.data.detail);
    if (!detail.success) {
        return { valid: false, stage: "detail", eventId, source, detailType, issues: detail.error.issues.map((i) => ({ path: formatPath(i.path, "detail"), message: i.message })) };
    }
    const ageIssue = eventAgeIssue(time, (options.now ?? Date.now)());
    if (ageIssue) return { valid: false, stage: "stale", eventId, source, detailType, time: envelope.data.time, issues: [ageIssue] };
    return { valid: true, event, eventId, source, detailType, detail: detail.data };
}

/**
 * The problem with an event's age (envelope `time`, epoch ms), if any. The message does not name
 * the age, so that the ops CLI groups every stale message under one issue.
 */
export function eventAgeIssue(timeMs: number, nowMs: number): MessageIssue | undefined {
    if (nowMs - timeMs > MAX_EVENT_AGE_DAYS * 86_400_000) {
        return {
            path: "time",
            message: `event is older than ${MAX_EVENT_AGE_DAYS} days: its idempotency record may have expired, so a consumer could process it twice`,
        };
    }
    return undefined;
}
