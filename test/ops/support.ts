/**
 * Shared harness of the ops CLI tests: runs `runOps` in-process with mocked SQS, EventBridge and
 * CloudWatch clients (aws-sdk-client-mock), captured output, recorded sleeps and no real waiting;
 * plus fixtures for a stack's tagged queues and rules, and a fake local runtime over HTTP.
 */
import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { EventBridgeClient, ListEventBusesCommand, ListRulesCommand, ListTagsForResourceCommand, ListTargetsByRuleCommand, Rule, Target } from "@aws-sdk/client-eventbridge";
import { GetQueueAttributesCommand, ListQueuesCommand, ListQueueTagsCommand, Message, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import * as http from "http";
import { AddressInfo } from "net";
import { runOps } from "../../ops/cli";
import { OpsIO } from "../../ops/context";

export const REGION = "us-east-1";

/** The tags stacks/platform.ts puts on every resource of a stack. */
export const stackTags = (stack = "dev") => ({ project: "bellyfed", stack });
export const ACCOUNT = "123456789012";
const credentials = { accessKeyId: "test", secretAccessKey: "test" };

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
    /** stdout parsed as one JSON document. */
    json(): any;
}

export class OpsHarness {
    readonly sqs = new SQSClient({ region: REGION, credentials });
    readonly eventBridge = new EventBridgeClient({ region: REGION, credentials });
    readonly cloudWatch = new CloudWatchClient({ region: REGION, credentials });
    readonly sqsMock = mockClient(this.sqs);
    readonly ebMock = mockClient(this.eventBridge);
    readonly cwMock = mockClient(this.cloudWatch);
    /** Every sleep the CLI asked for, in ms (nothing really waits). */
    readonly sleeps: number[] = [];
    now = new Date("2024-05-01T12:00:00Z");

    constructor() {
        // No datapoints unless a test says otherwise.
        this.cwMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    }

    io(extra: Partial<OpsIO> = {}): OpsIO {
        return {
            clients: { sqs: this.sqs, eventBridge: this.eventBridge, cloudWatch: this.cloudWatch },
            sleep: async (ms) => {
                this.sleeps.push(ms);
            },
            now: () => this.now,
            random: () => 0.5,
            isTTY: false,
            planStack: async () => {
                throw new Error("no plan in this test");
            },
            ...extra,
        };
    }

    async run(argv: string[], extra: Partial<OpsIO> = {}): Promise<RunResult> {
        let stdout = "";
        let stderr = "";
        const code = await runOps(argv, {
            ...this.io(extra),
            stdout: { write: (t: string) => (stdout += t) },
            stderr: { write: (t: string) => (stderr += t) },
        });
        return {
            code,
            stdout,
            stderr,
            json: () => {
                try {
                    return JSON.parse(stdout);
                } catch {
                    throw new Error(`stdout is not one JSON document:\n${stdout}\nstderr:\n${stderr}`);
                }
            },
        };
    }

    /** The inputs of every call of one command, in order. */
    calls(mock: { commandCalls(command: any): { args: [{ input: any }] }[] }, command: any): any[] {
        return mock.commandCalls(command).map((c) => c.args[0].input);
    }
}

export function queueUrl(name: string): string {
    return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`;
}

export function queueArn(name: string): string {
    return `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
}

export interface QueueFixture {
    name: string;
    tags?: Record<string, string>;
    attributes?: Record<string, string>;
}

/**
 * A ProcessedQueue of a stack as AWS holds it: source and DLQ tagged per the contract, the source's
 * RedrivePolicy naming the DLQ and the DLQ's RedriveAllowPolicy naming the source.
 */
