import { expect } from "chai";
import { Graph, LOG_GROUP, stackGraph, STAGE, TABLE } from "../support/graph";


describe("per-stack settings", () => {
    let dev: Graph;
    let prod: Graph;
    before(async () => {
        [dev, prod] = await Promise.all([stackGraph("dev"), stackGraph("prod")]);
    });

    it("turns on point-in-time recovery and deletion protection in prod only", () => {
        const devTable = dev.get(TABLE, "restaurants").inputs;
        const prodTable = prod.get(TABLE, "restaurants").inputs;
        expect([devTable.pointInTimeRecovery.enabled, devTable.deletionProtectionEnabled]).to.deep.equal([false, false]);
        expect([prodTable.pointInTimeRecovery.enabled, prodTable.deletionProtectionEnabled]).to.deep.equal([true, true]);
    });

    it("keeps logs longer in prod", () => {
        const retention = (g: Graph) => g.ofType(LOG_GROUP).map((group) => group.inputs.retentionInDays);
        // Not vacuous: every() holds on an empty list.
        expect(retention(dev)).to.not.be.empty;
        expect(retention(prod)).to.not.be.empty;
        expect(retention(dev)).to.satisfy((d: number[]) => d.every((x) => x === 14));
        expect(retention(prod)).to.satisfy((d: number[]) => d.every((x) => x === 90));
    });

    it("throttles prod more strictly than dev", () => {
        const limit = (g: Graph) => g.get(STAGE, "query-api-default").inputs.defaultRouteSettings.throttlingRateLimit;
        expect(limit(prod)).to.be.below(limit(dev));
    });

    it("archives bus events in prod only", () => {
        expect(dev.ofType("aws:cloudwatch/eventArchive:EventArchive")).to.have.length(0);
        expect(prod.ofType("aws:cloudwatch/eventArchive:EventArchive").map((a) => a.inputs.retentionDays)).to.deep.equal([30]);
    });

    it("allows only the configured origins in prod", () => {
        expect(prod.get("aws:apigatewayv2/api:Api", "query-api").inputs.corsConfiguration.allowOrigins).to.deep.equal([
            "https://bellyfed.com",
            "https://www.bellyfed.com",
        ]);
    });

    it("exports the API URL, table and bus names", () => {
        expect(dev.run.outputs.apiUrl).to.match(/^https:\/\/\w+\.execute-api\.us-east-1\.amazonaws\.com\/$/);
        expect(dev.run.outputs.restaurantsTableName).to.equal(dev.get(TABLE, "restaurants").outputs.name);
        expect(dev.run.outputs.eventBusName).to.be.a("string");
    });
});
