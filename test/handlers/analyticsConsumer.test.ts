import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import { createAnalyticsConsumer } from "../../handlers/analyticsConsumer";
import { daySk, eventSk, TOTAL_SK } from "../../handlers/analyticsConsumer/items";
import { buildEventCatalog } from "../../handlers/events/catalog";
import { LocalDynamo, startDynalite, suiteEnv } from "../support/dynalite";
import { eventEnvelope, sqsEvent, sqsRecord } from "../support/sqs";
import { recorder } from "./recorder";

const TABLE = "analytics";
const NOW = Date.parse("2026-03-01T12:00:00Z");

const DAY_MS = 86_400_000;
const viewed = (restaurantId: string, eventId: string, viewedAt = "2026-03-01T10:00:00.000Z", time = "2026-03-01T12:00:00Z") =>
    eventEnvelope("RestaurantViewed", { version: 1, restaurantId, viewedAt, requestId: `req-${eventId}` }, eventId, time);
/** An event whose envelope `time` is `days` (and `extraMs`) before NOW. */
const viewedDaysAgo = (restaurantId: string, eventId: string, days: number, extraMs = 0) => {
    const time = new Date(NOW - days * DAY_MS - extraMs).toISOString();
    return viewed(restaurantId, eventId, time, time);
};
/** A document client whose updates with an expression starting `prefix` fail (throttled); everything else reaches dynalite. */
const failingUpdates = (documents: any, prefix: "ADD" | "DELETE") =>
    ({
        send: (command: any, options?: any) =>
            String(command.input?.UpdateExpression ?? "").startsWith(prefix)
                ? Promise.reject(Object.assign(new Error("Throughput exceeds the current capacity"), { name: "ProvisionedThroughputExceededException" }))
                : documents.send(command, options),
    }) as any;
/** Clean-up writes (DELETE from the inflight sets) fail. */
const failingCleanUp = (documents: any) => failingUpdates(documents, "DELETE");
/** Counter increments (ADD) fail. */
const failingIncrements = (documents: any) => failingUpdates(documents, "ADD");

