/** What flows through the local platform, one event per step, and its one-line rendering. */
import { BusEvent } from "./eventBridge";
import { PollerEvent } from "./poller";
import { QueueEvent } from "./queues";
import { formatMs } from "./timing";

export type FlowEvent = (
    | { kind: "http"; method: string; path: string; status: number; durationMs: number; route?: string; error?: string }
    | BusEvent
    | PollerEvent
    | Exclude<QueueEvent, { kind: "sent" }>
    | { kind: "redriven"; queue: string; dlq: string; moved: number }
    | { kind: "function-error"; functionName: string; error: string }
    | { kind: "warning"; message: string }
) & { at?: number };

const short = (id: string | undefined) => (id ? id.slice(0, 8) : "-");

/** Longest value (a request path, an error message) a flow line prints whole. */
export const MAX_FLOW_VALUE = 120;

/**
 * A value as a flow line prints it: on one line, and cut to MAX_FLOW_VALUE characters with the
 * number left out, so a 10,000-character id cannot flood the terminal.
 */
export function clip(text: string, max = MAX_FLOW_VALUE): string {
    const oneLine = text.replace(/[\r\n]+/g, " ");
    if (oneLine.length <= max) return oneLine;
    return `${oneLine.slice(0, max)}... (${oneLine.length - max} more characters)`;
}

function pad(kind: string): string {
    return kind.padEnd(10);
}

/** `12:00:01.123  published  RestaurantViewed from bellyfed.restaurants on platform-bus (event 1f2e3d4c)` */
export function formatFlow(event: FlowEvent): string {
    const time = new Date(event.at ?? Date.now()).toISOString().slice(11, 23);
    return `${time}  ${describe(event)}`;
}

function describe(e: FlowEvent): string {
    switch (e.kind) {
        case "http":
            return `${pad("http")} ${clip(e.method, 16)} ${clip(e.path)} -> ${e.status} (${e.durationMs} ms)${e.error ? `: ${clip(e.error)}` : ""}`;
        case "published":
            return `${pad("published")} ${clip(e.detailType)} from ${clip(e.source)} on ${e.bus} (event ${short(e.eventId)})`;
        case "rejected":
            return `${pad("rejected")} PutEvents entry: ${e.errorCode}: ${clip(e.errorMessage)}`;
        case "matched":
            return `${pad("matched")} rule ${e.rule} (event ${short(e.eventId)})`;
        case "unmatched":
            return `${pad("unmatched")} no rule on ${e.bus} matches event ${short(e.eventId)}`;
        case "delivered":
            return `${pad("delivered")} to ${e.target} by rule ${e.rule} (event ${short(e.eventId)}${e.messageId ? `, message ${short(e.messageId)}` : ""})`;
        case "target-failed":
            return `${pad("failed")} delivery to ${e.target} by rule ${e.rule}: ${clip(e.error)}${e.deadLetterQueue ? ` -> ${e.deadLetterQueue}` : " (no target DLQ: event dropped)"}`;
        case "batch-processed":
            return `${pad("processed")} ${e.functionName}: batch of ${e.size} from ${e.queue} in ${e.durationMs} ms${e.failed.length ? `, ${e.failed.length} reported failed (${e.failed.map(short).join(", ")})` : ""}`;
        case "batch-failed":
            return `${pad("failed")} ${e.functionName}: batch of ${e.size} from ${e.queue} (receive ${e.receiveCounts.join(",")}): ${clip(e.error)}${e.heldMs === undefined ? "" : ` (killed: its messages stay hidden ${formatMs(e.heldMs)}, past its deadline and any claim it left)`}`;
        case "dead-lettered":
            return `${pad("dlq")} message ${short(e.messageId)} moved from ${e.queue} to ${e.dlq} after ${e.receiveCount} receives`;
        case "expired":
            return `${pad("expired")} message ${short(e.messageId)} on ${e.queue} passed the retention period`;
        case "deduplicated":
            return `${pad("dedup")} duplicate of message ${short(e.messageId)} on ${e.queue} dropped`;
        case "redriven":
            return `${pad("redrive")} ${e.moved} message(s) from ${e.dlq} back to ${e.queue}`;
        case "function-error":
            return `${pad("error")} ${e.functionName}: ${clip(e.error)}`;
        case "warning":
            return `${pad("warning")} ${e.message}`;
    }
}
