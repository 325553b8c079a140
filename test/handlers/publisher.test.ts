import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { buildEventCatalog } from "../../handlers/events/catalog";
import { createEventPublisher, PublishRequest } from "../../handlers/runtime/publisher";

const viewed = (restaurantId: string): PublishRequest => ({
    name: "RestaurantViewed",
    detail: { version: 1, restaurantId, viewedAt: "2026-12-03T10:00:00.000Z", requestId: "r" },
});

describe("event publisher", () => {
    const eventBridge = mockClient(EventBridgeClient);
    const publisher = () =>
        createEventPublisher({ client: new EventBridgeClient({ region: "us-east-1" }), busName: "bus", catalog: buildEventCatalog(), sleep: async () => undefined });
    beforeEach(() => eventBridge.reset());

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
});
