import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { NumberValue, PutCommand } from "@aws-sdk/lib-dynamodb";
import { AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { buildEventCatalog } from "../../handlers/events/catalog";
import { createRestaurantQueryHandler, PUBLISH_BUDGET_MS, restaurantQueryFactory } from "../../handlers/restaurantQuery";
import { sdkClientConfig } from "../../handlers/runtime/awsClients";
import { createEventPublisher } from "../../handlers/runtime/publisher";
import { httpEvent, LocalDynamo, startDynalite, suiteEnv, withEnv } from "../support/dynalite";
import { BlackHole, contextWithRemaining, startBlackHole, timed } from "./blackHole";
import { recorder } from "./recorder";

describe("restaurant query handler (dynalite)", () => {
    let dynamo: LocalDynamo;
    // The class is mocked for this suite only: the suites on hung endpoints need real clients.
    let eventBridge: AwsClientStub<EventBridgeClient>;
    let handler: ReturnType<typeof restaurantQueryFactory>;

    before(async () => {
        eventBridge = mockClient(EventBridgeClient);
        dynamo = await startDynalite();
        await dynamo.createTable("restaurants", "restaurantId");
        await dynamo.documents.send(new PutCommand({ TableName: "restaurants", Item: { restaurantId: "r-1", name: "Nasi Lemak House", cuisine: "Malaysian" } }));
        await dynamo.client.send(
            new PutItemCommand({
                TableName: "restaurants",
                Item: {
                    restaurantId: { S: "r-typed" },
                    tags: { SS: ["halal", "spicy"] },
                    ratings: { NS: ["4", "4.5"] },
                    price: { N: "12.5" },
                    followers: { N: "12345678901234567890123" },
                    nested: { M: { visits: { N: "9007199254740993" }, open: { BOOL: true } } },
                },
            }),
        );
        handler = withEnv({ RESTAURANTS_TABLE: "restaurants", EVENT_BUS_NAME: "bus", CORS_ALLOW_ORIGINS: "https://bellyfed.com" }, () => restaurantQueryFactory());
    });
    suiteEnv(() => ({ AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint }));
    after(async () => {
        eventBridge.restore();
        await dynamo.close();
    });
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

    it("answers string and number sets as JSON arrays", async () => {
        const body = JSON.parse((await handler(httpEvent("/restaurant/r-typed", { id: "r-typed" }))).body);
        expect(body.tags).to.have.members(["halal", "spicy"]);
        expect(body.ratings).to.have.members([4, 4.5]);
    });

    it("answers a number beyond a double's precision as a string with all its digits, instead of failing", async () => {
        const res = await handler(httpEvent("/restaurant/r-typed", { id: "r-typed" }));
        expect(res.statusCode).to.equal(200);
        const body = JSON.parse(res.body);
        expect([body.price, body.followers, body.nested]).to.deep.equal([12.5, "12345678901234567890123", { visits: "9007199254740993", open: true }]);
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

describe("restaurant query handler on hung services", () => {
    let dynamo: LocalDynamo;
    let hole: BlackHole;
    const env = { RESTAURANTS_TABLE: "restaurants", EVENT_BUS_NAME: "bus" };

    before(async () => {
        [dynamo, hole] = await Promise.all([startDynalite(), startBlackHole()]);
        await dynamo.createTable("restaurants", "restaurantId");
        await dynamo.documents.send(new PutCommand({ TableName: "restaurants", Item: { restaurantId: "r-1", name: "Nasi Lemak House" } }));
    });
    after(async () => {
        await hole.close();
        await dynamo.close();
    });

    // Endpoints are set per test and restored after it, even when a request never settles.
    let savedEnv: Record<string, string | undefined> = {};
    afterEach(() => {
        for (const [k, v] of Object.entries(savedEnv)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
        savedEnv = {};
    });

    /** Runs one request of a fresh cold start with these service endpoints (the SDK reads them at the first call). */
    async function request(endpoints: Record<string, string>, context?: object) {
        savedEnv = Object.fromEntries(Object.keys(endpoints).map((k) => [k, process.env[k]]));
        Object.assign(process.env, endpoints);
        const handler = withEnv(env, () => restaurantQueryFactory());
        return timed(() => handler(httpEvent("/restaurant/r-1", { id: "r-1" }), context));
    }

    it("answers 200 with the restaurant within the publish budget when EventBridge never answers", async () => {
        const before = hole.connections();
        const { result, ms } = await request({ AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_ENDPOINT_URL_EVENTBRIDGE: hole.endpoint }, contextWithRemaining(10_000));
        expect(result.statusCode).to.equal(200);
        expect(JSON.parse(result.body)).to.deep.equal({ restaurantId: "r-1", name: "Nasi Lemak House" });
        expect(ms).to.be.lessThan(PUBLISH_BUDGET_MS + 1000);
        expect(hole.connections()).to.be.greaterThan(before);
    });

    it("answers 200 before the invocation's deadline when little time is left and EventBridge never answers", async () => {
        const { result, ms } = await request({ AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_ENDPOINT_URL_EVENTBRIDGE: hole.endpoint }, contextWithRemaining(1200));
        expect(result.statusCode).to.equal(200);
        expect(ms).to.be.lessThan(1100);
    });

    it("logs and counts the view it could not publish (PublishFailures)", async () => {
        const rec = recorder();
        const client = new EventBridgeClient({ region: "us-east-1", endpoint: hole.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" }, ...sdkClientConfig() });
        try {
            const handler = createRestaurantQueryHandler({
                documents: dynamo.documents,
                restaurantsTable: "restaurants",
                publisher: createEventPublisher({ client, busName: "bus", catalog: buildEventCatalog(), logger: rec.logger, metrics: rec.metricsSink }),
                allowedOrigins: ["*"],
                logger: rec.logger,
                metrics: rec.metricsSink,
                isNumberValue: (v): v is { value: string } => v instanceof NumberValue,
                publishBudgetMs: 200,
            });
            const res = await handler(httpEvent("/restaurant/r-1", { id: "r-1" }));
            expect(res.statusCode).to.equal(200);
            expect(rec.metrics).to.deep.equal({ PublishFailures: 1 });
            expect(rec.logs.find((l) => l.level === "error")?.extra).to.deep.include({ event: "RestaurantViewed", errorCode: "DeadlineExceeded" });
        } finally {
            client.destroy();
        }
    });

    it("answers a JSON 500 before the invocation's deadline when DynamoDB never answers", async () => {
        const { result, ms } = await request({ AWS_ENDPOINT_URL_DYNAMODB: hole.endpoint }, contextWithRemaining(1500));
        expect(result.statusCode).to.equal(500);
        expect(JSON.parse(result.body)).to.deep.equal({ message: "Internal error while reading the restaurant", requestId: "req-1" });
        expect(ms).to.be.lessThan(1400);
    });
});
