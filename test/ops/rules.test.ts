import { GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { DeleteRuleCommand, ListEventBusesCommand, ListRulesCommand, ListTagsForResourceCommand, RemoveTargetsCommand, Target } from "@aws-sdk/client-eventbridge";
import { expect } from "chai";
import type { ProgramRun } from "../../plan/engine";
import { BUS, busArn, FakeLocalRuntime, OpsHarness, queueArn, queueTarget, stubBus } from "./support";

const withDlq = (id: string): Target => queueTarget(id);
const declared = (route: string) => ({ stack: "dev", "bellyfed:rule": `platform-bus/${route}` });

describe("ops rules", () => {
    let h: OpsHarness;
    beforeEach(() => {
        h = new OpsHarness();
    });

    it("lists every rule with pattern, state, targets (DLQ and retry policy) and summed counts; exit 0 when nothing is flagged", async () => {
        stubBus(h, [{ name: "analytics", tags: declared("analytics"), matched: [3, 4], invocations: [7], failed: [] }]);
        const r = await h.run(["rules", "--stack", "dev", "--days", "7", "--json"]);
        expect(r.code).to.equal(0);
        const doc = r.json();
        expect(doc.bus).to.equal(BUS);
        expect(doc.rules[0]).to.deep.include({
            name: "analytics",
            state: "ENABLED",
            pattern: { source: ["bellyfed.restaurants"], "detail-type": ["analytics"] },
            declaredBy: "platform-bus/analytics",
            metrics: { matched: 7, invocations: 7, failedInvocations: 0 },
            flags: [],
        });
        expect(doc.rules[0].targets[0]).to.deep.equal({
            id: "queue",
            arn: queueArn("analytics-a1b2c3d"),
            deadLetterArn: queueArn("route-dlq"),
            retryPolicy: { maximumRetryAttempts: 8, maximumEventAgeInSeconds: 3600 },
        });
    });

    it("reads MatchedEvents, Invocations and FailedInvocations from AWS/Events by EventBusName and RuleName over --days", async () => {
        stubBus(h, [{ name: "analytics", tags: declared("analytics"), matched: [1] }]);
        await h.run(["rules", "--stack", "dev", "--days", "30"]);
        const input = h.cwMock.commandCalls(GetMetricDataCommand)[0].args[0].input;
        expect(input.MetricDataQueries!.map((q) => q.MetricStat!.Metric!.MetricName)).to.deep.equal(["MatchedEvents", "Invocations", "FailedInvocations"]);
        expect(input.MetricDataQueries![0].MetricStat).to.deep.include({
            Metric: { Namespace: "AWS/Events", MetricName: "MatchedEvents", Dimensions: [{ Name: "EventBusName", Value: BUS }, { Name: "RuleName", Value: "analytics" }] },
            Stat: "Sum",
        });
        expect(input.EndTime!.getTime() - input.StartTime!.getTime()).to.equal(30 * 86400 * 1000);
    });

    it("flags unused, undeclared and disabled rules and targets without a DLQ, and exits 1", async () => {
        stubBus(h, [
            { name: "analytics", tags: declared("analytics"), matched: [5] },
            { name: "legacy", tags: { stack: "dev" }, state: "DISABLED", targets: [{ Id: "lambda", Arn: "arn:aws:lambda:us-east-1:123456789012:function:old" }] },
        ]);
        const r = await h.run(["rules", "--stack", "dev", "--days", "14", "--json"]);
        expect(r.code).to.equal(1);
        expect(r.json().rules[1].flags).to.deep.equal(["no matches in 14 day(s)", "not declared by stack dev", "disabled", "target lambda has no DLQ"]);
    });

    it("finds the stack's bus by its stack tag, or takes --bus", async () => {
        stubBus(h, [{ name: "analytics", tags: declared("analytics"), matched: [1] }]);
        await h.run(["rules", "--stack", "dev", "--bus", BUS]);
        expect(h.ebMock.commandCalls(ListEventBusesCommand)).to.have.length(0);
        const r = await h.run(["rules", "--stack", "dev"]);
        expect(r.stdout).to.include(`Rules on bus ${BUS} (stack dev, metrics over 14 day(s))`);
    });

    it("asks for the default bus's rules by RuleName alone, the only dimension EventBridge publishes them with", async () => {
        stubBus(h, [{ name: "orders", matched: [4] }], "default");
        const r = await h.run(["rules", "--stack", "dev", "--bus", "default", "--json"]);
        const query = h.cwMock.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries![0];
        expect(query.MetricStat!.Metric!.Dimensions).to.deep.equal([{ Name: "RuleName", Value: "orders" }]);
        expect(r.json().rules[0].metrics.matched).to.equal(4);
    });

    it("takes --bus as an ARN and asks CloudWatch by the bus's name", async () => {
        stubBus(h, [{ name: "analytics", tags: declared("analytics"), matched: [2] }]);
        const r = await h.run(["rules", "--stack", "dev", "--bus", busArn(BUS), "--json"]);
        expect(r.json().bus).to.equal(BUS);
        expect(r.json().rules[0].metrics.matched).to.equal(2);
    });

    it("notes when CloudWatch has no datapoint for any rule of the bus", async () => {
        stubBus(h, [{ name: "analytics", tags: declared("analytics") }]);
        const r = await h.run(["rules", "--stack", "dev", "--json"]);
        expect(r.json().metricDatapoints).to.equal(0);
        expect(r.json().note).to.include("CloudWatch returned no datapoint at all for the 1 rule on");
    });

    it("never takes another project's bus that carries the same stack tag (exit 2), naming it", async () => {
        stubBus(h, [{ name: "analytics", tags: declared("analytics"), matched: [1] }]);
        h.ebMock.on(ListEventBusesCommand).resolves({ EventBuses: [{ Name: "shop-bus", Arn: busArn("shop-bus") }] });
        h.ebMock.on(ListTagsForResourceCommand, { ResourceARN: busArn("shop-bus") }).resolves({ Tags: [{ Key: "stack", Value: "dev" }, { Key: "project", Value: "shop" }] });
        const r = await h.run(["rules", "--stack", "dev"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include('No event bus of stack "dev" found (no bus tagged project=bellyfed and stack=dev').and.include("shop-bus (project=shop)");
        expect(h.ebMock.commandCalls(ListRulesCommand)).to.have.length(0);
    });

    it("shows the local runtime's rules with their match counts, and the pattern, state and targets its EventBridge endpoint describes", async () => {
        const pattern = { source: ["bellyfed.restaurants"] };
        // The runtime's EventBridge endpoint (AWS JSON 1.1): ListRules takes EventBusName, ListTargetsByRule a Rule too.
        const eventBridge = (body: any): [number, unknown] =>
            body.Rule
                ? [200, { Targets: [{ Id: "queue", Arn: "arn:aws:sqs:us-east-1:000000000000:q", RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 } }] }]
                : [200, { Rules: [{ Name: "analytics", EventBusName: body.EventBusName, State: "ENABLED", EventPattern: JSON.stringify(pattern) }] }];
        const local = new FakeLocalRuntime({ stack: "dev", endpoints: {}, queues: [], rules: [{ name: "analytics", bus: "platform-bus", matched: 3 }] }, {}, { "POST /_aws/events/": eventBridge });
        await local.start();
        local.state.endpoints.eventbridge = `${local.url}/_aws/events`;
        try {
            const r = await h.run(["rules", "--local", local.url, "--json"]);
            expect(r.code, r.stderr).to.equal(1);
            expect(r.json().rules).to.deep.equal([
                {
                    name: "analytics",
                    logicalName: null,
                    bus: "platform-bus",
                    state: "ENABLED",
                    pattern,
                    declaredBy: null,
                    targets: [{ id: "queue", arn: "arn:aws:sqs:us-east-1:000000000000:q", deadLetterArn: null, retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86400 } }],
                    matched: 3,
                    delivered: null,
                    failed: null,
                    flags: ["target queue has no DLQ"],
                },
            ]);
        } finally {
            await local.stop();
        }
    });
});

describe("ops rules cleanup", () => {
    let h: OpsHarness;
    // The shape the real program registers: EventBus > EventRoute > EventRule (see contract.test.ts).
    const plan = {
        resources: [
            { urn: "urn:bus", type: "bellyfed:events:EventBus", name: "platform-bus", custom: false, inputs: {}, outputs: {} },
            { urn: "urn:route", type: "bellyfed:events:EventRoute", name: "platform-bus-analytics", parent: "urn:bus", custom: false, inputs: {}, outputs: {} },
            {
                urn: "urn:rule",
                type: "aws:cloudwatch/eventRule:EventRule",
                name: "platform-bus-analytics",
                parent: "urn:route",
                custom: true,
                inputs: { tags: { stack: "dev", "bellyfed:rule": "platform-bus/analytics" } },
                outputs: {},
            },
        ],
    } as unknown as ProgramRun<unknown>;
    /** A rule with traffic: CloudWatch has datapoints for the bus, so "no datapoint" reads as "unused". */
    const busy = { name: "busy", tags: {}, matched: [9] };
    const cleanup = (...flags: string[]) => h.run(["rules", "cleanup", "--unused", "--days", "30", "--stack", "dev", ...flags], { planStack: async () => plan });

    beforeEach(() => {
        h = new OpsHarness();
        stubBus(h, [
            { name: "analytics", tags: declared("analytics") }, // unused but the stack declares it
            { name: "legacy", tags: {}, targets: [withDlq("a"), withDlq("b")] }, // unused, not the stack's
            { name: "busy", tags: {}, matched: [9] }, // used
            { name: "aws-managed", managedBy: "schemas.amazonaws.com" }, // unused, an AWS service's
        ]);
        h.ebMock.on(RemoveTargetsCommand).resolves({ FailedEntryCount: 0, FailedEntries: [] });
        h.ebMock.on(DeleteRuleCommand).resolves({});
    });

    it("with --yes removes the targets, then deletes the unused rule the stack does not declare", async () => {
        const r = await cleanup("--yes");
        expect(r.code).to.equal(0);
        expect(h.ebMock.commandCalls(RemoveTargetsCommand).map((c) => c.args[0].input)).to.deep.equal([{ Rule: "legacy", EventBusName: BUS, Ids: ["a", "b"] }]);
        expect(h.ebMock.commandCalls(DeleteRuleCommand).map((c) => c.args[0].input)).to.deep.equal([{ Name: "legacy", EventBusName: BUS }]);
    });

    it("never deletes a stack-managed rule and says which code declares it", async () => {
        const r = await cleanup("--yes");
        expect(h.ebMock.commandCalls(DeleteRuleCommand).map((c) => c.args[0].input.Name)).to.not.include("analytics");
        expect(r.stdout).to.include(
            'analytics: declared by route "analytics" of the bus "platform-bus": bellyfed:events:EventRoute "platform-bus-analytics" in bellyfed:events:EventBus "platform-bus", ' +
                "composed in the dev stack's program (stacks/platform.ts",
        );
    });

    it("keeps a rule tagged by the stack that the code no longer declares, saying `pulumi up` removes it", async () => {
        stubBus(h, [{ name: "old-route", tags: declared("old-route") }, busy]);
        const r = await cleanup("--yes");
        expect(h.ebMock.commandCalls(DeleteRuleCommand)).to.have.length(0);
        expect(r.stdout).to.include("the dev stack's code no longer declares it: `pulumi up` will remove it");
    });

    it("keeps a rule another stack declares", async () => {
        stubBus(h, [{ name: "prod-route", tags: { stack: "prod", "bellyfed:rule": "platform-bus/x" } }, busy]);
        const r = await cleanup("--yes");
        expect(h.ebMock.commandCalls(DeleteRuleCommand)).to.have.length(0);
        expect(r.stdout).to.include("prod-route: declared by stack prod");
    });

    it("keeps rules an AWS service manages", async () => {
        const r = await cleanup("--yes");
        expect(h.ebMock.commandCalls(DeleteRuleCommand).map((c) => c.args[0].input.Name)).to.not.include("aws-managed");
        expect(r.stdout).to.include("aws-managed: managed by the AWS service schemas.amazonaws.com");
    });

    it("refuses without --yes when not at a terminal (exit 2) and deletes nothing", async () => {
        const r = await cleanup();
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("Refusing to delete 1 rule without confirmation").and.include("--yes");
        expect(h.ebMock.commandCalls(DeleteRuleCommand)).to.have.length(0);
    });

    it("asks at a terminal and deletes nothing when the answer is no", async () => {
        const questions: string[] = [];
        const r = await h.run(["rules", "cleanup", "--unused", "--stack", "dev"], {
            isTTY: true,
            planStack: async () => plan,
            prompt: async (q) => {
                questions.push(q);
                return "n";
            },
        });
        expect(questions).to.deep.equal([`Delete 1 rule (targets first, then the rule) from ${BUS}? [y/N] `]);
        expect(r.stdout).to.include("Nothing deleted.");
        expect(h.ebMock.commandCalls(DeleteRuleCommand)).to.have.length(0);
    });

    it("deletes after a yes at the prompt", async () => {
        await h.run(["rules", "cleanup", "--unused", "--stack", "dev"], { isTTY: true, planStack: async () => plan, prompt: async () => "yes" });
        expect(h.ebMock.commandCalls(DeleteRuleCommand)).to.have.length(1);
    });

    it("with --dry-run lists the rules and deletes nothing", async () => {
        const r = await cleanup("--dry-run", "--json");
        expect(r.code).to.equal(0);
        expect(r.json().candidates).to.deep.equal(["legacy"]);
        expect(h.ebMock.commandCalls(RemoveTargetsCommand)).to.have.length(0);
    });

    it("leaves a rule whose targets could not be removed and exits 1", async () => {
        h.ebMock.on(RemoveTargetsCommand).resolves({ FailedEntryCount: 1, FailedEntries: [{ TargetId: "b", ErrorCode: "ConcurrentModificationException", ErrorMessage: "try again" }] });
        const r = await cleanup("--yes");
        expect(r.code).to.equal(1);
        expect(h.ebMock.commandCalls(DeleteRuleCommand)).to.have.length(0);
        expect(r.stderr).to.include("could not delete legacy: RemoveTargets failed for 1 target(s): b: ConcurrentModificationException try again");
    });

    it("needs --unused (exit 2), and shows the command's usage", async () => {
        const r = await h.run(["rules", "cleanup", "--stack", "dev", "--yes"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("needs --unused").and.include("Usage: npm run ops -- rules cleanup --unused --stack NAME");
    });

    it("never deletes a busy rule of the default bus (its metrics carry RuleName only)", async () => {
        stubBus(h, [{ name: "busy-default", tags: {}, matched: [12] }, { name: "idle-default", tags: {}, matched: [] }], "default");
        const r = await cleanup("--bus", "default", "--yes", "--json");
        expect(r.code).to.equal(0);
        expect(r.json().candidates).to.deep.equal(["idle-default"]);
        expect(h.ebMock.commandCalls(DeleteRuleCommand).map((c) => c.args[0].input)).to.deep.equal([{ Name: "idle-default", EventBusName: "default" }]);
    });

    it("never deletes a busy rule when --bus is the bus's ARN", async () => {
        const r = await cleanup("--bus", busArn(BUS), "--yes", "--json");
        expect(r.json().candidates).to.deep.equal(["legacy"]);
        expect(h.ebMock.commandCalls(DeleteRuleCommand).map((c) => c.args[0].input)).to.deep.equal([{ Name: "legacy", EventBusName: BUS }]);
    });

    it("refuses to delete (exit 1) when CloudWatch has no datapoint for any rule of the bus", async () => {
        stubBus(h, [{ name: "legacy", tags: {} }, { name: "also-quiet", tags: {} }]);
        const r = await cleanup("--yes");
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("Refusing to delete anything: CloudWatch returned no datapoint at all for the 2 rules").and.include("--allow-no-metrics");
        expect(h.ebMock.commandCalls(RemoveTargetsCommand)).to.have.length(0);
        expect(h.ebMock.commandCalls(DeleteRuleCommand)).to.have.length(0);
    });

    it("deletes rules without any datapoint when the operator insists with --allow-no-metrics", async () => {
        stubBus(h, [{ name: "legacy", tags: {} }]);
        const r = await cleanup("--yes", "--allow-no-metrics");
        expect(r.code).to.equal(0);
        expect(h.ebMock.commandCalls(DeleteRuleCommand).map((c) => c.args[0].input.Name)).to.deep.equal(["legacy"]);
    });

    it("never deletes anything on another project's bus that carries the same stack tag (exit 2)", async () => {
        h.ebMock.on(ListEventBusesCommand).resolves({ EventBuses: [{ Name: "shop-bus", Arn: busArn("shop-bus") }] });
        h.ebMock.on(ListTagsForResourceCommand, { ResourceARN: busArn("shop-bus") }).resolves({ Tags: [{ Key: "stack", Value: "dev" }, { Key: "project", Value: "shop" }] });
        h.ebMock.on(ListRulesCommand, { EventBusName: "shop-bus" }).resolves({ Rules: [{ Name: "shop-orders", Arn: "arn:aws:events:us-east-1:123456789012:rule/shop-bus/shop-orders" }] });
        const r = await cleanup("--yes", "--allow-no-metrics");
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include('No event bus of stack "dev" found');
        expect(h.ebMock.commandCalls(DeleteRuleCommand)).to.have.length(0);
    });

    it("never sends DeleteRule twice after a timeout: counts the rule deleted when ListRules no longer lists it", async () => {
        h.ebMock.on(DeleteRuleCommand).rejects(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
        h.ebMock.on(ListRulesCommand, { EventBusName: BUS, NamePrefix: "legacy" }).resolves({ Rules: [] });
        const r = await cleanup("--yes", "--json");
        expect(h.ebMock.commandCalls(DeleteRuleCommand)).to.have.length(1);
        expect([r.code, r.json().deleted, r.json().failed]).to.deep.equal([0, ["legacy"], []]);
    });

    it("never sends DeleteRule twice after a 5xx: reports the rule not deleted when ListRules still lists it (exit 1)", async () => {
        h.ebMock.on(DeleteRuleCommand).rejects(Object.assign(new Error("internal"), { name: "InternalException", $metadata: { httpStatusCode: 500 } }));
        h.ebMock.on(ListRulesCommand, { EventBusName: BUS, NamePrefix: "legacy" }).resolves({ Rules: [{ Name: "legacy" }] });
        const r = await cleanup("--yes");
        expect(h.ebMock.commandCalls(DeleteRuleCommand)).to.have.length(1);
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("could not delete legacy: events:DeleteRule failed with InternalException").and.include("ListRules still lists the rule");
    });
});
