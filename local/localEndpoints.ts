/**
 * The `/_local/*` operations API of the local runtime (state, DLQ inspection and redrive, sending a
 * message, fault injection). Every client mistake is a 4xx JSON answer naming what was wrong: a
 * mistyped body never widens what a request does (a redrive of "some" messages never moves all).
 */
import { OutgoingResponse } from "./httpApi";
import { QueueError } from "./queues";

export class LocalRequestError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
        this.name = "LocalRequestError";
    }
}

/** Which EventBridge target DLQ of a queue: `true` = its only one, or a target DLQ's physical or logical name. */
export type TargetDlqChoice = true | string;

/** What the endpoints need of the runtime. */
export interface LocalOperations {
    state(): Promise<{ failRate: number }>;
    sendMessage(queue: string, body: string): string;
    dlqMessages(queue: string, target?: TargetDlqChoice): unknown;
    redrive(queue: string, messageIds?: string[], target?: TargetDlqChoice): unknown;
    setFailRate(rate: number): void;
}

export function json(status: number, body: unknown, extra: [string, string][] = []): OutgoingResponse {
    return { status, headers: [["content-type", "application/json"], ...extra], body: Buffer.from(JSON.stringify(body)) };
}

const shown = (value: unknown): string => {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 200 ? `${text.slice(0, 200)}...` : text;
};

/** `?target=1` (the queue's only target DLQ) or `?target=<target DLQ name>`; absent: the queue's SQS DLQ. */
export function targetQuery(query: URLSearchParams): TargetDlqChoice | undefined {
    const value = query.get("target");
    if (value === null) return undefined;
    if (value === "" || value === "0" || value === "false") throw new LocalRequestError(400, `target must be 1 (the queue's only target DLQ) or a target DLQ's name, got "${value}"`);
    return value === "1" || value === "true" ? true : value;
}

/** The JSON body: empty means `{}`; anything that is not JSON is a 400 saying so. */
export function parseJsonBody(body: Buffer): unknown {
    const text = body.toString("utf8").trim();
    if (text === "") return {};
    try {
        return JSON.parse(text);
    } catch (error) {
        throw new LocalRequestError(400, `Request body is not valid JSON: ${(error as Error).message}`);
    }
}

/**
 * The body of a redrive: empty or `{}` moves every DLQ message; `{ "messageIds": ["..."] }` moves
 * those. Anything else (a list, null, a misspelled or extra key, ids that are not strings) is a 400
 * naming the problem: a typo must never turn "these messages" into "all of them".
 */
export function parseRedriveBody(body: Buffer): { messageIds?: string[] } {
    const request = parseObjectBody(
        body,
        "redrive",
        ["messageIds"],
        'empty, {} (every DLQ message) or { "messageIds": ["<message id>", ...] }',
        'the only field is "messageIds" (a list of message id strings); without it every DLQ message moves',
    );
    const ids = request.messageIds;
    if (ids === undefined) return {};
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string" || id === "")) {
        throw new LocalRequestError(400, `messageIds must be a list of message id strings, got ${shown(ids)}`);
    }
    return { messageIds: ids as string[] };
}

/**
 * A JSON object body with exactly the fields `allowed` (the `required` ones present): anything else
 * (a list, null, a misspelled or extra key) is a 400 naming the problem. A typo must never be ignored: `{"failrate": 1}` would otherwise "succeed" and change nothing.
 * `fieldsHint` replaces what an unknown field's message says about the fields (default: their names
 * and `expected`).
 */
export function parseObjectBody(body: Buffer, what: string, allowed: string[], expected: string, fieldsHint?: string): Record<string, unknown> {
    const request = parseJsonBody(body);
    if (request === null || typeof request !== "object" || Array.isArray(request)) {
        throw new LocalRequestError(400, `The ${what} body must be ${expected}, got ${shown(request)}`);
    }
    const unknown = Object.keys(request).filter((key) => !allowed.includes(key));
    if (unknown.length > 0) {
        const fields = allowed.map((k) => JSON.stringify(k)).join(", ");
        const hint = fieldsHint ?? `its field${allowed.length > 1 ? "s are" : " is"} ${fields} (${expected})`;
        throw new LocalRequestError(400, `Unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")} in the ${what} body: ${hint}`);
    }
    return request as Record<string, unknown>;
}

