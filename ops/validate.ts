import { MessageIssue, MessageValidation, validateEventMessage } from "../handlers/events/validateMessage";
import { buildEventCatalog, EventCatalog } from "../handlers/events/catalog";

export { formatPath } from "../handlers/events/validateMessage";
export type ValidationIssue = MessageIssue;
export type BodyValidation = MessageValidation;

/**
 * Re-validates a queue message body exactly as the consumers do (handlers/events/validateMessage.ts),
 * at the CLI's clock `now` (epoch ms): an event too old for the consumers is poison here too.
 */
export function validateMessageBody(body: string, catalog: EventCatalog = buildEventCatalog(), now: () => number = Date.now): BodyValidation {
    return validateEventMessage(body, catalog, { now });
}

/** A stable key for grouping invalid messages by what is wrong with them. */
export function issueKey(issues: ValidationIssue[]): string {
    return issues.map((i) => `${i.path}: ${i.message}`).join("; ");
}
