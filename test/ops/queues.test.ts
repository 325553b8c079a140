import { GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { GetQueueAttributesCommand, ListQueuesCommand, ListQueueTagsCommand } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { verdict } from "../../ops/commands/queues";
import { FakeLocalRuntime, OpsHarness, processedQueue, queueTarget, queueUrl, stackTags, stubBus, stubQueues } from "./support";

/** A route's target DLQ as EventBus.route tags it: its route, not its queue. */
const routeDlq = (name: string, visible: number) => ({
    name,
    tags: { ...stackTags(), "bellyfed:queue-role": "target-dlq", "bellyfed:route": "platform-bus/restaurant-viewed" },
    attributes: { ApproximateNumberOfMessages: String(visible) },
});

describe("ops queues", () => {
    let h: OpsHarness;
    beforeEach(() => {
        h = new OpsHarness();
    });

    it("reports visible, in-flight, delayed, oldest age and DLQ depth of each ProcessedQueue and exits 0 when healthy", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { visible: 3, inFlight: 2, delayed: 1 } }));
        h.cwMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: "age0", Values: [42, 30] }] });
        const r = await h.run(["queues", "--stack", "dev", "--json"]);
        expect(r.code).to.equal(0);
        const [q] = r.json().queues;
        expect(q).to.include({ name: "analytics", queueName: "analytics-a1b2c3d", visible: 3, inFlight: 2, delayed: 1, oldestAgeSeconds: 42, healthy: true });
        expect(q.dlq).to.include({ name: "analytics-dlq-e4f5a6b", visible: 0 });
    });

    it("finds the queues by their stack and processed-queue tags, ignoring other stacks' queues", async () => {
        stubQueues(h, [...processedQueue("analytics"), ...processedQueue("billing", { stack: "prod" })]);
        const r = await h.run(["queues", "--stack", "dev", "--json"]);
        expect(r.json().queues.map((q: any) => q.name)).to.deep.equal(["analytics"]);
    });

    it("never takes another project's queues that carry the same stack tag", async () => {
        const shop = processedQueue("orders").map((q) => ({ ...q, tags: { ...q.tags, project: "shop" } }));
        stubQueues(h, [...processedQueue("analytics"), ...shop]);
        const r = await h.run(["queues", "--stack", "dev", "--json"]);
        expect(r.json().queues.map((q: any) => q.name)).to.deep.equal(["analytics"]);
    });

    it("asks CloudWatch for ApproximateAgeOfOldestMessage (AWS/SQS, QueueName, Maximum)", async () => {
        stubQueues(h, processedQueue("analytics"));
        await h.run(["queues", "--stack", "dev"]);
        const query = h.cwMock.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries![0];
        expect(query.MetricStat).to.deep.include({ Period: 60, Stat: "Maximum" });
        expect(query.MetricStat!.Metric).to.deep.equal({
            Namespace: "AWS/SQS",
            MetricName: "ApproximateAgeOfOldestMessage",
            Dimensions: [{ Name: "QueueName", Value: "analytics-a1b2c3d" }],
        });
    });

    it("calls a queue with messages in its DLQ unhealthy, says what to run, and exits 1", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 4 } }));
        const r = await h.run(["queues", "--stack", "dev"]);
        expect(r.code).to.equal(1);
        expect(r.stdout).to.match(/analytics\s.*UNHEALTHY/);
        expect(r.stdout).to.include("DLQ holds 4 message(s): run `npm run ops -- dlq inspect analytics --stack dev`");
    });

    it("derives the age threshold from maxReceiveCount x visibility timeout + 5 minutes, like the age alarm", async () => {
        // 5 receives x 60 s + 300 s = 600 s
        stubQueues(h, processedQueue("analytics"));
        h.cwMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: "age0", Values: [601] }] });
        const r = await h.run(["queues", "--stack", "dev", "--json"]);
        expect(r.code).to.equal(1);
        expect(r.json().queues[0].problems[0]).to.match(/oldest message is 10m01s old \(> 10m00s\)/);
    });

    it("takes --max-age over the derived threshold", async () => {
        stubQueues(h, processedQueue("analytics"));
        h.cwMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: "age0", Values: [601] }] });
        const r = await h.run(["queues", "--stack", "dev", "--max-age", "3600"]);
        expect(r.code).to.equal(0);
    });

    it("calls a queue unhealthy at the stack's queue-depth alarm threshold (Pulumi.prod.yaml: 500), as the alarm (>=)", async () => {
        stubQueues(h, processedQueue("analytics", { stack: "prod", counts: { visible: 500 } }));
        const r = await h.run(["queues", "--stack", "prod", "--json"]);
        expect(r.code).to.equal(1);
        expect(r.json().thresholds).to.include({ maxDepth: 500, maxDepthSource: "Pulumi.prod.yaml bellyfed:alarms.queueDepth" });
        expect(r.json().queues[0].problems).to.deep.equal(["500 messages waiting (>= 500)"]);
    });

    it("takes dev's looser queue-depth threshold from Pulumi.dev.yaml (5000)", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { visible: 1500 } }));
        const r = await h.run(["queues", "--stack", "dev"]);
        expect(r.code).to.equal(0);
        expect(r.stdout).to.include("(a queue with 5000 or more visible messages is unhealthy: Pulumi.dev.yaml bellyfed:alarms.queueDepth)");
    });

    it("takes --max-depth over the stack's threshold", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { visible: 20 } }));
        const r = await h.run(["queues", "--stack", "dev", "--max-depth", "20", "--json"]);
        expect([r.code, r.json().thresholds.maxDepthSource]).to.deep.equal([1, "--max-depth"]);
    });

    it("falls back to the component default (1000) when the stack file sets no queueDepth", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ops-project-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: bellyfed\nruntime: nodejs\n");
        fs.writeFileSync(path.join(dir, "Pulumi.staging.yaml"), "config:\n  bellyfed:environment: staging\n");
        stubQueues(h, processedQueue("analytics", { stack: "staging", counts: { visible: 999 } }));
        const r = await h.run(["queues", "--stack", "staging", "--json"], { cwd: dir });
        expect(r.json().thresholds).to.include({ maxDepth: 1000, maxDepthSource: "the ProcessedQueue default" });
        expect(r.code).to.equal(0);
    });

    it("discovers the queues once with --watch and only refreshes their counts each round", async () => {
        stubQueues(h, processedQueue("analytics"));
        let rounds = 0;
        const stop = new AbortController();
        await h.run(["queues", "--stack", "dev", "--watch", "--json"], {
            signal: stop.signal,
            sleep: async () => {
                if (++rounds === 3) stop.abort();
            },
        });
        expect(h.sqsMock.commandCalls(ListQueuesCommand)).to.have.length(1);
        expect(h.sqsMock.commandCalls(ListQueueTagsCommand)).to.have.length(2);
        expect(h.sqsMock.commandCalls(GetQueueAttributesCommand)).to.have.length(3 * 2);
    });

    it("discovers the queues again with --watch when one it knew is gone", async () => {
        stubQueues(h, processedQueue("analytics"));
        // A deployment replaces the queue between the first and the second round.
        let replaced = false;
        const attributes = processedQueue("analytics")[0].attributes;
        h.sqsMock.on(GetQueueAttributesCommand, { QueueUrl: queueUrl("analytics-a1b2c3d") }).callsFake(() => {
            if (!replaced) return { Attributes: attributes };
            replaced = false;
            throw Object.assign(new Error("The specified queue does not exist."), { name: "QueueDoesNotExist", $metadata: {} });
        });
        let rounds = 0;
        const stop = new AbortController();
        const r = await h.run(["queues", "--stack", "dev", "--watch", "--json"], {
            signal: stop.signal,
            sleep: async () => {
                replaced = ++rounds === 1;
                if (rounds === 2) stop.abort();
            },
        });
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout.trim().split("\n")).to.have.length(2);
        expect(h.sqsMock.commandCalls(ListQueuesCommand)).to.have.length(2);
    });

    it("refreshes with --watch at the interval until stopped", async () => {
        stubQueues(h, processedQueue("analytics"));
        const stop = new AbortController();
        let rounds = 0;
        const r = await h.run(["queues", "--stack", "dev", "--watch", "--interval", "30", "--json"], {
            signal: stop.signal,
            sleep: async (ms) => {
                h.sleeps.push(ms);
                if (++rounds === 2) stop.abort();
            },
        });
        expect(r.code).to.equal(0);
        expect(h.sleeps).to.deep.equal([30000, 30000]);
        expect(r.stdout.trim().split("\n")).to.have.length(2); // one JSON document per refresh
    });

    it("attaches a route's target DLQ to the queue the route's rule delivers to, and counts its events", async () => {
        stubQueues(h, [...processedQueue("analytics"), routeDlq("route-dlq", 2)]);
        stubBus(h, [{ name: "restaurant-viewed-rule", tags: { stack: "dev", "bellyfed:rule": "platform-bus/restaurant-viewed" }, targets: [queueTarget("q", "analytics-a1b2c3d", "route-dlq")] }]);
        const r = await h.run(["queues", "--stack", "dev", "--json"]);
        expect(r.code).to.equal(1);
        const [q] = r.json().queues;
        expect(q.targetDlqs).to.deep.equal([{ name: "route-dlq", visible: 2 }]);
        expect(q.problems).to.deep.equal(["target DLQ route-dlq holds 2 event(s) EventBridge could not deliver"]);
    });

    it("still lists a target DLQ whose route's rule cannot be found, under the route's name", async () => {
        stubQueues(h, [...processedQueue("analytics"), routeDlq("route-dlq", 0)]);
        stubBus(h, []);
        const r = await h.run(["queues", "--stack", "dev", "--json"]);
        expect(r.json().queues.map((q: any) => [q.name, q.targetDlqs.length, q.healthy])).to.deep.equal([
            ["analytics", 0, true],
            ["platform-bus/restaurant-viewed", 1, true],
        ]);
    });

    it("says so, with exit 2, when no queue carries the stack's tags", async () => {
        h.sqsMock.on(ListQueuesCommand).resolves({ QueueUrls: [] });
        const r = await h.run(["queues", "--stack", "prod"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include('No queues of stack "prod" found').and.include("stack=prod");
    });

    it("reads the local runtime's /_local/state with --local", async () => {
        const local = new FakeLocalRuntime({
            stack: "dev",
            endpoints: {},
            queues: [{ name: "analytics", visible: 1, inFlight: 0, dlq: { name: "analytics-dlq", visible: 2 } }],
            rules: [],
        });
        await local.start();
        try {
            const r = await h.run(["queues", "--local", local.url, "--json"]);
            expect(r.code).to.equal(1);
            expect(r.json().queues[0]).to.deep.include({ name: "analytics", visible: 1, inFlight: 0, healthy: false, dlq: { name: "analytics-dlq", visible: 2 } });
        } finally {
            await local.stop();
        }
    });

    it("refuses --stack naming another stack than the local runtime's (exit 2), naming both; accepts the same stack", async () => {
        const local = new FakeLocalRuntime({ stack: "dev", endpoints: {}, queues: [{ name: "analytics", visible: 0, inFlight: 0, dlq: { name: "analytics-dlq", visible: 0 } }], rules: [] });
        await local.start();
        try {
            const r = await h.run(["queues", "--local", local.url, "--stack", "prod"]);
            expect(r.code).to.equal(2);
            expect(r.stderr).to.include(`--stack prod, but the local runtime at ${local.url} runs stack "dev"`).and.include("npm start -- --stack prod");
            expect(r.stdout).to.equal("");
            const same = await h.run(["queues", "--local", local.url, "--stack", "dev", "--json"]);
            expect([same.code, same.json().stack, same.stderr]).to.deep.equal([0, "dev", ""]);
        } finally {
            await local.stop();
        }
    });

    describe("with --local", () => {
        const state = {
            stack: "dev",
            endpoints: {},
            queues: [
                { name: "route-dlq-1", logicalName: "platform-bus-route-target-dlq", visible: 2, inFlight: 0, dlq: null },
                { name: "analytics-queue-1", logicalName: "analytics-queue", visible: 0, inFlight: 0, dlq: { name: "analytics-queue-dlq-1", visible: 0 } },
            ],
            rules: [],
        };
        let local: FakeLocalRuntime;
        beforeEach(async () => {
            local = new FakeLocalRuntime(state);
            await local.start();
        });
        afterEach(() => local.stop());

        it("shows the target DLQs the runtime lists under each queue", async () => {
            local.state = {
                ...state,
                queues: [{ ...state.queues[1], targetDlqs: [{ name: "route-dlq-1", visible: 1, inFlight: 1 }] }],
            };
            const r = await h.run(["queues", "--local", local.url, "--json"]);
            expect(r.json().queues[0]).to.deep.include({ name: "analytics-queue", targetDlqs: [{ name: "route-dlq-1", visible: 2 }], healthy: false });
        });

        it("attaches a target DLQ listed as a queue to its queue as the offline plan's rules output says", async () => {
            const plan = { outputs: { rules: [{ name: "platform-bus/route", queue: "analytics-queue", targetDlqName: "route-dlq-1" }] } } as any;
            const r = await h.run(["queues", "--local", local.url, "--json"], { planStack: async () => plan });
            expect(r.json().queues).to.have.length(1);
            expect(r.json().queues[0]).to.deep.include({ name: "analytics-queue", targetDlqs: [{ name: "route-dlq-1", visible: 2 }], healthy: false });
        });

        it("without the plan, shows a queue with no DLQ as a target DLQ of its own", async () => {
            const r = await h.run(["queues", "--local", local.url, "--json"]);
            expect(r.json().queues.map((q: any) => [q.name, q.targetDlqs.length, q.problems])).to.deep.equal([
                ["platform-bus-route-target-dlq", 1, ["target DLQ route-dlq-1 holds 2 event(s) EventBridge could not deliver"]],
                ["analytics-queue", 0, []],
            ]);
        });
    });

    describe("verdict", () => {
        const base = { name: "q", queueName: "q-1", visible: 0, dlq: { name: "q-dlq", visible: 0 }, targetDlqs: [] };

        it("is healthy with an empty DLQ, a young backlog and a small depth", () => {
            expect(verdict({ ...base, oldestAgeSeconds: 10 }, { maxAgeSeconds: 300, maxDepth: 1000 })).to.deep.equal({ healthy: true, problems: [] });
        });

        it("flags a deep backlog", () => {
            expect(verdict({ ...base, visible: 1001 }, { maxDepth: 1000 }).problems).to.deep.equal(["1001 messages waiting (>= 1000)"]);
        });

        it("flags a backlog exactly at the threshold, as the queue-depth alarm (GreaterThanOrEqualToThreshold) does", () => {
            expect(verdict({ ...base, visible: 500 }, { maxDepth: 500 }).problems).to.deep.equal(["500 messages waiting (>= 500)"]);
            expect(verdict({ ...base, visible: 499 }, { maxDepth: 500 }).healthy).to.equal(true);
        });

        it("flags DLQ messages close to the end of the DLQ's retention", () => {
            const dlq = { name: "q-dlq", visible: 1, oldestAgeSeconds: 13 * 86400, retentionSeconds: 14 * 86400 };
            expect(verdict({ ...base, dlq }, { maxDepth: 1000 }).problems[1]).to.include("close to the DLQ's 14d00h retention");
        });

        it("flags events waiting in an EventBridge target DLQ", () => {
            expect(verdict({ ...base, targetDlqs: [{ name: "route-dlq", visible: 2 }] }, { maxDepth: 1000 }).problems).to.deep.equal([
                "target DLQ route-dlq holds 2 event(s) EventBridge could not deliver",
            ]);
        });
    });
});
