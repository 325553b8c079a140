import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { EXIT_FAILED, EXIT_USAGE, OpsError } from "./errors";

/** `GET /_local/state` of the local runtime (local/). */
export interface LocalState {
    stack: string;
    endpoints: { http: string; dynamodb: string; eventbridge: string };
    tables?: { name: string; itemCount?: number }[];
    /** Source queues (DLQs appear under their queue). `name` is the physical name, `logicalName` the ProcessedQueue's. */
    queues: {
        name: string;
        logicalName?: string;
        /** The queue's URL and ARN as the program declares them (what `<queue>` may be given as). */
        url?: string;
        arn?: string;
        visible: number;
        inFlight: number;
        delayed?: number;
        dlq?: { name: string; visible: number; inFlight?: number } | null;
        /** The EventBridge target DLQs of the routes that deliver to this queue. */
        targetDlqs?: { name: string; visible: number; inFlight?: number }[];
    }[];
    rules: { name: string; logicalName?: string; bus?: string; enabled?: boolean; matched: number; delivered?: number; failed?: number; tags?: Record<string, string> }[];
    functions?: { name: string; invocations?: number; errors?: number }[];
    /** The bus's name, when the runtime reports it. */
    eventBusName?: string;
}

export interface LocalDlqMessage {
    messageId: string;
    body: string;
    receiveCount?: number;
    sentTimestamp?: number | string;
}

export interface LocalDlq {
    queue: string;
    dlq: string;
    messages: LocalDlqMessage[];
}

/**
 * An EventBridge client for the local runtime's EventBridge endpoint (`endpoints.eventbridge` in its
 * state), which answers PutEvents, ListRules, DescribeRule, ListTargetsByRule and TestEventPattern.
 * Any credentials do; one attempt (the endpoint is on this machine).
 */
export function localEventBridge(state: LocalState, url: string, region = "us-east-1"): { client: EventBridgeClient; endpoint: string } {
    const endpoint = state.endpoints?.eventbridge;
    if (!endpoint) throw new OpsError(`the local runtime at ${url} reports no EventBridge endpoint (endpoints.eventbridge in /_local/state)`);
    const client = new EventBridgeClient({ endpoint, region, credentials: { accessKeyId: "local", secretAccessKey: "local" }, maxAttempts: 1 });
    return { client, endpoint };
}

function targetQuery(targetDlq?: string): string {
    return targetDlq === undefined ? "" : `?target=${encodeURIComponent(targetDlq)}`;
}

/** The local runtime's `/_local/*` operations API, over HTTP. */
export class LocalRuntime {
    readonly baseUrl: string;

    constructor(
        url: string,
        private readonly fetchImpl: typeof fetch,
        /** The stack `--stack` named, if any: a runtime running another stack is an error, not a note. */
        private readonly expectedStack?: string,
    ) {
        let parsed: URL;
        try {
            parsed = new URL(url);
        } catch {
            throw new OpsError(`--local ${url}: not a URL (expected e.g. http://localhost:3000)`, EXIT_USAGE);
        }
        if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new OpsError(`--local ${url}: expected an http:// or https:// URL`, EXIT_USAGE);
        this.baseUrl = parsed.toString().replace(/\/+$/, "");
    }

    /** `GET /_local/state`; exit 2 when `--stack` names another stack than the one the runtime runs. */
    async state(): Promise<LocalState> {
        const state = await this.request<LocalState>("GET", "/_local/state");
        if (this.expectedStack !== undefined && state.stack !== this.expectedStack) {
            throw new OpsError(
                `--stack ${this.expectedStack}, but the local runtime at ${this.baseUrl} runs stack "${state.stack}": ` +
                    `drop --stack (it is optional with --local), or start the runtime of stack "${this.expectedStack}" (npm start -- --stack ${this.expectedStack})`,
                EXIT_USAGE,
            );
        }
        return state;
    }

    /** The queue's DLQ, or with `targetDlq` (a target DLQ's name) the DLQ of the rule target delivering to it. */
    dlq(queue: string, targetDlq?: string): Promise<LocalDlq> {
        return this.request<LocalDlq>("GET", `/_local/queues/${encodeURIComponent(queue)}/dlq${targetQuery(targetDlq)}`);
    }

    redrive(queue: string, messageIds?: string[], targetDlq?: string): Promise<{ moved: number; notFound?: string[] }> {
        return this.request<{ moved: number; notFound?: string[] }>("POST", `/_local/queues/${encodeURIComponent(queue)}/redrive${targetQuery(targetDlq)}`, messageIds ? { messageIds } : {});
    }

    private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
        const url = `${this.baseUrl}${path}`;
        let response: Response;
        try {
            response = await this.fetchImpl(url, {
                method,
                headers: body === undefined ? undefined : { "content-type": "application/json" },
                body: body === undefined ? undefined : JSON.stringify(body),
            });
        } catch (error) {
            const cause = (error as { cause?: { code?: string } }).cause?.code;
            throw new OpsError(`No local runtime answers at ${this.baseUrl} (${cause ?? (error as Error).message}): start it with \`npm start\` and pass the URL it prints`, EXIT_USAGE);
        }
        const text = await response.text();
        let data: any;
        try {
            data = text === "" ? {} : JSON.parse(text);
        } catch {
            throw new OpsError(`${method} ${url} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
        }
        if (!response.ok) {
            const message = data?.message ?? data?.error ?? text;
            throw new OpsError(`${method} ${url} answered ${response.status}: ${typeof message === "string" ? message : JSON.stringify(message)}`, response.status === 404 ? EXIT_USAGE : EXIT_FAILED);
        }
        return data as T;
    }
}
