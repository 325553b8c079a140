import { buildEventCatalog, EVENT_TYPES, EventCatalog, EventName, findEventType } from "../handlers/events/catalog";

export interface ValidationIssue {
    /** Where in the message: `detail.restaurantId`, `detail-type`, `resources[0]`, `(body)`. */
    path: string;
    message: string;
}

export type BodyValidation =
    | { valid: true; event: EventName; eventId: string; detailType: string }
    | { valid: false; issues: ValidationIssue[]; eventId?: string; detailType?: string };

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
 * Re-validates a queue message body the way the consumers do: the body is the whole EventBridge
 * envelope as a JSON string; the envelope, then the catalog entry of (source, detail-type), then the
 * detail against its zod schema. A failure names the path and the zod message.
 */
export function validateMessageBody(body: string, catalog: EventCatalog = buildEventCatalog()): BodyValidation {
    let parsed: unknown;
    try {
        parsed = JSON.parse(body);
    } catch (error) {
        return { valid: false, issues: [{ path: "(body)", message: `not JSON: ${(error as Error).message}` }] };
    }
    const envelope = catalog.envelope.safeParse(parsed);
    const raw = parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
    const eventId = typeof raw.id === "string" ? raw.id : undefined;
    const detailType = typeof raw["detail-type"] === "string" ? raw["detail-type"] : undefined;
    if (!envelope.success) {
        return { valid: false, eventId, detailType, issues: envelope.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) };
    }
    const { source } = envelope.data;
    const name = findEventType(source, envelope.data["detail-type"]);
    if (!name) {
        const known = Object.values(EVENT_TYPES).map((t) => `${t.source}/${t.detailType}`).join(", ");
        return { valid: false, eventId, detailType, issues: [{ path: "detail-type", message: `no catalog event for source "${source}" and detail-type "${detailType}" (catalog: ${known})` }] };
    }
    const detail = catalog.detail[name].safeParse(envelope.data.detail);
    if (!detail.success) {
        return { valid: false, eventId, detailType, issues: detail.error.issues.map((i) => ({ path: formatPath(i.path, "detail"), message: i.message })) };
    }
    return { valid: true, event: name, eventId: envelope.data.id, detailType: envelope.data["detail-type"] };
}

/** A stable key for grouping invalid messages by what is wrong with them. */
export function issueKey(issues: ValidationIssue[]): string {
    return issues.map((i) => `${i.path}: ${i.message}`).join("; ");
}