describe("analytics consumer (dynalite)", () => {
    let dynamo: LocalDynamo;
    let rec: ReturnType<typeof recorder>;
    let handler: ReturnType<typeof createAnalyticsConsumer>;

    before(async () => {
        dynamo = await startDynalite();
        await dynamo.createTable(TABLE, "restaurantId", "sk");
    });
    suiteEnv(() => ({ AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint }));
    after(() => dynamo.close());
    beforeEach(() => {
        rec = recorder();
        handler = createAnalyticsConsumer({ documents: dynamo.documents, tableName: TABLE, catalog: buildEventCatalog(), logger: rec.logger, metrics: rec.metricsSink, now: () => NOW });
    });

    const item = async (restaurantId: string, sk: string) => (await dynamo.documents.send(new GetCommand({ TableName: TABLE, Key: { restaurantId, sk }, ConsistentRead: true }))).Item;
    const views = async (restaurantId: string, sk: string) => (await item(restaurantId, sk))?.views ?? 0;

    it("counts a view on the restaurant's total and on the UTC day of the view", async () => {
        const res = await handler(sqsEvent(sqsRecord("m-1", viewed("r-count", "e-1"))));
        expect(res).to.deep.equal({ batchItemFailures: [] });
        expect([await views("r-count", TOTAL_SK), await views("r-count", daySk("2026-03-01"))]).to.deep.equal([1, 1]);
    });

    it("counts views on either side of midnight UTC on different days", async () => {
        await handler(sqsEvent(sqsRecord("m-1", viewed("r-midnight", "e-1", "2026-03-01T23:59:59.000Z")), sqsRecord("m-2", viewed("r-midnight", "e-2", "2026-03-02T00:00:01.000Z"))));
        expect([await views("r-midnight", daySk("2026-03-01")), await views("r-midnight", daySk("2026-03-02")), await views("r-midnight", TOTAL_SK)]).to.deep.equal([1, 1, 2]);
    });

    it("reports exactly the poison records of a batch with good, duplicated and poison records", async () => {
        const res = await handler(
            sqsEvent(
                sqsRecord("good-1", viewed("r-batch", "e-1")),
                sqsRecord("not-json", "{not json"),
                sqsRecord("dup-of-good-1", viewed("r-batch", "e-1")),
                sqsRecord("not-an-envelope", { hello: "world" }),
                sqsRecord("good-2", viewed("r-batch", "e-2")),
                sqsRecord("bad-detail", viewed("r batch!", "e-3")),
                sqsRecord("other-event", { ...viewed("r-batch", "e-4"), "detail-type": "RestaurantCreated" }),
            ),
        );
        expect(res).to.deep.equal({
            batchItemFailures: [{ itemIdentifier: "not-json" }, { itemIdentifier: "not-an-envelope" }, { itemIdentifier: "bad-detail" }, { itemIdentifier: "other-event" }],
        });
    });

    it("counts each event once when the same event arrives twice in a batch", async () => {
        await handler(sqsEvent(sqsRecord("m-1", viewed("r-dup", "e-1")), sqsRecord("m-2", viewed("r-dup", "e-1")), sqsRecord("m-3", viewed("r-dup", "e-2"))));
        expect([await views("r-dup", TOTAL_SK), await views("r-dup", daySk("2026-03-01"))]).to.deep.equal([2, 2]);
    });

    it("does not count a redelivered message again", async () => {
        const record = sqsRecord("m-1", viewed("r-redelivered", "e-1"));
        await handler(sqsEvent(record));
        const res = await handler(sqsEvent({ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: "2" } }));
        expect(res.batchItemFailures).to.deep.equal([]);
        expect(await views("r-redelivered", TOTAL_SK)).to.equal(1);
        expect(rec.metrics.DuplicateEvents).to.equal(1);
    });

    it("leaves no in-flight marker and a counted idempotency record behind", async () => {
        await handler(sqsEvent(sqsRecord("m-1", viewed("r-clean", "e-1"))));
        expect((await item("r-clean", TOTAL_SK))?.inflight).to.equal(undefined);
        expect(await item("r-clean", eventSk("e-1"))).to.deep.include({ state: "counted", day: "2026-03-01", messageId: "m-1" });
    });

    it("expires idempotency records after 35 days (TTL attribute expiresAt)", async () => {
        await handler(sqsEvent(sqsRecord("m-1", viewed("r-ttl", "e-1"))));
        expect((await item("r-ttl", eventSk("e-1")))?.expiresAt).to.equal(NOW / 1000 + 35 * 86400);
    });

    it("logs every poison record with its message id and the reason", async () => {
        await handler(sqsEvent(sqsRecord("bad-detail", viewed("r-log", "e-1", "yesterday"), { receiveCount: 3 })));
        const [entry] = rec.logs.filter((l) => l.level === "error");
        expect(entry.extra).to.deep.include({ messageId: "bad-detail", receiveCount: 3 });
        expect(entry.extra.reason).to.match(/^event e-1: detail does not match RestaurantViewed v1: detail\.viewedAt: /);
    });

    it("names the reason of a body that is not JSON", async () => {
        await handler(sqsEvent(sqsRecord("not-json", "{")));
        expect(rec.logs.find((l) => l.level === "error")?.extra.reason).to.match(/^body is not JSON/);
    });

    it("keeps failing a poison record on every receive (so SQS moves it to the DLQ)", async () => {
        for (const receiveCount of [1, 2, 3, 4, 5]) {
            const res = await handler(sqsEvent(sqsRecord("poison", "{", { receiveCount })));
            expect(res.batchItemFailures, `receive ${receiveCount}`).to.deep.equal([{ itemIdentifier: "poison" }]);
        }
    });

    it("emits ViewsCounted, DuplicateEvents and PoisonRecords", async () => {
        await handler(sqsEvent(sqsRecord("m-1", viewed("r-metrics", "e-1")), sqsRecord("m-2", viewed("r-metrics", "e-1")), sqsRecord("m-3", "{")));
        expect(rec.metrics).to.deep.equal({ ViewsCounted: 1, DuplicateEvents: 1, PoisonRecords: 1 });
    });

    it("answers [] for an empty batch", async () => {
        expect(await handler(sqsEvent())).to.deep.equal({ batchItemFailures: [] });
    });

    it("reports every record failed, without throwing, when DynamoDB fails", async () => {
        const broken = createAnalyticsConsumer({ documents: dynamo.documents, tableName: "no-such-table", catalog: buildEventCatalog(), logger: rec.logger, metrics: rec.metricsSink, now: () => NOW });
        const res = await broken(sqsEvent(sqsRecord("m-1", viewed("r-x", "e-1")), sqsRecord("m-2", viewed("r-x", "e-2"))));
        expect(res.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-1" }, { itemIdentifier: "m-2" }]);
        expect(rec.metrics.RetriedRecords).to.equal(2);
    });

    it("fails every record after the first failure on a FIFO queue, keeping the order", async () => {
        const fifo = { queueArn: "arn:aws:sqs:us-east-1:123456789012:audit.fifo" };
        const res = await handler(sqsEvent(sqsRecord("m-1", viewed("r-fifo", "e-1"), fifo), sqsRecord("m-2", "{", fifo), sqsRecord("m-3", viewed("r-fifo", "e-3"), fifo)));
        expect(res.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-2" }, { itemIdentifier: "m-3" }]);
        expect(await views("r-fifo", TOTAL_SK)).to.equal(1);
    });

    it("starts no record when the invocation is about to time out, reporting them for a retry", async () => {
        const res = await handler(sqsEvent(sqsRecord("m-1", viewed("r-late", "e-1"))), { getRemainingTimeInMillis: () => 1000 });
        expect(res.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-1" }]);
        expect(await views("r-late", TOTAL_SK)).to.equal(0);
    });

    describe("events older than the idempotency window", () => {
        it("refuses an event older than 30 days as poison, reported failed so it reaches the DLQ, and counts nothing", async () => {
            const res = await handler(sqsEvent(sqsRecord("m-stale", viewedDaysAgo("r-stale", "e-1", 30, 1000))));
            expect(res.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-stale" }]);
            expect(await views("r-stale", TOTAL_SK)).to.equal(0);
            expect(await item("r-stale", eventSk("e-1"))).to.equal(undefined);
        });

        it("logs the stale event with its time and the reason, and counts PoisonRecords and StaleEvents", async () => {
            await handler(sqsEvent(sqsRecord("m-stale", viewedDaysAgo("r-stale-log", "e-1", 31))));
            const [entry] = rec.logs.filter((l) => l.level === "error");
            expect(entry.extra.messageId).to.equal("m-stale");
            expect(entry.extra.reason).to.equal(
                "event e-1 (time 2026-01-29T12:00:00.000Z) is stale: time: event is older than 30 days: its idempotency record may have expired, so a consumer could process it twice",
            );
            expect(rec.metrics).to.deep.equal({ PoisonRecords: 1, StaleEvents: 1 });
        });

        it("counts an event exactly 30 days old", async () => {
            const res = await handler(sqsEvent(sqsRecord("m-1", viewedDaysAgo("r-30-days", "e-1", 30))));
            expect(res.batchItemFailures).to.deep.equal([]);
            expect(await views("r-30-days", TOTAL_SK)).to.equal(1);
        });
    });

    describe("clean-up after the commit is best effort", () => {
        it("reports a counted view as counted when removing its in-flight markers fails", async () => {
            const flaky = createAnalyticsConsumer({ documents: failingCleanUp(dynamo.documents), tableName: TABLE, catalog: buildEventCatalog(), logger: rec.logger, metrics: rec.metricsSink, now: () => NOW });
            const res = await flaky(sqsEvent(sqsRecord("m-1", viewed("r-cleanup", "e-1"))));
            expect(res.batchItemFailures).to.deep.equal([]);
            expect(await views("r-cleanup", TOTAL_SK)).to.equal(1);
            expect((await item("r-cleanup", eventSk("e-1")))?.state).to.equal("counted");
        });

        it("logs a warning and counts CleanUpFailures, leaving the markers for the next duplicate", async () => {
            const flaky = createAnalyticsConsumer({ documents: failingCleanUp(dynamo.documents), tableName: TABLE, catalog: buildEventCatalog(), logger: rec.logger, metrics: rec.metricsSink, now: () => NOW });
            await flaky(sqsEvent(sqsRecord("m-1", viewed("r-cleanup-log", "e-1"))));
            expect(rec.metrics).to.deep.equal({ ViewsCounted: 1, CleanUpFailures: 1 });
            expect(rec.logs.filter((l) => l.level === "warn").map((l) => [l.extra.eventId, l.extra.error.name])).to.deep.equal([["e-1", "ProvisionedThroughputExceededException"]]);
            expect((await item("r-cleanup-log", TOTAL_SK))?.inflight).to.deep.equal(new Set(["e-1"]));
        });

        it("reports a duplicate as a success when its clean-up fails", async () => {
            await handler(sqsEvent(sqsRecord("m-1", viewed("r-cleanup-dup", "e-1"))));
            const flaky = createAnalyticsConsumer({ documents: failingCleanUp(dynamo.documents), tableName: TABLE, catalog: buildEventCatalog(), logger: rec.logger, metrics: rec.metricsSink, now: () => NOW });
            const res = await flaky(sqsEvent(sqsRecord("m-2", viewed("r-cleanup-dup", "e-1"))));
            expect(res.batchItemFailures).to.deep.equal([]);
            expect(await views("r-cleanup-dup", TOTAL_SK)).to.equal(1);
        });
    });

    it("refreshes the idempotency record's expiry on commit: it counts from the last write", async () => {
        let clock = NOW;
        let committedAt: number | undefined;
        const ticking = {
            send: (command: any, options?: any) => {
                if (String(command.input?.UpdateExpression ?? "").includes(":counted")) committedAt = clock;
                clock += 60_000; // one minute passes with every DynamoDB call
                return dynamo.documents.send(command, options);
            },
        } as any;
        const slow = createAnalyticsConsumer({ documents: ticking, tableName: TABLE, catalog: buildEventCatalog(), logger: rec.logger, metrics: rec.metricsSink, now: () => clock });
        await slow(sqsEvent(sqsRecord("m-1", viewed("r-expiry", "e-1"))));
        expect(committedAt).to.be.greaterThan(NOW);
        expect((await item("r-expiry", eventSk("e-1")))?.expiresAt).to.equal(Math.floor(committedAt! / 1000) + 35 * 86400);
    });

    describe("after an invocation died half-way", () => {
        const seedClaim = (restaurantId: string, eventId: string, leaseUntil: number) =>
            dynamo.documents.send(new PutCommand({ TableName: TABLE, Item: { restaurantId, sk: eventSk(eventId), state: "claimed", leaseUntil, day: "2026-03-01" } }));
        const seedCounter = (restaurantId: string, sk: string, count: number, inflight: string[]) =>
            dynamo.documents.send(new PutCommand({ TableName: TABLE, Item: { restaurantId, sk, views: count, inflight: new Set(inflight) } }));

        it("counts the event once when the dead owner claimed it but counted nothing", async () => {
            await seedClaim("r-crash-1", "e-1", NOW - 1);
            const res = await handler(sqsEvent(sqsRecord("m-1", viewed("r-crash-1", "e-1"))));
            expect(res.batchItemFailures).to.deep.equal([]);
            expect([await views("r-crash-1", TOTAL_SK), await views("r-crash-1", daySk("2026-03-01"))]).to.deep.equal([1, 1]);
        });

        it("does not count again what the dead owner's increments already counted", async () => {
            await seedClaim("r-crash-2", "e-1", NOW - 1);
            await seedCounter("r-crash-2", TOTAL_SK, 1, ["e-1"]);
            await seedCounter("r-crash-2", daySk("2026-03-01"), 1, ["e-1"]);
            const res = await handler(sqsEvent(sqsRecord("m-1", viewed("r-crash-2", "e-1"))));
            expect(res.batchItemFailures).to.deep.equal([]);
            expect([await views("r-crash-2", TOTAL_SK), await views("r-crash-2", daySk("2026-03-01"))]).to.deep.equal([1, 1]);
            expect((await item("r-crash-2", eventSk("e-1")))?.state).to.equal("counted");
            expect((await item("r-crash-2", TOTAL_SK))?.inflight).to.equal(undefined);
        });

        it("completes the half-counted event: one increment landed, the other not", async () => {
            await seedClaim("r-crash-3", "e-1", NOW - 1);
            await seedCounter("r-crash-3", TOTAL_SK, 5, ["e-1"]);
            await handler(sqsEvent(sqsRecord("m-1", viewed("r-crash-3", "e-1"))));
            expect([await views("r-crash-3", TOTAL_SK), await views("r-crash-3", daySk("2026-03-01"))]).to.deep.equal([5, 1]);
        });

        it("treats a counted event whose clean-up did not run as a duplicate and cleans up", async () => {
            await dynamo.documents.send(new PutCommand({ TableName: TABLE, Item: { restaurantId: "r-crash-4", sk: eventSk("e-1"), state: "counted", leaseUntil: NOW - 1 } }));
            await seedCounter("r-crash-4", TOTAL_SK, 1, ["e-1", "e-other"]);
            const res = await handler(sqsEvent(sqsRecord("m-1", viewed("r-crash-4", "e-1"))));
            expect(res.batchItemFailures).to.deep.equal([]);
            expect(await item("r-crash-4", TOTAL_SK)).to.deep.include({ views: 1, inflight: new Set(["e-other"]) });
        });

        it("refreshes the record's expiry when it takes over the dead owner's claim", async () => {
            await dynamo.documents.send(
                new PutCommand({ TableName: TABLE, Item: { restaurantId: "r-crash-5", sk: eventSk("e-1"), state: "claimed", leaseUntil: NOW - 1, day: "2026-03-01", expiresAt: 1 } }),
            );
            await handler(sqsEvent(sqsRecord("m-1", viewed("r-crash-5", "e-1"))));
            expect((await item("r-crash-5", eventSk("e-1")))?.expiresAt).to.equal(NOW / 1000 + 35 * 86400);
        });

        it("ends its own lease when it fails after claiming, so the retry counts the event at once and once", async () => {
            const flaky = createAnalyticsConsumer({ documents: failingIncrements(dynamo.documents), tableName: TABLE, catalog: buildEventCatalog(), logger: rec.logger, metrics: rec.metricsSink, now: () => NOW });
            const first = await flaky(sqsEvent(sqsRecord("m-1", viewed("r-release", "e-1"))));
            expect(first.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-1" }]);
            expect((await item("r-release", eventSk("e-1")))?.leaseUntil).to.be.below(NOW);
            const retry = await handler(sqsEvent(sqsRecord("m-1", viewed("r-release", "e-1"))));
            expect(retry.batchItemFailures).to.deep.equal([]);
            expect(await views("r-release", TOTAL_SK)).to.equal(1);
        });

        it("leases its claim until its own deadline plus the 5 s clock-skew margin, not longer", async () => {
            // An owner killed between claim and commit cannot release its claim: the lease is what is left, and
            // it blocks the event's retries until it runs out (the shorter, the fewer receives it burns).
            const killedAfterClaiming = {
                send: (command: any, options?: any) =>
                    /^ADD|leaseUntil = :released/.test(String(command.input?.UpdateExpression ?? "")) ? Promise.reject(new Error("killed")) : dynamo.documents.send(command, options),
            } as any;
            const owner = createAnalyticsConsumer({ documents: killedAfterClaiming, tableName: TABLE, catalog: buildEventCatalog(), logger: rec.logger, metrics: rec.metricsSink, now: () => NOW });
            await owner(sqsEvent(sqsRecord("m-1", viewed("r-lease", "e-1"))), { getRemainingTimeInMillis: () => 20_000 });
            expect((await item("r-lease", eventSk("e-1")))?.leaseUntil).to.equal(NOW + 20_000 + 5_000);
        });

        it("retries later, counting nothing, while another invocation's claim is alive", async () => {
            await seedClaim("r-busy", "e-1", NOW + 60_000);
            const res = await handler(sqsEvent(sqsRecord("m-1", viewed("r-busy", "e-1"))));
            expect(res.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-1" }]);
            expect(await views("r-busy", TOTAL_SK)).to.equal(0);
        });
    });
});
