import { expect } from "chai";
import { buildEventCatalog } from "../../handlers/events/catalog";
import { MAX_EVENT_AGE_DAYS, validateEventMessage } from "../../handlers/events/validateMessage";
import { EVENT_RECORD_TTL_DAYS } from "../../handlers/analyticsConsumer/items";
import { eventEnvelope } from "../support/sqs";

const NOW = Date.parse("2026-03-01T12:00:00Z");
const DAY_MS = 86_400_000;
const catalog = buildEventCatalog();
const detail = { version: 1, restaurantId: "r-1", viewedAt: "2026-01-01T10:00:00.000Z", requestId: "req-1" };
const body = (time: string, d: unknown = detail) => JSON.stringify(eventEnvelope("RestaurantViewed", d, "e-1", time));
const ago = (ms: number) => new Date(NOW - ms).toISOString();

describe("message validator: the event's age", () => {
    it("accepts events up to 30 days old, 5 days less than the analytics consumer keeps its idempotency records", () => {
        expect(MAX_EVENT_AGE_DAYS).to.equal(30);
        expect(EVENT_RECORD_TTL_DAYS - MAX_EVENT_AGE_DAYS).to.equal(5);
    });

    it("accepts an event exactly 30 days old", () => {
        expect(validateEventMessage(body(ago(30 * DAY_MS)), catalog, { now: () => NOW }).valid).to.equal(true);
    });

    it("refuses an event older than 30 days as stale, naming the envelope's time", () => {
        expect(validateEventMessage(body(ago(30 * DAY_MS + 1)), catalog, { now: () => NOW })).to.deep.equal({
            valid: false,
            stage: "stale",
            eventId: "e-1",
            source: "bellyfed.restaurants",
            detailType: "RestaurantViewed",
            time: ago(30 * DAY_MS + 1),
            issues: [{ path: "time", message: "event is older than 30 days: its idempotency record may have expired, so a consumer could process it twice" }],
        });
    });

    it("reports a bad detail before the age: the producer's bug is the first thing to fix", () => {
        const v = validateEventMessage(body(ago(60 * DAY_MS), { ...detail, restaurantId: "bad id" }), catalog, { now: () => NOW });
        expect(v.valid ? "valid" : v.stage).to.equal("detail");
    });

    it("refuses an envelope whose time is not a timestamp", () => {
        const v = validateEventMessage(body("yesterday"), catalog, { now: () => NOW });
        expect(v.valid ? [] : [v.stage, v.issues]).to.deep.equal(["envelope", [{ path: "time", message: 'not a timestamp: "yesterday"' }]]);
    });

    it("uses the real clock when none is given", () => {
        expect(validateEventMessage(body(new Date().toISOString()), catalog).valid).to.equal(true);
        expect(validateEventMessage(body(new Date(Date.now() - 31 * DAY_MS).toISOString()), catalog).valid).to.equal(false);
    });
});
