import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { restaurantQueryFactory } from "../../handlers/restaurantQuery";
import { httpEvent, LocalDynamo, startDynalite, suiteEnv, withEnv } from "../support/dynalite";

describe("restaurant query handler (dynalite)", () => {
    let dynamo: LocalDynamo;
    const eventBridge = mockClient(EventBridgeClient);
    let handler: ReturnType<typeof restaurantQueryFactory>;

    before(async () => {
        dynamo = await startDynalite();
        await dynamo.createTable("restaurants", "restaurantId");
        await dynamo.documents.send(new PutCommand({ TableName: "restaurants", Item: { restaurantId: "r-1", name: "Nasi Lemak House", cuisine: "Malaysian" } }));
        handler = withEnv({ RESTAURANTS_TABLE: "restaurants", EVENT_BUS_NAME: "bus", CORS_ALLOW_ORIGINS: "https://bellyfed.com" }, () => restaurantQueryFactory());
    });
    suiteEnv(() => ({ AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint }));
    after(() => dynamo.close());
    beforeEach(() => {
        eventBridge.reset();
        eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "e-1" }] });
    });

    it("answers 200 with the restaurant as JSON", async () => {
        const res = await handler(httpEvent("/restaurant/r-1", { id: "r-1" }));
        expect(res.statusCode).to.equal(200);
        expect(JSON.parse(res.body)).to.deep.equal({ restaurantId: "r-1", name: "Nasi Lemak House", cuisine: "Malaysian" });
        expect(res.headers["Content-Type"]).to.equal("application/json");
    });

    it("publishes one RestaurantViewed event to the bus", async () => {
        await handler(httpEvent("/restaurant/r-1", { id: "r-1" }));
        const calls = eventBridge.commandCalls(PutEventsCommand);
        expect(calls).to.have.length(1);
        const [entry] = calls[0].args[0].input.Entries!;
        expect(entry).to.include({ EventBusName: "bus", Source: "bellyfed.restaurants", DetailType: "RestaurantViewed" });
        expect(JSON.parse(entry.Detail!)).to.include({ version: 1, restaurantId: "r-1", requestId: "req-1" });
    });

    it("answers 404 with a JSON message for an unknown restaurant, publishing nothing", async () => {
        const res = await handler(httpEvent("/restaurant/nope", { id: "nope" }));
        expect(res.statusCode).to.equal(404);
        expect(JSON.parse(res.body)).to.deep.equal({ message: "Restaurant nope not found" });
        expect(eventBridge.commandCalls(PutEventsCommand)).to.have.length(0);
    });

    for (const bad of ["", "a b", "x".repeat(65), "../etc", "%00"]) {
        it(`answers 400 for the id ${JSON.stringify(bad.slice(0, 10))}`, async () => {
            const res = await handler(httpEvent(`/restaurant/${bad}`, bad ? { id: bad } : {}));
            expect(res.statusCode).to.equal(400);
            expect(JSON.parse(res.body).message).to.match(/Invalid restaurant id/);
        });
    }

    it("answers 500 without internals when DynamoDB fails", async () => {
        const broken = withEnv({ RESTAURANTS_TABLE: "no-such-table", EVENT_BUS_NAME: "bus" }, () => restaurantQueryFactory());
        const res = await broken(httpEvent("/restaurant/r-1", { id: "r-1" }));
        expect(res.statusCode).to.equal(500);
        expect(res.body).to.not.match(/no-such-table|ResourceNotFound/);
        expect(JSON.parse(res.body)).to.deep.equal({ message: "Internal error while reading the restaurant", requestId: "req-1" });
    });

    it("still answers 200 when PutEvents reports a failed entry", async () => {
        eventBridge.reset();
        eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: "AccessDeniedException", ErrorMessage: "denied" }] });
        const res = await handler(httpEvent("/restaurant/r-1", { id: "r-1" }));
        expect(res.statusCode).to.equal(200);
    });

    it("still answers 200 when the EventBridge call throws", async () => {
        eventBridge.reset();
        eventBridge.on(PutEventsCommand).rejects(new Error("network down"));
        const res = await handler(httpEvent("/restaurant/r-1", { id: "r-1" }));
        expect(res.statusCode).to.equal(200);
    });

    it("carries the CORS headers on every response, errors included", async () => {
        for (const [path, params] of [["/restaurant/r-1", { id: "r-1" }], ["/restaurant/nope", { id: "nope" }], ["/restaurant/a b", { id: "a b" }]] as const) {
            const res = await handler(httpEvent(path, params, { origin: "https://bellyfed.com" }));
            expect(res.headers["Access-Control-Allow-Origin"], path).to.equal("https://bellyfed.com");
            expect(res.body).to.be.a("string");
        }
    });

    it("does not echo an origin that is not allowed", async () => {
        const res = await handler(httpEvent("/restaurant/r-1", { id: "r-1" }, { origin: "https://evil.example" }));
        expect(res.headers["Access-Control-Allow-Origin"]).to.equal("https://bellyfed.com");
    });
});
