import { expect } from "chai";
import { compileEventPattern } from "../../event-patterns";
import { AwsApiError, BusEvent, EventBridgeDeps, handleEventBridgeCall, jsonPath, LocalEventBridge, targetInput } from "../../local/eventBridge";
import { BusSpec, RuleSpec, TargetSpec } from "../../local/model";
import { LocalQueue } from "../../local/queues";

const BUSES: BusSpec[] = [
    { name: "default", arn: "arn:aws:events:us-east-1:123456789012:event-bus/default", logicalName: "default" },
    { name: "platform", arn: "arn:aws:events:us-east-1:123456789012:event-bus/platform", logicalName: "platform" },
];

function queue(name: string): LocalQueue {
    return new LocalQueue({ name, arn: `arn:aws:sqs:us-east-1:123456789012:${name}`, url: `https://sqs/${name}`, visibilityTimeoutMs: 1000, retentionMs: 60_000 });
}

function target(resource: string, extra: Partial<TargetSpec> = {}): TargetSpec {
    return { urn: resource, logicalName: resource, targetId: resource, arn: `arn:aws:sqs:us-east-1:123456789012:${resource}`, kind: "queue", resource, retry: { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86400 }, ...extra };
}

function rule(name: string, pattern: object, targets: TargetSpec[], extra: Partial<RuleSpec> = {}): RuleSpec {
    return { urn: name, logicalName: name, name, arn: `arn:aws:events:us-east-1:123456789012:rule/platform/${name}`, busName: "platform", enabled: true, patternText: JSON.stringify(pattern), pattern: compileEventPattern(pattern), targets, tags: {}, ...extra };
}

function bridge(rules: RuleSpec[], queues: LocalQueue[]) {
    const events: BusEvent[] = [];
    const deps: EventBridgeDeps = {
        region: "us-east-1",
        accountId: "123456789012",
        buses: BUSES,
        rules,
        queue: (name) => queues.find((q) => q.name === name),
        invokeAsync: async () => ({ ok: true }),
        onEvent: (e) => events.push(e),
        now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 678),
    };
    return { bus: new LocalEventBridge(deps), deps, events };
}

const viewed = (detail: object = { restaurantId: "r-1" }, extra: object = {}) => ({ Source: "bellyfed.restaurants", DetailType: "RestaurantViewed", Detail: JSON.stringify(detail), EventBusName: "platform", ...extra });
const VIEWED_PATTERN = { source: ["bellyfed.restaurants"], "detail-type": ["RestaurantViewed"] };

