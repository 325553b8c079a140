import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { daySk, TOTAL_SK } from "../../handlers/analyticsConsumer/items";
import { createRestaurantStatsHandler, restaurantStatsFactory } from "../../handlers/restaurantStats";
import { sdkClientConfig } from "../../handlers/runtime/awsClients";
import { httpEvent, LocalDynamo, startDynalite, suiteEnv, withEnv } from "../support/dynalite";
import { contextWithRemaining, startBlackHole, timed } from "./blackHole";

const NOW = Date.parse("2026-03-10T08:00:00Z");
const ROUTE = "GET /restaurant/{id}/stats";
const quiet = {
    logger: { info() {}, warn() {}, error() {}, appendKeys() {}, resetKeys() {} } as any,
    metrics: { hasStoredMetrics: () => false, publishStoredMetrics() {}, addMetric() {} } as any,
};
const statsEvent = (id: string, query?: Record<string, string>, headers: Record<string, string> = {}) =>
    httpEvent(`/restaurant/${id}/stats`, { id }, headers, { routeKey: ROUTE, queryStringParameters: query });

describe("restaurant stats handler (dynalite)", () => {
    let dynamo: LocalDynamo;
    let handler: ReturnType<typeof createRestaurantStatsHandler>;

    before(async () => {
        dynamo = await startDynalite();
        await dynamo.createTable("restaurants", "restaurantId");
        await dynamo.createTable("analytics", "restaurantId", "sk");
        const put = (TableName: string, Item: Record<string, unknown>) => dynamo.documents.send(new PutCommand({ TableName, Item }));
        await put("restaurants", { restaurantId: "r-1", name: "Nasi Lemak House" });
        await put("restaurants", { restaurantId: "r-quiet", name: "Quiet Corner" });
        await put("analytics", { restaurantId: "r-1", sk: TOTAL_SK, views: 42 });
        await put("analytics", { restaurantId: "r-1", sk: daySk("2026-03-10"), views: 3 });
        await put("analytics", { restaurantId: "r-1", sk: daySk("2026-03-08"), views: 5, inflight: new Set(["e-9"]) });
        await put("analytics", { restaurantId: "r-1", sk: daySk("2026-01-01"), views: 34 });
        await put("analytics", { restaurantId: "r-1", sk: "EVENT#e-1", state: "counted" });
        handler = createRestaurantStatsHandler({
            documents: dynamo.documents,
            restaurantsTable: "restaurants",
            analyticsTable: "analytics",
            allowedOrigins: ["https://bellyfed.com"],
            now: () => NOW,
            ...quiet,
        });
    });
    suiteEnv(() => ({ AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint }));
    after(() => dynamo.close());

    it("answers the total and one count per UTC day of the window, oldest first", async () => {
        const res = await handler(statsEvent("r-1", { days: "3" }));
        expect(res.statusCode).to.equal(200);
        expect(JSON.parse(res.body)).to.deep.equal({ restaurantId: "r-1", views: { total: 42, byDay: { "2026-03-08": 5, "2026-03-09": 0, "2026-03-10": 3 } } });
    });

    it("covers the last 30 days by default", async () => {
        const { byDay } = JSON.parse((await handler(statsEvent("r-1"))).body).views;
        expect(Object.keys(byDay)).to.have.length(30);
        expect([Object.keys(byDay)[0], Object.keys(byDay)[29]]).to.deep.equal(["2026-02-09", "2026-03-10"]);
    });

    it("answers 200 with zeros for a known restaurant nobody viewed yet", async () => {
        const res = await handler(statsEvent("r-quiet", { days: "2" }));
        expect(res.statusCode).to.equal(200);
        expect(JSON.parse(res.body)).to.deep.equal({ restaurantId: "r-quiet", views: { total: 0, byDay: { "2026-03-09": 0, "2026-03-10": 0 } } });
    });

    it("answers 404 for an unknown restaurant", async () => {
        const res = await handler(statsEvent("nope"));
        expect(res.statusCode).to.equal(404);
        expect(JSON.parse(res.body)).to.deep.equal({ message: "Restaurant nope not found" });
    });

    for (const bad of ["0", "367", "-1", "1.5", "ten", ""]) {
        it(`answers 400 for days=${JSON.stringify(bad)}`, async () => {
            const res = await handler(statsEvent("r-1", { days: bad }));
            expect(res.statusCode).to.equal(400);
            expect(JSON.parse(res.body)).to.deep.equal({ message: "Invalid days: expected a whole number from 1 to 366" });
        });
    }

    it("answers 400 for an invalid restaurant id", async () => {
        const res = await handler(statsEvent("a b"));
        expect(res.statusCode).to.equal(400);
        expect(JSON.parse(res.body).message).to.match(/Invalid restaurant id/);
    });

    it("answers 500 without internals when DynamoDB fails", async () => {
        const broken = createRestaurantStatsHandler({ documents: dynamo.documents, restaurantsTable: "restaurants", analyticsTable: "no-such-table", allowedOrigins: ["*"], ...quiet });
        const res = await broken(statsEvent("r-1"));
        expect(res.statusCode).to.equal(500);
        expect(JSON.parse(res.body)).to.deep.equal({ message: "Internal error while reading the statistics", requestId: "req-1" });
    });

    it("answers a JSON 500 before the invocation's deadline when DynamoDB accepts the connection and never answers", async () => {
        const hole = await startBlackHole();
        const client = new DynamoDBClient({ region: "us-east-1", endpoint: hole.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" }, ...sdkClientConfig() });
        try {
            const hung = createRestaurantStatsHandler({ documents: DynamoDBDocumentClient.from(client), restaurantsTable: "restaurants", analyticsTable: "analytics", allowedOrigins: ["*"], ...quiet });
            const { result, ms } = await timed(() => hung(statsEvent("r-1"), contextWithRemaining(1500)));
            expect(result.statusCode).to.equal(500);
            expect(JSON.parse(result.body)).to.deep.equal({ message: "Internal error while reading the statistics", requestId: "req-1" });
            expect(ms).to.be.lessThan(1400);
        } finally {
            client.destroy();
            await hole.close();
        }
    });

    it("carries the CORS headers on every response, errors included", async () => {
        for (const id of ["r-1", "nope", "a b"]) {
            const res = await handler(statsEvent(id, undefined, { origin: "https://bellyfed.com" }));
            expect(res.headers["Access-Control-Allow-Origin"], id).to.equal("https://bellyfed.com");
        }
    });

    it("does not count as a view: it publishes no event", async () => {
        const eventBridge = mockClient(EventBridgeClient);
        try {
            const fromFactory = withEnv({ RESTAURANTS_TABLE: "restaurants", ANALYTICS_TABLE: "analytics" }, () => restaurantStatsFactory());
            const res = await fromFactory(statsEvent("r-1"));
            expect(res.statusCode).to.equal(200);
            expect(eventBridge.commandCalls(PutEventsCommand)).to.have.length(0);
        } finally {
            eventBridge.restore();
        }
    });
});
