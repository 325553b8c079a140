/**
 * The ops CLI against what the real program declares (the dev stack's offline plan): the tags it
 * discovers queues and rules by, and the code it names as a rule's declarer.
 */
import { expect } from "chai";
import { describeDeclaration, findDeclaration, ofStack } from "../../ops/discovery";
import { stackQueueDepth } from "../../ops/stacks";
import { ROOT } from "../reuse/packaging";
import { Graph, stackGraph } from "../support/graph";
import { OpsHarness, stubQueues } from "./support";

describe("ops CLI and the dev stack's resources", () => {
    let graph: Graph;
    before(async function () {
        this.timeout(120000);
        graph = await stackGraph("dev");
    });

    it("finds every ProcessedQueue of the stack, with its queue, DLQ and target DLQ, by the tags the program sets", async () => {
        const h = new OpsHarness();
        const queues = graph.ofType("aws:sqs/queue:Queue");
        stubQueues(h, queues.map((q) => ({ name: q.outputs.name, tags: q.inputs.tags, attributes: { ApproximateNumberOfMessages: "0" } })));
        const r = await h.run(["queues", "--stack", "dev", "--json"]);
        const components = graph.ofType("bellyfed:events:ProcessedQueue").map((c) => c.name);
        expect(components).to.not.be.empty;
        expect(r.json().queues.map((q: any) => q.name)).to.deep.equal([...components].sort());
        for (const q of r.json().queues) {
            const children = graph.descendantsOf(graph.get("bellyfed:events:ProcessedQueue", q.name)).filter((c) => c.type === "aws:sqs/queue:Queue");
            expect(children.map((c) => c.outputs.name)).to.include.members([q.queueName, q.dlq.name]);
        }
        const targetDlqs = queues.filter((q) => q.inputs.tags["bellyfed:queue-role"] === "target-dlq").map((q) => q.outputs.name);
        expect(r.json().queues.flatMap((q: any) => q.targetDlqs.map((t: any) => t.name))).to.have.members(targetDlqs);
    });

    it("says which component and route declare each of the stack's rules", () => {
        for (const rule of graph.ofType("aws:cloudwatch/eventRule:EventRule")) {
            const tag = rule.inputs.tags["bellyfed:rule"];
            expect(tag, `${rule.name} has no bellyfed:rule tag`).to.be.a("string");
            const declaration = findDeclaration(graph.run, tag);
            expect(declaration.resource?.urn).to.equal(rule.urn);
            expect(declaration.components.map((c) => c.type)).to.include("bellyfed:events:EventBus");
            expect(describeDeclaration("dev", declaration)).to.match(/^declared by route "[^"]+" of the bus "[^"]+": bellyfed:events:/);
        }
    });

    it("finds the bus and every queue by the project and stack tags the program sets on them", () => {
        const tagged = [...graph.ofType("aws:cloudwatch/eventBus:EventBus"), ...graph.ofType("aws:sqs/queue:Queue")];
        expect(tagged).to.not.be.empty;
        for (const resource of tagged) expect(ofStack(resource.inputs.tags, "dev"), `${resource.type} ${resource.name}`).to.equal(true);
    });

    it("calls a queue unhealthy at the depth where the stack's queue-depth alarm fires", () => {
        const alarms = graph.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.endsWith("-queue-depth"));
        expect(alarms).to.not.be.empty;
        for (const alarm of alarms) {
            expect(alarm.inputs.comparisonOperator).to.equal("GreaterThanOrEqualToThreshold");
            expect(alarm.inputs.threshold, alarm.name).to.equal(stackQueueDepth(ROOT, "dev").value);
        }
    });
});
