import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { expect } from "chai";
import * as http from "http";
import { AddressInfo } from "net";
import { BUS, FakeLocalRuntime, OpsHarness, stubBus, validDetail } from "./support";

const DETAIL = JSON.stringify(validDetail("r-1"));

describe("ops events put", () => {
    let h: OpsHarness;
    beforeEach(() => {
        h = new OpsHarness();
        stubBus(h);
    });

    it("publishes a valid detail to the stack's bus and prints the event id", async () => {
        h.ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "evt-123" }] });
        const r = await h.run(["events", "put", "RestaurantViewed", "--stack", "dev", "--detail", DETAIL]);
        expect(r.code).to.equal(0);
        expect(r.stdout).to.include("event id evt-123");
        expect(h.ebMock.commandCalls(PutEventsCommand)[0].args[0].input.Entries).to.deep.equal([
            { EventBusName: BUS, Source: "bellyfed.restaurants", DetailType: "RestaurantViewed", Detail: DETAIL },
        ]);
    });

    it("rejects a detail that fails the catalog schema, naming each issue, and publishes nothing (exit 2)", async () => {
        const r = await h.run(["events", "put", "RestaurantViewed", "--stack", "dev", "--detail", JSON.stringify({ ...validDetail("r-1"), viewedAt: "yesterday", extra: true })]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("detail.viewedAt: Invalid ISO datetime").and.include('detail: Unrecognized key: "extra"');
        expect(h.ebMock.commandCalls(PutEventsCommand)).to.have.length(0);
    });

    it("publishes an invalid detail with --allow-invalid (to test the poison path)", async () => {
        h.ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "evt-9" }] });
        const r = await h.run(["events", "put", "RestaurantViewed", "--stack", "dev", "--allow-invalid", "--detail", '{"restaurantId":"bad id"}']);
        expect(r.code).to.equal(0);
        expect(r.stderr).to.include("warning: published an event that fails the catalog schema");
    });

    it("reports a per-entry PutEvents failure with its error code and exits 1", async () => {
        h.ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: "InternalFailure", ErrorMessage: "try again" }] });
        const r = await h.run(["events", "put", "RestaurantViewed", "--stack", "dev", "--detail", DETAIL, "--json"]);
        expect(r.code).to.equal(1);
        expect(r.json()).to.include({ published: false, eventId: null, errorCode: "InternalFailure", errorMessage: "try again" });
    });

    it("names the catalog's detail-types when the one given is unknown (exit 2)", async () => {
        const r = await h.run(["events", "put", "RestaurantBooked", "--stack", "dev", "--detail", DETAIL]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include('unknown detail-type "RestaurantBooked": the event catalog has RestaurantViewed');
    });

    it("publishes through the local runtime's EventBridge endpoint with --local", async () => {
        const received: any[] = [];
        const eventBridge = http.createServer((req, res) => {
            let raw = "";
            req.on("data", (c) => (raw += c));
            req.on("end", () => {
                received.push({ target: req.headers["x-amz-target"], body: JSON.parse(raw) });
                res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
                res.end(JSON.stringify({ FailedEntryCount: 0, Entries: [{ EventId: "local-1" }] }));
            });
        });
        await new Promise<void>((resolve) => eventBridge.listen(0, "127.0.0.1", resolve));
        const endpoint = `http://127.0.0.1:${(eventBridge.address() as AddressInfo).port}`;
        const local = new FakeLocalRuntime({ stack: "dev", endpoints: { eventbridge: endpoint }, queues: [], rules: [] });
        await local.start();
        try {
            const r = await h.run(["events", "put", "RestaurantViewed", "--local", local.url, "--bus", "local-bus", "--detail", DETAIL]);
            expect(r.code).to.equal(0);
            expect(r.stdout).to.include("event id local-1");
            expect(received[0].target).to.equal("AWSEvents.PutEvents");
            expect(received[0].body.Entries[0]).to.include({ EventBusName: "local-bus", DetailType: "RestaurantViewed" });
        } finally {
            await local.stop();
            await new Promise<void>((resolve) => eventBridge.close(() => resolve()));
        }
    });
});
