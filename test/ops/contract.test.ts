/**
 * The ops CLI against what the real program declares (the dev stack's offline plan): the tags it
 * discovers queues and rules by, and the code it names as a rule's declarer.
 */
import { expect } from "chai";
import { describeDeclaration, findDeclaration } from "../../ops/discovery";
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
});
