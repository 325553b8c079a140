import { expect } from "chai";
import { EventBus, EventRouteArgs, eventRouteSid, ProcessedQueue } from "../../components";
import { catalogEventPattern } from "../../handlers/events/catalog";
import { Graph, json, programGraph, QUEUE, QUEUE_POLICY as POLICY, RULE, TARGET } from "../support/graph";

const TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms";
const consumer = { callbackFactory: () => async () => ({ batchItemFailures: [] }), timeoutSeconds: 30 };

describe("EventBus routing", () => {
    let graph: Graph;
    const viewed = catalogEventPattern("RestaurantViewed");
    const ruleOf = (name: string) => graph.get(RULE, name);

    before(async () => {
        graph = await programGraph(() => {
            const bus = new EventBus("bus", { tags: { stack: "test" } });
            const analytics = new ProcessedQueue("analytics", { consumer });
            const audit = new ProcessedQueue("audit", { consumer, fifo: true });
            bus.route("viewed", { pattern: viewed, queue: analytics, alarmTopicArn: TOPIC });
            bus.route("big-orders", { pattern: { source: ["bellyfed.orders"], detail: { total: [{ numeric: [">=", 100] }] } }, queue: analytics, maximumRetryAttempts: 10, maximumEventAgeSeconds: 3600 });
            bus.route("audit", { pattern: { source: [{ prefix: "bellyfed." }] }, queue: audit, messageGroupId: "audit", enabled: false });
            return { rules: bus.routes.map((r) => r.describe()) };
        });
    });

    describe("rule", () => {
        it("lives on this bus and carries the pattern as JSON", () => {
            expect(ruleOf("bus-viewed").inputs.eventBusName).to.equal(graph.get("aws:cloudwatch/eventBus:EventBus", "bus").outputs.name);
            expect(json(ruleOf("bus-viewed").inputs.eventPattern)).to.deep.equal({ source: ["bellyfed.restaurants"], "detail-type": ["RestaurantViewed"] });
        });

        it("is enabled unless asked otherwise", () => {
            expect([ruleOf("bus-viewed").inputs.state, ruleOf("bus-audit").inputs.state]).to.deep.equal(["ENABLED", "DISABLED"]);
        });

        it("is tagged bellyfed:rule=<bus>/<route> on top of the bus's tags", () => {
            expect(ruleOf("bus-viewed").inputs.tags).to.deep.equal({ stack: "test", "bellyfed:rule": "bus/viewed" });
        });
    });

    describe("target", () => {
        const target = (name: string) => graph.get(TARGET, name).inputs;

        it("sends to the processed queue through this bus's rule", () => {
            expect(target("bus-viewed")).to.deep.include({
                rule: ruleOf("bus-viewed").outputs.name,
                eventBusName: graph.get("aws:cloudwatch/eventBus:EventBus", "bus").outputs.name,
                arn: graph.get(QUEUE, "analytics").outputs.arn,
            });
        });

        it("sends undeliverable events to the route's own DLQ", () => {
            expect(target("bus-viewed").deadLetterConfig).to.deep.equal({ arn: graph.get(QUEUE, "bus-viewed-target-dlq").outputs.arn });
        });

        it("retries for 24 hours and 185 attempts by default", () => {
            expect(target("bus-viewed").retryPolicy).to.deep.equal({ maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 });
        });

        it("takes the retry policy given", () => {
            expect(target("bus-big-orders").retryPolicy).to.deep.equal({ maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 });
        });

        it("names the message group for a FIFO queue", () => {
            expect(target("bus-audit").sqsTarget).to.deep.equal({ messageGroupId: "audit" });
            expect(target("bus-viewed").sqsTarget).to.equal(undefined);
        });
    });

    describe("queue policy", () => {
        const allowStatements = (policy: string) => json(graph.get(POLICY, policy).inputs.policy).Statement.filter((s: any) => s.Effect === "Allow");

        it("lets events.amazonaws.com send only when aws:SourceArn is the rule's ARN (from the rule's output)", () => {
            const statement = allowStatements("analytics-policy").find((s: any) => s.Sid === eventRouteSid("bus/viewed"));
            expect(statement).to.deep.equal({
                Sid: eventRouteSid("bus/viewed"),
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: "sqs:SendMessage",
                Resource: graph.get(QUEUE, "analytics").outputs.arn,
                Condition: { ArnEquals: { "aws:SourceArn": ruleOf("bus-viewed").outputs.arn } },
            });
            expect(ruleOf("bus-viewed").outputs.arn).to.match(/:rule\/bus-\w+\/bus-viewed-\w+$/);
        });

        it("holds one statement per route to the queue, in the queue's single policy", () => {
            expect(allowStatements("analytics-policy").map((s: any) => s.Condition.ArnEquals["aws:SourceArn"])).to.deep.equal([
                ruleOf("bus-viewed").outputs.arn,
                ruleOf("bus-big-orders").outputs.arn,
            ]);
            expect(graph.ofType(POLICY).filter((p) => p.inputs.queueUrl === graph.get(QUEUE, "analytics").outputs.url)).to.have.length(1);
        });

        it("lets the rule, and only it, send to the target DLQ", () => {
            const [statement] = allowStatements("bus-viewed-target-dlq-policy");
            expect(statement.Resource).to.equal(graph.get(QUEUE, "bus-viewed-target-dlq").outputs.arn);
            expect(statement.Condition).to.deep.equal({ ArnEquals: { "aws:SourceArn": ruleOf("bus-viewed").outputs.arn } });
        });
    });

    describe("target DLQ", () => {
        const dlq = (name: string) => graph.get(QUEUE, name).inputs;

        it("is a standard, SSE-SQS encrypted queue even when the processed queue is FIFO", () => {
            expect(dlq("bus-audit-target-dlq").fifoQueue).to.equal(undefined);
            expect(dlq("bus-audit-target-dlq").sqsManagedSseEnabled).to.equal(true);
        });

        it("is tagged as the target DLQ of its route, grouped with the processed queue it feeds", () => {
            expect(dlq("bus-viewed-target-dlq").tags).to.deep.equal({
                stack: "test",
                "bellyfed:processed-queue": "analytics",
                "bellyfed:queue-role": "target-dlq",
                "bellyfed:route": "bus/viewed",
            });
        });

        it("has an alarm on its depth when an alarm topic is given", () => {
            expect(graph.get("aws:cloudwatch/metricAlarm:MetricAlarm", "bus-viewed-target-dlq-messages").inputs).to.deep.include({
                metricName: "ApproximateNumberOfMessagesVisible",
                statistic: "Maximum",
                dimensions: { QueueName: graph.get(QUEUE, "bus-viewed-target-dlq").outputs.name },
                alarmActions: [TOPIC],
            });
        });
    });

    it("describes every route for the stack's rules output", () => {
        const [first] = graph.run.outputs.rules;
        expect(first).to.deep.include({
            name: "bus/viewed",
            ruleName: ruleOf("bus-viewed").outputs.name,
            ruleArn: ruleOf("bus-viewed").outputs.arn,
            busName: graph.get("aws:cloudwatch/eventBus:EventBus", "bus").outputs.name,
            pattern: viewed,
            queue: "analytics",
        });
        expect(graph.run.outputs.rules.map((r: any) => r.name)).to.deep.equal(["bus/viewed", "bus/big-orders", "bus/audit"]);
    });

    describe("rejects bad routes before registering the rule", () => {
        const attempt = async (route: (bus: EventBus, queue: ProcessedQueue, fifo: ProcessedQueue) => void): Promise<{ error?: Error; rules: number }> => {
            let error: Error | undefined;
            const g = await programGraph(() => {
                const bus = new EventBus("bus");
                const queue = new ProcessedQueue("q", { consumer });
                const fifo = new ProcessedQueue("f", { consumer, fifo: true });
                try {
                    route(bus, queue, fifo);
                } catch (e) {
                    error = e as Error;
                }
            });
            return { error, rules: g.ofType(RULE).length };
        };
        const rejects = async (route: (bus: EventBus, queue: ProcessedQueue, fifo: ProcessedQueue) => void, message: string) => {
            const { error, rules } = await attempt(route);
            expect(error?.message).to.equal(message);
            expect(rules).to.equal(0);
        };
        const args = (queue: ProcessedQueue, extra: Partial<EventRouteArgs> = {}): EventRouteArgs => ({ pattern: viewed, queue, ...extra });

        it("a pattern leaf that is not an array, pointing at the field", async () => {
            await rejects(
                (bus, queue) => bus.route("r", args(queue, { pattern: { source: "bellyfed.restaurants" } })),
                'EventBus "bus": routes.r.pattern is invalid: source: must be an array of matchers or a nested object, got string "bellyfed.restaurants" (wrap values in an array, e.g. ["bellyfed.restaurants"])',
            );
        });

        it("an empty matcher array", async () => {
            await rejects((bus, queue) => bus.route("r", args(queue, { pattern: { detail: { restaurantId: [] } } })), 'EventBus "bus": routes.r.pattern is invalid: detail.restaurantId: the array of matchers must not be empty (an empty array matches nothing and EventBridge rejects it)');
        });

        it("an operator EventBridge does not know", async () => {
            const { error } = await attempt((bus, queue) => bus.route("r", args(queue, { pattern: { source: [{ startsWith: "bellyfed" }] } })));
            expect(error?.message).to.match(/^EventBus "bus": routes\.r\.pattern is invalid: source: unknown operator "startsWith"/);
        });

        it("a route name used twice on the bus", async () => {
            const { error, rules } = await attempt((bus, queue) => {
                bus.route("r", args(queue));
                bus.route("r", args(queue));
            });
            expect(error?.message).to.equal('EventBus "bus": routes.r is declared twice; route names must be unique per bus');
            expect(rules).to.equal(1);
        });

        it("a route name that is not lower-case words", async () => {
            await rejects((bus, queue) => bus.route("Viewed Events", args(queue)), 'EventBus "bus": routes.Viewed Events name must start with a lower-case letter and hold at most 40 lower-case letters, digits or dashes');
        });

        it("a FIFO queue without a message group", async () => {
            await rejects((bus, _q, fifo) => bus.route("r", args(fifo)), 'EventBus "bus": routes.r.messageGroupId is required for the FIFO queue "f" (1..128 characters)');
        });

        it("a message group for a standard queue", async () => {
            await rejects((bus, queue) => bus.route("r", args(queue, { messageGroupId: "g" })), 'EventBus "bus": routes.r.messageGroupId applies to FIFO queues only; "q" is a standard queue');
        });

        it("a retry count EventBridge does not accept", async () => {
            await rejects((bus, queue) => bus.route("r", args(queue, { maximumRetryAttempts: 200 })), 'EventBus "bus": routes.r.maximumRetryAttempts must be an integer from 0 to 185, got 200');
        });

        it("a target that is not a ProcessedQueue", async () => {
            await rejects((bus) => bus.route("r", { pattern: viewed, queue: {} as ProcessedQueue }), 'EventBus "bus": routes.r.queue must be a ProcessedQueue');
        });

        /** Declares a route to a fresh queue after `pause`; returns the error and what the route left registered. */
        const declareAfter = async (pause: () => Promise<unknown>) => {
            let error: Error | undefined;
            const g = await programGraph(async () => {
                const bus = new EventBus("bus");
                const queue = new ProcessedQueue("q", { consumer });
                await pause();
                try {
                    bus.route("late", args(queue));
                } catch (e) {
                    error = e as Error;
                }
            });
            const leftovers = g.resources.filter((r) => r.name.startsWith("bus-late")).map((r) => `${r.type}::${r.name}`);
            return { error, leftovers };
        };
        const LATE = 'EventBus "bus": routes.late.queue "q": its policy is already written (at the end of the synchronous code that created the queue); declare every route to the queue before the program\'s next await';

        it("a route declared after the queue policy was written, leaving none of its resources behind", async () => {
            const { error, leftovers } = await declareAfter(() => new Promise((resolve) => setImmediate(resolve)));
            expect(error?.message).to.equal(LATE);
            expect(leftovers).to.deep.equal([]);
        });

        it("a route declared after any await, however short or long (the seal never depends on timing)", async () => {
            const pauses: Record<string, () => Promise<unknown>> = {
                "a resolved promise": () => Promise.resolve(),
                "two setImmediate": () => new Promise((r) => setImmediate(r)).then(() => new Promise((r) => setImmediate(r))),
                "a 50 ms timer": () => new Promise((r) => setTimeout(r, 50)),
            };
            for (const [name, pause] of Object.entries(pauses)) {
                const { error, leftovers } = await declareAfter(pause);
                expect(error?.message, name).to.equal(LATE);
                expect(leftovers, name).to.deep.equal([]);
            }
        });

        it("a statement id the queue policy already holds, before registering the rule", async () => {
            const { error, rules } = await attempt((bus, queue) => {
                queue.allowEventBridgeRule(eventRouteSid("bus/r"), "arn:aws:events:us-east-1:123456789012:rule/other");
                bus.route("r", args(queue));
            });
            expect(error?.message).to.equal(`EventBus "bus": routes.r.queue "q": its policy already has a statement "${eventRouteSid("bus/r")}"`);
            expect(rules).to.equal(0);
        });

        it("alarm settings the route does not have, listing the ones it has", async () => {
            await rejects(
                (bus, queue) => bus.route("r", args(queue, { alarms: { targetDlqMessage: { threshold: 2 } } as any })),
                'EventBus "bus": routes.r.alarms.targetDlqMessage is not an alarm setting of EventBus (known: targetDlqMessages, failedInvocations, invocationsSentToDlq, invocationsFailedToBeSentToDlq)',
            );
        });
    });

    describe("queue policy statement ids", () => {
        it("differ for routes whose names share their words (bus a-b route c, bus a route b-c)", async () => {
            const g = await programGraph(() => {
                const queue = new ProcessedQueue("shared", { consumer });
                new EventBus("a-b").route("c", { pattern: viewed, queue });
                new EventBus("a").route("b-c", { pattern: viewed, queue });
            });
            const sids = json(g.get(POLICY, "shared-policy").inputs.policy).Statement.filter((s: any) => s.Effect === "Allow").map((s: any) => s.Sid);
            expect(sids).to.have.length(2);
            expect(new Set(sids).size).to.equal(2);
            expect(sids.every((sid: string) => /^EventBridgeABC[0-9a-f]{8}$/.test(sid)), sids.join(", ")).to.equal(true);
        });

        it("are the same in the queue's policy and in the route's target DLQ policy", () => {
            const sid = (policy: string) => json(graph.get(POLICY, policy).inputs.policy).Statement.filter((s: any) => s.Effect === "Allow").map((s: any) => s.Sid);
            expect(sid("bus-viewed-target-dlq-policy")).to.deep.equal([eventRouteSid("bus/viewed")]);
            expect(sid("analytics-policy")).to.include(eventRouteSid("bus/viewed"));
        });
    });

    it("accepts every route declared in the synchronous code that created the queue", async () => {
        const g = await programGraph(async () => {
            await new Promise((r) => setTimeout(r, 10));
            // The queue is created after an await: the seal follows the code that created it, not program start.
            const bus = new EventBus("bus");
            const queue = new ProcessedQueue("q", { consumer });
            bus.route("one", { pattern: viewed, queue });
            bus.route("two", { pattern: viewed, queue });
        });
        const allow = json(g.get(POLICY, "q-policy").inputs.policy).Statement.filter((s: any) => s.Effect === "Allow");
        expect(allow.map((s: any) => s.Sid)).to.deep.equal([eventRouteSid("bus/one"), eventRouteSid("bus/two")]);
    });
});
