import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import { createAnalyticsConsumer } from "../../handlers/analyticsConsumer";
import { eventSk, TOTAL_SK } from "../../handlers/analyticsConsumer/items";
import { buildEventCatalog } from "../../handlers/events/catalog";
import { sdkClientConfig } from "../../handlers/runtime/awsClients";
import { LocalDynamo, startDynalite } from "../support/dynalite";
import { eventEnvelope, sqsEvent, sqsRecord } from "../support/sqs";
import { BlackHole, contextWithRemaining, startBlackHole, timed } from "./blackHole";
import { recorder } from "./recorder";

/**
 * How the analytics consumer spends one invocation on a batch: bounded concurrency on a standard
 * queue, strict order on a FIFO queue, exact partial-batch answers, and an answer before Lambda's
 * timeout when DynamoDB hangs.
 */
const TABLE = "analytics";
const NOW = Date.parse("2026-03-01T12:00:00Z");
const FIFO = { queueArn: "arn:aws:sqs:us-east-1:123456789012:analytics.fifo" };
const viewed = (restaurantId: string, eventId: string) =>
    eventEnvelope("RestaurantViewed", { version: 1, restaurantId, viewedAt: "2026-03-01T10:00:00.000Z", requestId: `req-${eventId}` }, eventId);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A document client in front of dynalite that delays every call and records how many records (by
 * restaurant id: one per record in these tests) have a DynamoDB call in flight at once. Calls for
 * the restaurant `r-broken` fail as an unavailable DynamoDB would.
 */
function instrumented(documents: DynamoDBDocumentClient, delayMs: number) {
    const inFlight = new Map<string, number>();
    let maxRecordsAtOnce = 0;
    return {
        maxRecordsAtOnce: () => maxRecordsAtOnce,
        client: {
            async send(command: any, options?: any) {
                const restaurantId = String(command.input?.Key?.restaurantId ?? command.input?.Item?.restaurantId);
                inFlight.set(restaurantId, (inFlight.get(restaurantId) ?? 0) + 1);
                maxRecordsAtOnce = Math.max(maxRecordsAtOnce, inFlight.size);
                try {
                    await sleep(delayMs);
                    if (restaurantId === "r-broken") throw Object.assign(new Error("service unavailable"), { name: "ServiceUnavailable" });
                    return await documents.send(command, options);
                } finally {
                    const left = inFlight.get(restaurantId)! - 1;
                    if (left === 0) inFlight.delete(restaurantId);
                    else inFlight.set(restaurantId, left);
                }
            },
        } as any,
    };
}