/** A path segment, percent-decoded; malformed percent-encoding is the client's mistake (400). */
function decodeSegment(segment: string, what: string): string {
    try {
        return decodeURIComponent(segment);
    } catch {
        throw new LocalRequestError(400, `The ${what} in the path is not valid percent-encoding: "${segment.length > 100 ? `${segment.slice(0, 100)}...` : segment}"`);
    }
}

/** Runs an operation, answering a queue's refusal (an oversized or empty body, a FIFO rule) with 400. */
function asClientError<T>(operation: () => T): T {
    try {
        return operation();
    } catch (error) {
        if (error instanceof QueueError) throw new LocalRequestError(400, error.message);
        throw error;
    }
}

export const LOCAL_ENDPOINTS =
    "GET /_local/state, GET /_local/queues/{name}/dlq[?target=1], POST /_local/queues/{name}/redrive[?target=1], POST /_local/queues/{name}/messages, GET|POST /_local/faults";

/** Answers one `/_local` request; a LocalRequestError becomes its status with `{ "message" }`. */
export async function localRequest(runtime: LocalOperations, method: string, pathname: string, query: URLSearchParams, body: Buffer): Promise<OutgoingResponse> {
    try {
        return await route(runtime, method, pathname, query, body);
    } catch (error) {
        if (error instanceof LocalRequestError) return json(error.status, { message: error.message });
        throw error;
    }
}

async function route(runtime: LocalOperations, method: string, pathname: string, query: URLSearchParams, body: Buffer): Promise<OutgoingResponse> {
    const allow = (...methods: string[]) => {
        if (!methods.includes(method)) throw new LocalRequestError(405, `${pathname} accepts ${methods.join(", ")}, not ${method}`);
    };
    if (pathname === "/_local/state") {
        allow("GET");
        return json(200, await runtime.state());
    }
    const queueRoute = /^\/_local\/queues\/([^/]+)\/(redrive|dlq|messages)$/.exec(pathname);
    if (queueRoute) {
        const name = decodeSegment(queueRoute[1], "queue name");
        switch (queueRoute[2]) {
            case "dlq":
                allow("GET");
                return json(200, runtime.dlqMessages(name, targetQuery(query)));
            case "redrive": {
                allow("POST");
                const { messageIds } = parseRedriveBody(body);
                return json(200, runtime.redrive(name, messageIds, targetQuery(query)));
            }
            case "messages": {
                allow("POST");
                const expected = '{ "body": "<message body string>" }';
                const request = parseObjectBody(body, "message", ["body"], expected);
                if (typeof request.body !== "string" || request.body === "") throw new LocalRequestError(400, `expected ${expected}, got body ${shown(request.body)}`);
                const text = request.body;
                return json(200, { messageId: asClientError(() => runtime.sendMessage(name, text)) });
            }
        }
    }
    if (pathname === "/_local/faults") {
        allow("GET", "POST");
        if (method === "POST") {
            const rate = parseObjectBody(body, "faults", ["failRate"], '{ "failRate": <number from 0 to 1> }').failRate;
            if (typeof rate !== "number" || rate < 0 || rate > 1) throw new LocalRequestError(400, `failRate must be a number from 0 to 1, got ${shown(rate)}`);
            runtime.setFailRate(rate);
        }
        return json(200, { failRate: (await runtime.state()).failRate });
    }
    throw new LocalRequestError(404, `Unknown local endpoint ${method} ${pathname.length > 200 ? `${pathname.slice(0, 200)}...` : pathname}. Endpoints: ${LOCAL_ENDPOINTS}`);
}
