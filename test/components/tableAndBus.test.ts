import { expect } from "chai";
import { EventBus, Table } from "../../components";
import { Graph, programGraph } from "../support/graph";

describe("Table", () => {
    let graph: Graph;
    before(async () => {
        graph = await programGraph(() => {
            new Table("safe", { hashKey: "pk" });
            new Table("cheap", { hashKey: "pk", rangeKey: "sk", pointInTimeRecovery: false, deletionProtection: false, ttlAttribute: "expiresAt" });
        });
    });

    it("is on-demand and encrypted at rest", () => {
        expect(graph.get("aws:dynamodb/table:Table", "safe").inputs).to.deep.include({ billingMode: "PAY_PER_REQUEST", serverSideEncryption: { enabled: true } });
    });

    it("defaults to point-in-time recovery and deletion protection", () => {
        const t = graph.get("aws:dynamodb/table:Table", "safe").inputs;
        expect([t.pointInTimeRecovery.enabled, t.deletionProtectionEnabled]).to.deep.equal([true, true]);
    });

    it("declares the sort key and TTL when given", () => {
        const t = graph.get("aws:dynamodb/table:Table", "cheap").inputs;
        expect(t.rangeKey).to.equal("sk");
        expect(t.attributes).to.deep.equal([{ name: "pk", type: "S" }, { name: "sk", type: "S" }]);
        expect(t.ttl).to.deep.equal({ attributeName: "expiresAt", enabled: true });
    });

    it("rejects an invalid key name", () => {
        expect(() => new Table("bad", { hashKey: "has space" })).to.throw('Table "bad": hashKey must be 1-255 characters');
    });
});

describe("EventBus", () => {
    let graph: Graph;
    let statement: any;
    let plainStatement: any;
    before(async () => {
        graph = await programGraph(() => {
            const bus = new EventBus("bus", { archiveRetentionDays: 3 });
            const plain = new EventBus("plain");
            return { statement: bus.publishStatement(), plainStatement: plain.publishStatement() };
        });
        statement = graph.run.outputs.statement;
        plainStatement = graph.run.outputs.plainStatement;
    });

    it("is a bellyfed:events:EventBus component with a custom bus", () => {
        expect(graph.ofType("bellyfed:events:EventBus").map((r) => r.name).sort()).to.deep.equal(["bus", "plain"]);
        expect(graph.ofType("aws:cloudwatch/eventBus:EventBus")).to.have.length(2);
    });

    it("archives the bus's events with the given retention", () => {
        const archive = graph.get("aws:cloudwatch/eventArchive:EventArchive", "bus-archive");
        expect(archive.inputs.eventSourceArn).to.equal(graph.get("aws:cloudwatch/eventBus:EventBus", "bus").outputs.arn);
        expect(archive.inputs.retentionDays).to.equal(3);
    });

    it("has no archive unless asked", () => {
        expect(graph.ofType("aws:cloudwatch/eventArchive:EventArchive").map((a) => a.name)).to.deep.equal(["bus-archive"]);
    });

    it("grants events:PutEvents on exactly this bus", () => {
        expect(statement).to.deep.include({ Effect: "Allow", Action: ["events:PutEvents"], Resource: graph.get("aws:cloudwatch/eventBus:EventBus", "bus").outputs.arn });
    });

    it("names the bus in the publish statement's Sid, so a function publishing to two buses gets two statements", () => {
        expect(statement.Sid).to.match(/^PublishToBus[0-9a-f]{8}$/);
        expect(plainStatement.Sid).to.match(/^PublishToPlain[0-9a-f]{8}$/);
    });

    it("rejects a negative archive retention", () => {
        expect(() => new EventBus("bad", { archiveRetentionDays: -1 })).to.throw('EventBus "bad": archiveRetentionDays must be a whole number of days >= 0, got -1');
    });
});
