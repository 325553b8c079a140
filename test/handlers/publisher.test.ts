import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { buildEventCatalog } from "../../handlers/events/catalog";
import { createEventPublisher, PublishRequest } from "../../handlers/runtime/publisher";
import { startBlackHole, timed } from "./blackHole";
import { recorder } from "./recorder";

const viewed = (restaurantId: string): PublishRequest => ({
    name: "RestaurantViewed",
    detail: { version: 1, restaurantId, viewedAt: "2026-12-03T10:00:00.000Z", requestId: "r" },
});

describe("event publisher", () => {
    // One mocked client instance per test (not the class: the handler tests use real clients too).
    let client: EventBridgeClient;
    let eventBridge: AwsClientStub<EventBridgeClient>;
    let rec: ReturnType<typeof recorder>;
    const publisher = () => createEventPublisher({ client, busName: "bus", catalog: buildEventCatalog(), logger: rec.logger, metrics: rec.metricsSink, sleep: async () => undefined });
    beforeEach(() => {
        client = new EventBridgeClient({ region: "us-east-1" });
        eventBridge = mockClient(client);
        rec = recorder();
    });

    it("sends Detail as a JSON string with the catalog's source and detail-type", async () => {
        eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "e1" }] });
        const result = await publisher().publish([viewed("a")]);
        expect(result).to.deep.equal({ published: [{ name: "RestaurantViewed", eventId: "e1" }], failed: [] });
        const entry = eventBridge.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0];
        expect(typeof entry.Detail).to.equal("string");
        expect(entry).to.include({ Source: "bellyfed.restaurants", DetailType: "RestaurantViewed", EventBusName: "bus" });
    });

    it("retries only the entries that failed with a transient code", async () => {
        eventBridge
            .on(PutEventsCommand)
            .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: "e1" }, { ErrorCode: "ThrottlingException", ErrorMessage: "slow down" }] })
            .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: "e2" }] });
        const result = await publisher().publish([viewed("a"), viewed("b")]);
        expect(result.published.map((p) => p.eventId)).to.deep.equal(["e1", "e2"]);
        const second = eventBridge.commandCalls(PutEventsCommand)[1].args[0].input.Entries!;
        expect(second.map((e) => JSON.parse(e.Detail!).restaurantId)).to.deep.equal(["b"]);
    });

    it("gives up on a transient failure after three attempts and reports it", async () => {
        eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: "InternalFailure", ErrorMessage: "oops" }] });
        const result = await publisher().publish([viewed("a")]);
        expect(eventBridge.commandCalls(PutEventsCommand)).to.have.length(3);
        expect(result.failed).to.deep.equal([{ name: "RestaurantViewed", errorCode: "InternalFailure", errorMessage: "oops" }]);
    });

    it("does not retry a permanent per-entry error", async () => {
        eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: "AccessDeniedException", ErrorMessage: "no" }] });
        const result = await publisher().publish([viewed("a")]);
        expect(eventBridge.commandCalls(PutEventsCommand)).to.have.length(1);
        expect(result.failed[0].errorCode).to.equal("AccessDeniedException");
    });

    it("sends at most 10 entries per PutEvents call", async () => {
        eventBridge.on(PutEventsCommand).callsFake((input) => ({ FailedEntryCount: 0, Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `e${i}` })) }));
        const result = await publisher().publish(Array.from({ length: 23 }, (_, i) => viewed(`r${i}`)));
        expect(eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!.length)).to.deep.equal([10, 10, 3]);
        expect(result.published).to.have.length(23);
    });

    it("refuses a detail that violates the catalog schema, before sending", async () => {
        const bad = { name: "RestaurantViewed", detail: { version: 1, restaurantId: "bad id", viewedAt: "now", requestId: "r" } } as PublishRequest;
        let error: Error | undefined;
        await publisher().publish([bad]).catch((e) => (error = e));
        expect(error?.message).to.match(/restaurantId/);
        expect(eventBridge.commandCalls(PutEventsCommand)).to.have.length(0);
    });

    describe("an answer that does not account for every entry sent", () => {
        it("fails an entry the answer has no result for (MissingResult) and retries it", async () => {
            eventBridge
                .on(PutEventsCommand)
                .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: "e1" }] })
                .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: "e2" }] });
            const result = await publisher().publish([viewed("a"), viewed("b")]);
            expect(result.published.map((p) => p.eventId)).to.deep.equal(["e1", "e2"]);
            const second = eventBridge.commandCalls(PutEventsCommand)[1].args[0].input.Entries!;
            expect(second.map((e) => JSON.parse(e.Detail!).restaurantId)).to.deep.equal(["b"]);
        });

        it("reports every entry failed when the answer has a FailedEntryCount and no entries", async () => {
            eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1 });
            const result = await publisher().publish([viewed("a")]);
            expect(result.failed).to.deep.equal([{ name: "RestaurantViewed", errorCode: "MissingResult", errorMessage: "PutEvents answered 0 result(s) for 1 entries" }]);
            expect(eventBridge.commandCalls(PutEventsCommand)).to.have.length(3);
            expect(rec.metrics.PublishFailures).to.equal(1);
        });

        it("logs a warning when FailedEntryCount disagrees with the per-entry results", async () => {
            eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ EventId: "e1" }] });
            const result = await publisher().publish([viewed("a")]);
            expect(result.published).to.have.length(1);
            expect(rec.logs.filter((l) => l.level === "warn").map((l) => l.extra)).to.deep.equal([{ failedEntryCount: 1, failedEntries: 0, sent: 1, results: 1 }]);
        });
    });

    describe("with an abort signal (the caller's deadline)", () => {
        it("sends nothing once the signal has fired, reporting every entry as DeadlineExceeded", async () => {
            const controller = new AbortController();
            controller.abort(Object.assign(new Error("deadline: no time left"), { name: "DeadlineExceeded" }));
            const result = await publisher().publish([viewed("a"), viewed("b")], { abortSignal: controller.signal });
            expect(eventBridge.commandCalls(PutEventsCommand)).to.have.length(0);
            expect(result.failed.map((f) => [f.errorCode, f.errorMessage])).to.deep.equal([
                ["DeadlineExceeded", "deadline: no time left"],
                ["DeadlineExceeded", "deadline: no time left"],
            ]);
            expect(rec.metrics.PublishFailures).to.equal(2);
        });

        it("abandons a PutEvents call that never gets an answer when the signal fires", async () => {
            const hole = await startBlackHole();
            // A real client without any timeout: only the signal can end the call.
            const real = new EventBridgeClient({ region: "us-east-1", endpoint: hole.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
            try {
                const live = createEventPublisher({ client: real, busName: "bus", catalog: buildEventCatalog(), logger: rec.logger, metrics: rec.metricsSink });
                const { result, ms } = await timed(() => live.publish([viewed("a")], { abortSignal: AbortSignal.timeout(200) }));
                expect(result.failed.map((f) => f.errorCode)).to.deep.equal(["DeadlineExceeded"]);
                expect(ms).to.be.lessThan(1500);
                expect(hole.connections()).to.equal(1);
            } finally {
                real.destroy();
                await hole.close();
            }
        });
    });
});