describe("local EventBridge", () => {
    describe("PutEvents", () => {
        it("answers an EventId per accepted entry and delivers the envelope EventBridge adds", () => {
            const q = queue("views");
            const { bus } = bridge([rule("views", VIEWED_PATTERN, [target("views")])], [q]);
            const result = bus.putEvents({ Entries: [viewed({ restaurantId: "r-1" }, { Resources: ["arn:x"] })] });
            expect(result.FailedEntryCount).to.equal(0);
            const eventId = (result.Entries[0] as { EventId: string }).EventId;
            expect(JSON.parse(q.peek()[0].body)).to.deep.equal({
                version: "0",
                id: eventId,
                "detail-type": "RestaurantViewed",
                source: "bellyfed.restaurants",
                account: "123456789012",
                time: "2026-01-02T03:04:05Z",
                region: "us-east-1",
                resources: ["arn:x"],
                detail: { restaurantId: "r-1" },
            });
        });

        it("delivers a detail holding characters SQS refuses raw: the event is JSON, where they are escapes", () => {
            const q = queue("views");
            const { bus } = bridge([rule("views", VIEWED_PATTERN, [target("views")])], [q]);
            const result = bus.putEvents({ Entries: [viewed({ restaurantId: "r-1", note: "a\u0000b\ud800" })] });
            expect(result.FailedEntryCount).to.equal(0);
            expect(q.peek()[0].body).to.include('"note":"a\\u0000b\\ud800"');
        });

        it("takes the entry's Time (epoch seconds, as the JSON protocol sends it)", () => {
            const q = queue("views");
            const { bus } = bridge([rule("views", VIEWED_PATTERN, [target("views")])], [q]);
            bus.putEvents({ Entries: [viewed({}, { Time: 1767225600 })] });
            expect(JSON.parse(q.peek()[0].body).time).to.equal("2026-01-01T00:00:00Z");
        });

        const failures: [string, object, string, RegExp][] = [
            ["no Source", { DetailType: "X", Detail: "{}" }, "InvalidArgument", /Parameter Source is not valid. Reason: Source is a required argument/],
            ["no DetailType", { Source: "s", Detail: "{}" }, "InvalidArgument", /DetailType is a required argument/],
            ["no Detail", { Source: "s", DetailType: "X" }, "InvalidArgument", /Detail is a required argument/],
            ["Detail not JSON", { Source: "s", DetailType: "X", Detail: "{oops" }, "MalformedDetail", /Detail is malformed/],
            ["Detail not an object", { Source: "s", DetailType: "X", Detail: "[1]" }, "MalformedDetail", /must be a JSON object/],
            ["an aws. source", { Source: "aws.s3", DetailType: "X", Detail: "{}" }, "NotAuthorizedForSourceException", /aws\./],
            ["an unknown bus", { Source: "s", DetailType: "X", Detail: "{}", EventBusName: "nope" }, "InvalidArgument", /event bus "nope" does not exist in this stack \(buses: default, platform\)/],
            ["an entry over 256 KB", { Source: "s", DetailType: "X", Detail: JSON.stringify({ x: "y".repeat(262144) }) }, "InvalidArgument", /over the 262144-byte limit/],
            // Past what a date can hold: once a RangeError from toISOString, answered 500.
            ["a Time past year 275760", { Source: "s", DetailType: "X", Detail: "{}", Time: 1e13 }, "InvalidArgument", /Parameter Time is not valid. Reason: Time 10000000000000 is not a timestamp/],
            ["a Time that is neither a number nor a string", { Source: "s", DetailType: "X", Detail: "{}", Time: { at: 1 } }, "InvalidArgument", /Time \{"at":1\} is not a timestamp/],
        ];
        for (const [title, entry, code, message] of failures) {
            it(`fails the entry with ${code} for ${title}, and still accepts the others`, () => {
                const { bus } = bridge([], []);
                const result = bus.putEvents({ Entries: [entry, viewed()] });
                expect(result.FailedEntryCount).to.equal(1);
                expect(result.Entries[0]).to.have.property("ErrorCode", code);
                expect((result.Entries[0] as { ErrorMessage: string }).ErrorMessage).to.match(message);
                expect(result.Entries[1]).to.have.property("EventId");
            });
        }

        it("fails the whole request with a ValidationException listing every EventBusName that breaks AWS's constraints ('' is not the default bus)", () => {
            const { bus } = bridge([], []);
            expect(() => bus.putEvents({ Entries: [viewed({}, { EventBusName: "" }), viewed(), viewed({}, { EventBusName: "my bus" })] }))
                .to.throw(
                    AwsApiError,
                    "2 validation errors detected: Value '' at 'entries.1.member.eventBusName' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
                        "Value 'my bus' at 'entries.3.member.eventBusName' failed to satisfy constraint: Member must satisfy regular expression pattern: ",
                )
                .with.property("type", "ValidationException");
        });

        it("sends an entry without EventBusName to the default bus", () => {
            const { bus } = bridge([], []);
            const entry: Record<string, unknown> = viewed();
            delete entry.EventBusName;
            expect(bus.putEvents({ Entries: [entry] }).FailedEntryCount).to.equal(0);
        });

        it("rejects more than 10 entries with a ValidationException", () => {
            const { bus } = bridge([], []);
            expect(() => bus.putEvents({ Entries: Array.from({ length: 11 }, () => viewed()) }))
                .to.throw(AwsApiError, /Member must have length less than or equal to 10 \(got 11 entries\)/)
                .with.property("type", "ValidationException");
        });

        it("rejects a request without Entries or with none", () => {
            const { bus } = bridge([], []);
            expect(() => bus.putEvents({})).to.throw(AwsApiError, /Member must not be null/);
            expect(() => bus.putEvents({ Entries: [] })).to.throw(AwsApiError, /greater than or equal to 1/);
        });
    });

    describe("routing", () => {
        it("sends an event through every enabled matching rule of its bus only", () => {
            const [a, b, c, d] = ["a", "b", "c", "d"].map(queue);
            const rules = [
                rule("views", VIEWED_PATTERN, [target("a")]),
                rule("prefix", { source: [{ prefix: "bellyfed." }] }, [target("b")]),
                rule("disabled", VIEWED_PATTERN, [target("c")], { enabled: false }),
                rule("other-bus", VIEWED_PATTERN, [target("d")], { busName: "default" }),
            ];
            const { bus, events } = bridge(rules, [a, b, c, d]);
            bus.putEvents({ Entries: [viewed()] });
            expect([a, b, c, d].map((q) => q.peek().length)).to.deep.equal([1, 1, 0, 0]);
            expect(events.filter((e) => e.kind === "matched").map((e) => (e as { rule: string }).rule)).to.deep.equal(["views", "prefix"]);
            expect(bus.ruleCounters("views")).to.deep.equal({ matched: 1, delivered: 1, failed: 0 });
            expect(bus.ruleCounters("disabled")).to.deep.equal({ matched: 0, delivered: 0, failed: 0 });
        });

        it("reports an event that no rule matches", () => {
            const { bus, events } = bridge([rule("views", VIEWED_PATTERN, [])], []);
            bus.putEvents({ Entries: [viewed({}, { DetailType: "Other" })] });
            expect(events.map((e) => e.kind)).to.deep.equal(["published", "unmatched"]);
        });

        it("puts the event on the target's DLQ, with the reason, when delivery fails", () => {
            const dlq = queue("target-dlq");
            const { bus, events } = bridge([rule("views", VIEWED_PATTERN, [target("missing", { deadLetterQueue: "target-dlq" })])], [dlq]);
            bus.putEvents({ Entries: [viewed()] });
            const [message] = dlq.peek();
            expect(JSON.parse(message.body)["detail-type"]).to.equal("RestaurantViewed");
            expect(message.messageAttributes?.ERROR_MESSAGE.stringValue).to.equal("queue missing is not running");
            expect(message.messageAttributes?.RULE_ARN.stringValue).to.match(/rule\/platform\/views$/);
            expect(events.at(-1)).to.include({ kind: "target-failed", deadLetterQueue: "target-dlq" });
            expect(bus.ruleCounters("views").failed).to.equal(1);
        });
    });

    describe("delivery refused by the queue's policy", () => {
        it("fails the delivery and puts the event on the target's DLQ, as EventBridge does", () => {
            const [q, dlq] = [queue("views"), queue("target-dlq")];
            const denied = target("views", { deliveryDenied: "no statement of the queue policy allows events.amazonaws.com", deadLetterQueue: "target-dlq" });
            const { bus, events } = bridge([rule("views", VIEWED_PATTERN, [denied])], [q, dlq]);
            bus.putEvents({ Entries: [viewed()] });
            expect([q.peek().length, dlq.peek().length]).to.deep.equal([0, 1]);
            expect((events.at(-1) as { error: string }).error).to.equal("EventBridge may not send to views: no statement of the queue policy allows events.amazonaws.com");
        });
    });

    describe("target input", () => {
        const envelope = { version: "0" as const, id: "e-1", "detail-type": "RestaurantViewed", source: "s", account: "1", time: "t", region: "r", resources: [], detail: { restaurantId: "r-1", n: 2 } };
        const r = { name: "views", arn: "arn:rule" };

        it("is the whole event by default", () => expect(JSON.parse(targetInput(envelope, r, {}))).to.deep.equal(envelope));
        it("is the constant Input when given", () => expect(targetInput(envelope, r, { input: '{"fixed":true}' })).to.equal('{"fixed":true}'));
        it("is the value at InputPath", () => expect(targetInput(envelope, r, { inputPath: "$.detail" })).to.equal('{"restaurantId":"r-1","n":2}'));
        it("fills an input template: strings inside quotes, JSON elsewhere", () => {
            const out = targetInput(envelope, r, { inputTransformer: { inputPaths: { id: "$.detail.restaurantId", n: "$.detail.n" }, inputTemplate: '{"who":"<id>","count":<n>,"rule":"<aws.events.rule-name>"}' } });
            expect(JSON.parse(out)).to.deep.equal({ who: "r-1", count: 2, rule: "views" });
        });
        it("fills a text template with raw values", () => {
            expect(targetInput(envelope, r, { inputTransformer: { inputPaths: { id: "$.detail.restaurantId" }, inputTemplate: "viewed <id>" } })).to.equal("viewed r-1");
        });
        it("rejects a JSON path it cannot follow", () => expect(() => jsonPath(envelope, "detail.x")).to.throw(/must start with "\$"/));
    });

    describe("AWS JSON 1.1 operations", () => {
        const { bus, deps } = bridge([rule("views", VIEWED_PATTERN, [target("views")])], []);
        const call = (target: string | undefined, body: string) => handleEventBridgeCall(bus, deps, target, body);

        it("needs the X-Amz-Target header", () => {
            expect(() => call(undefined, "{}")).to.throw(AwsApiError, /Missing X-Amz-Target header/).with.property("type", "UnknownOperationException");
        });
        it("answers SerializationException for a body that is not JSON", () => {
            expect(() => call("AWSEvents.PutEvents", "{nope")).to.throw(AwsApiError, /Request body is not valid JSON/).with.property("type", "SerializationException");
        });
        it("names the operations it serves for an unknown one", () => {
            expect(() => call("AWSEvents.CreateEventBus", "{}")).to.throw(AwsApiError, /served: PutEvents, ListEventBuses/);
        });
        it("lists the bus's rules and a rule's targets", () => {
            expect(call("AWSEvents.ListRules", '{"EventBusName":"platform"}')).to.deep.equal({
                Rules: [{ Name: "views", Arn: "arn:aws:events:us-east-1:123456789012:rule/platform/views", EventBusName: "platform", EventPattern: JSON.stringify(VIEWED_PATTERN), ScheduleExpression: undefined, State: "ENABLED" }],
            });
            expect((call("AWSEvents.ListTargetsByRule", '{"Rule":"views","EventBusName":"platform"}') as any).Targets[0]).to.include({ Id: "views", Arn: "arn:aws:sqs:us-east-1:123456789012:views" });
            expect(() => call("AWSEvents.DescribeRule", '{"Name":"nope","EventBusName":"platform"}')).to.throw(AwsApiError, /Rule nope does not exist/);
        });
        it("answers a ListRules NamePrefix that is not a string with SerializationException (it was matched as text)", () => {
            expect(() => call("AWSEvents.ListRules", '{"EventBusName":"platform","NamePrefix":7}'))
                .to.throw(AwsApiError, /NamePrefix must be a string, got 7/)
                .with.property("type", "SerializationException");
        });
        it("tests a pattern, and rejects an invalid one with InvalidEventPatternException", () => {
            const event = JSON.stringify({ source: "bellyfed.restaurants", "detail-type": "RestaurantViewed", detail: {} });
            expect(call("AWSEvents.TestEventPattern", JSON.stringify({ EventPattern: JSON.stringify(VIEWED_PATTERN), Event: event }))).to.deep.equal({ Result: true });
            expect(() => call("AWSEvents.TestEventPattern", JSON.stringify({ EventPattern: '{"source":"x"}', Event: event }))).to.throw(AwsApiError).with.property("type", "InvalidEventPatternException");
        });
    });
});