export function processedQueue(
    component: string,
    options: { stack?: string; fifo?: boolean; counts?: { visible?: number; inFlight?: number; delayed?: number; dlqVisible?: number }; source?: Record<string, string>; dlq?: Record<string, string> } = {},
): QueueFixture[] {
    const stack = options.stack ?? "dev";
    const ext = options.fifo ? ".fifo" : "";
    const source = `${component}-a1b2c3d${ext}`;
    const dlq = `${component}-dlq-e4f5a6b${ext}`;
    const tags = (role: string) => ({ ...stackTags(stack), "bellyfed:processed-queue": component, "bellyfed:queue-role": role });
    const c = options.counts ?? {};
    return [
        {
            name: source,
            tags: tags("source"),
            attributes: {
                QueueArn: queueArn(source),
                FifoQueue: String(Boolean(options.fifo)),
                RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn(dlq), maxReceiveCount: 5 }),
                VisibilityTimeout: "60",
                ApproximateNumberOfMessages: String(c.visible ?? 0),
                ApproximateNumberOfMessagesNotVisible: String(c.inFlight ?? 0),
                ApproximateNumberOfMessagesDelayed: String(c.delayed ?? 0),
                ...options.source,
            },
        },
        {
            name: dlq,
            tags: tags("dlq"),
            attributes: {
                QueueArn: queueArn(dlq),
                FifoQueue: String(Boolean(options.fifo)),
                RedriveAllowPolicy: JSON.stringify({ redrivePermission: "byQueue", sourceQueueArns: [queueArn(source)] }),
                MessageRetentionPeriod: "1209600",
                ApproximateNumberOfMessages: String(c.dlqVisible ?? 0),
                ApproximateNumberOfMessagesNotVisible: "0",
                ApproximateNumberOfMessagesDelayed: "0",
                ...options.dlq,
            },
        },
    ];
}

/** Makes ListQueues, ListQueueTags and GetQueueAttributes answer for these queues. */
export function stubQueues(h: OpsHarness, queues: QueueFixture[]): void {
    h.sqsMock.on(ListQueuesCommand).resolves({ QueueUrls: queues.map((q) => queueUrl(q.name)) });
    for (const q of queues) {
        h.sqsMock.on(ListQueueTagsCommand, { QueueUrl: queueUrl(q.name) }).resolves({ Tags: q.tags ?? {} });
        h.sqsMock.on(GetQueueAttributesCommand, { QueueUrl: queueUrl(q.name) }).callsFake((input: { AttributeNames?: string[] }) => ({
            Attributes: Object.fromEntries(Object.entries(q.attributes ?? {}).filter(([k]) => !input.AttributeNames || input.AttributeNames.includes(k))),
        }));
    }
}

/** An SQS message whose body is an EventBridge envelope of the catalog's RestaurantViewed. */
export function envelope(detail: Record<string, unknown>, overrides: Record<string, unknown> = {}): string {
    return JSON.stringify({
        version: "0",
        id: `evt-${String(detail.restaurantId ?? "x")}`,
        "detail-type": "RestaurantViewed",
        source: "bellyfed.restaurants",
        account: ACCOUNT,
        time: "2024-05-01T11:00:00Z",
        region: REGION,
        resources: [],
        detail,
        ...overrides,
    });
}

export const validDetail = (restaurantId: string) => ({ version: 1, restaurantId, viewedAt: "2024-05-01T11:00:00.000Z", requestId: `req-${restaurantId}` });

export function sqsMessage(id: string, body: string, extra: Partial<Message> = {}): Message {
    return { MessageId: id, ReceiptHandle: `rh-${id}`, Body: body, Attributes: { ApproximateReceiveCount: "5", SentTimestamp: "1714561200000" }, ...extra };
}

/** A fake local runtime: serves `/_local/*` from in-memory state and records the requests. */
export class FakeLocalRuntime {
    readonly requests: { method: string; path: string; body: any }[] = [];
    url = "";
    private server?: http.Server;

    constructor(
        public state: any,
        public dlqs: Record<string, { queue: string; dlq: string; messages: { messageId: string; body: string; receiveCount?: number }[] }> = {},
        /** Extra routes: "METHOD /path" -> handler returning [status, json]. */
        public routes: Record<string, (body: any) => [number, unknown]> = {},
    ) {}

    async start(): Promise<string> {
        this.server = http.createServer((req, res) => {
            let raw = "";
            req.on("data", (c) => (raw += c));
            req.on("end", () => {
                const body = raw ? JSON.parse(raw) : undefined;
                const path = req.url ?? "/";
                this.requests.push({ method: req.method ?? "GET", path, body });
                const [status, payload] = this.answer(req.method ?? "GET", path, body);
                res.writeHead(status, { "content-type": "application/json" });
                res.end(JSON.stringify(payload));
            });
        });
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        return this.url;
    }