describe("analytics consumer batches (dynalite)", () => {
    let dynamo: LocalDynamo;
    let rec: ReturnType<typeof recorder>;
    const consumer = (documents: any, extra: Record<string, unknown> = {}) =>
        createAnalyticsConsumer({ documents, tableName: TABLE, catalog: buildEventCatalog(), logger: rec.logger, metrics: rec.metricsSink, now: () => NOW, ...extra });
    const views = async (restaurantId: string) =>
        (await dynamo.documents.send(new GetCommand({ TableName: TABLE, Key: { restaurantId, sk: TOTAL_SK }, ConsistentRead: true }))).Item?.views ?? 0;

    before(async () => {
        dynamo = await startDynalite();
        await dynamo.createTable(TABLE, "restaurantId", "sk");
    });
    after(() => dynamo.close());
    beforeEach(() => (rec = recorder()));

    it("counts up to 5 records of a standard queue at once", async () => {
        const probe = instrumented(dynamo.documents, 20);
        const records = Array.from({ length: 12 }, (_, i) => sqsRecord(`m-${i}`, viewed(`r-wide-${i}`, `e-${i}`)));
        const res = await consumer(probe.client)(sqsEvent(...records));
        expect(res.batchItemFailures).to.deep.equal([]);
        expect(probe.maxRecordsAtOnce()).to.equal(5);
        expect(rec.metrics.ViewsCounted).to.equal(12);
    });

    it("counts as many records at once as `concurrency` says", async () => {
        const probe = instrumented(dynamo.documents, 20);
        const records = Array.from({ length: 6 }, (_, i) => sqsRecord(`m-${i}`, viewed(`r-two-${i}`, `e-${i}`)));
        await consumer(probe.client, { concurrency: 2 })(sqsEvent(...records));
        expect(probe.maxRecordsAtOnce()).to.equal(2);
    });

    it("runs a FIFO queue's records one at a time, in order", async () => {
        const probe = instrumented(dynamo.documents, 5);
        const records = Array.from({ length: 4 }, (_, i) => sqsRecord(`m-${i}`, viewed(`r-fifo-${i}`, `e-${i}`), FIFO));
        const res = await consumer(probe.client)(sqsEvent(...records));
        expect(res.batchItemFailures).to.deep.equal([]);
        expect(probe.maxRecordsAtOnce()).to.equal(1);
    });

    it("reports exactly the failing records of a concurrent batch, in batch order, and [] for the rest", async () => {
        await dynamo.documents.send(new PutCommand({ TableName: TABLE, Item: { restaurantId: "r-busy", sk: eventSk("e-busy"), state: "claimed", leaseUntil: NOW + 60_000 } }));
        const probe = instrumented(dynamo.documents, 10);
        const res = await consumer(probe.client)(
            sqsEvent(
                sqsRecord("ok-1", viewed("r-mixed-1", "e-1")),
                sqsRecord("broken", viewed("r-broken", "e-2")),
                sqsRecord("ok-2", viewed("r-mixed-2", "e-3")),
                sqsRecord("poison", "{"),
                sqsRecord("busy", viewed("r-busy", "e-busy")),
                sqsRecord("dup-of-ok-1", viewed("r-mixed-1", "e-1")),
                sqsRecord("ok-3", viewed("r-mixed-3", "e-4")),
            ),
        );
        expect(res.batchItemFailures).to.deep.equal([{ itemIdentifier: "broken" }, { itemIdentifier: "poison" }, { itemIdentifier: "busy" }]);
        expect([await views("r-mixed-1"), await views("r-mixed-2"), await views("r-mixed-3")]).to.deep.equal([1, 1, 1]);
        expect(rec.metrics).to.deep.equal({ ViewsCounted: 3, DuplicateEvents: 1, PoisonRecords: 1, RetriedRecords: 2 });
    });

    it("attempts every record of a batch that a one-at-a-time run could not finish before the safety margin", async () => {
        // ~4 sequential calls of 60 ms per record: 10 records take ~2.4 s one at a time, ~0.5 s five at a time.
        const probe = instrumented(dynamo.documents, 60);
        const records = Array.from({ length: 10 }, (_, i) => sqsRecord(`m-${i}`, viewed(`r-many-${i}`, `e-${i}`)));
        const res = await consumer(probe.client, { safetyMarginMs: 1000 })(sqsEvent(...records), contextWithRemaining(2500));
        expect(res.batchItemFailures).to.deep.equal([]);
        expect(rec.metrics.ViewsCounted).to.equal(10);
    });

    describe("when DynamoDB accepts the connection and never answers", () => {
        let hole: BlackHole;
        before(async () => (hole = await startBlackHole()));
        after(() => hole.close());

        it("reports every record for a retry before the invocation's deadline, instead of timing out", async () => {
            const client = new DynamoDBClient({ endpoint: hole.endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" }, ...sdkClientConfig() });
            try {
                const handler = consumer(DynamoDBDocumentClient.from(client), { safetyMarginMs: 1000, deadlineReserveMs: 1000 });
                const records = [sqsRecord("m-1", viewed("r-hung-1", "e-1")), sqsRecord("m-2", viewed("r-hung-2", "e-2"))];
                const { result, ms } = await timed(() => handler(sqsEvent(...records), contextWithRemaining(2000)));
                expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-1" }, { itemIdentifier: "m-2" }]);
                expect(ms).to.be.lessThan(1900);
                expect(rec.metrics.RetriedRecords).to.equal(2);
                expect(hole.connections()).to.be.greaterThan(0);
            } finally {
                client.destroy();
            }
        });
    });
});
