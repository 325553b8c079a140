import { GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { DeleteRuleCommand, ListEventBusesCommand, RemoveTargetsCommand, Target } from "@aws-sdk/client-eventbridge";
import { expect } from "chai";
import type { ProgramRun } from "../../plan/engine";
import { BUS, FakeLocalRuntime, OpsHarness, queueArn, queueTarget, stubBus } from "./support";

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

    it("shows the local runtime's rules with their match counts", async () => {
        const local = new FakeLocalRuntime({ stack: "dev", endpoints: {}, queues: [], rules: [{ name: "analytics", matched: 3 }] });
        await local.start();
        try {
            const r = await h.run(["rules", "--local", local.url, "--json"]);
            expect(r.json().rules).to.deep.equal([{ name: "analytics", logicalName: null, bus: null, matched: 3, delivered: null, failed: null, flags: [] }]);
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
        stubBus(h, [{ name: "old-route", tags: declared("old-route") }]);
        const r = await cleanup("--yes");
        expect(h.ebMock.commandCalls(DeleteRuleCommand)).to.have.length(0);
        expect(r.stdout).to.include("the dev stack's code no longer declares it: `pulumi up` will remove it");
    });

    it("keeps a rule another stack declares", async () => {
        stubBus(h, [{ name: "prod-route", tags: { stack: "prod", "bellyfed:rule": "platform-bus/x" } }]);
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

    it("needs --unused (exit 2)", async () => {
        const r = await h.run(["rules", "cleanup", "--stack", "dev", "--yes"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("needs --unused");
    });
});