    private answer(method: string, path: string, body: any): [number, unknown] {
        const route = this.routes[`${method} ${path}`];
        if (route) return route(body);
        if (method === "GET" && path === "/_local/state") return [200, this.state];
        const [pathname, query] = path.split("?");
        // `?target=<target DLQ name>`: the target DLQ is keyed by its own name in `dlqs`.
        const target = new URLSearchParams(query ?? "").get("target");
        const m = /^\/_local\/queues\/([^/]+)\/(dlq|redrive)$/.exec(pathname);
        const dlq = m && this.dlqs[target ?? decodeURIComponent(m[1])];
        if (!m || !dlq) return [404, { message: `no route or queue for ${method} ${path}` }];
        if (m[2] === "dlq" && method === "GET") return [200, dlq];
        if (m[2] === "redrive" && method === "POST") {
            const ids: string[] | undefined = body?.messageIds;
            const moving = dlq.messages.filter((msg) => !ids || ids.includes(msg.messageId));
            dlq.messages = dlq.messages.filter((msg) => !moving.includes(msg));
            return [200, { moved: moving.length }];
        }
        return [405, { message: "method not allowed" }];
    }

    async stop(): Promise<void> {
        await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    }
}

export const BUS = "platform-bus-1a2b3c4";
export const busArn = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${name}`;
/** A rule's ARN: `rule/<bus>/<name>` on a custom bus, `rule/<name>` on the default bus. */
export const ruleArn = (name: string, bus = BUS) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${bus === "default" ? "" : `${bus}/`}${name}`;

export interface RuleFixture {
    name: string;
    state?: "ENABLED" | "DISABLED";
    tags?: Record<string, string>;
    /** Default: one target, the analytics queue, with a DLQ and a retry policy. */
    targets?: Target[];
    /** Daily datapoints of MatchedEvents, Invocations, FailedInvocations (none = no datapoint). */
    matched?: number[];
    invocations?: number[];
    failed?: number[];
    managedBy?: string;
}

/** A target delivering to a queue, with a DLQ and a retry policy. */
export function queueTarget(id: string, queue = "analytics-a1b2c3d", dlq = "route-dlq"): Target {
    return { Id: id, Arn: queueArn(queue), DeadLetterConfig: { Arn: queueArn(dlq) }, RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 } };
}

/**
 * The stack's bus (tagged project=bellyfed, stack=dev, next to another stack's bus), its rules with
 * tags and targets, and their metrics. `bus` puts the rules on another bus (e.g. "default") instead.
 * CloudWatch answers as AWS publishes EventBridge's metrics: with the dimensions EventBusName + RuleName
 * for a custom bus and RuleName alone for the default bus; a query with other dimensions finds nothing.
 */
export function stubBus(h: OpsHarness, rules: RuleFixture[] = [], bus = BUS): void {
    h.ebMock.on(ListEventBusesCommand).resolves({
        EventBuses: [
            { Name: "default", Arn: busArn("default") },
            { Name: BUS, Arn: busArn(BUS) },
            { Name: "other-bus", Arn: busArn("other-bus") },
        ],
    });
    const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    h.ebMock.on(ListTagsForResourceCommand, { ResourceARN: busArn(BUS) }).resolves({ Tags: tagList(stackTags("dev")) });
    h.ebMock.on(ListTagsForResourceCommand, { ResourceARN: busArn("other-bus") }).resolves({ Tags: tagList(stackTags("prod")) });
    h.ebMock.on(ListRulesCommand, { EventBusName: bus }).resolves({
        Rules: rules.map(
            (r): Rule => ({
                Name: r.name,
                Arn: ruleArn(r.name, bus),
                EventBusName: bus,
                State: r.state ?? "ENABLED",
                EventPattern: JSON.stringify({ source: ["bellyfed.restaurants"], "detail-type": [r.name] }),
                ManagedBy: r.managedBy,
            }),
        ),
    });
    for (const r of rules) {
        h.ebMock.on(ListTagsForResourceCommand, { ResourceARN: ruleArn(r.name, bus) }).resolves({ Tags: tagList(r.tags ?? {}) });
        h.ebMock.on(ListTargetsByRuleCommand, { Rule: r.name }).resolves({ Targets: r.targets ?? [queueTarget("queue")] });
    }
    const published = (rule: string) => JSON.stringify(bus === "default" ? [{ Name: "RuleName", Value: rule }] : [{ Name: "EventBusName", Value: bus }, { Name: "RuleName", Value: rule }]);
    h.cwMock.on(GetMetricDataCommand).callsFake((input: any) => ({
        MetricDataResults: input.MetricDataQueries.map((q: any) => {
            const dimensions = q.MetricStat.Metric.Dimensions;
            const rule = rules.find((r) => published(r.name) === JSON.stringify(dimensions));
            const values = rule && { MatchedEvents: rule.matched, Invocations: rule.invocations, FailedInvocations: rule.failed }[q.MetricStat.Metric.MetricName as string];
            return { Id: q.Id, Values: values ?? [] };
        }),
    }));
}
