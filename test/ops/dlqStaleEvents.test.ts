import { ChangeMessageVisibilityBatchCommand, DeleteMessageCommand, ListMessageMoveTasksCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { envelope, OpsHarness, processedQueue, sqsMessage, stubQueues, validDetail } from "./support";

/**
 * Events older than the consumers accept (handlers/events/validateMessage.ts, MAX_EVENT_AGE_DAYS)
 * are invalid for the ops CLI too: a redrive of the valid messages must not send them back, where
 * they would be refused again (or, without the consumers' check, counted twice). The harness's
 * clock is 2024-05-01T12:00Z.
 */
const fresh = (id: string) => sqsMessage(id, envelope(validDetail(`r-${id}`), { time: "2024-04-20T00:00:00Z" }));
const stale = (id: string) => sqsMessage(id, envelope(validDetail(`r-${id}`), { time: "2024-03-01T00:00:00Z" }));

describe("ops dlq and events older than 30 days", () => {
    let h: OpsHarness;
    beforeEach(() => {
        h = new OpsHarness();
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 2 } }));
        h.sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
        h.sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
        h.sqsMock.on(SendMessageCommand).resolves({ MessageId: "new" });
        h.sqsMock.on(DeleteMessageCommand).resolves({});
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [fresh("m1"), stale("m2")] }).resolves({ Messages: [] });
    });

    it("dlq inspect lists a stale event as invalid, under its envelope time", async () => {
        const doc = (await h.run(["dlq", "inspect", "analytics", "--stack", "dev", "--json"])).json();
        expect(doc.valid.count).to.equal(1);
        expect(doc.invalid.groups.map((g: any) => [g.issues[0].path, g.count, g.samples[0].messageId])).to.deep.equal([["time", 1, "m2"]]);
        expect(doc.invalid.groups[0].issues[0].message).to.match(/^event is older than 30 days/);
    });

    it("dlq redrive --only-valid moves the recent event and leaves the stale one in the DLQ", async () => {
        const r = await h.run(["dlq", "redrive", "analytics", "--stack", "dev", "--only-valid", "--json"]);
        expect(r.json()).to.include({ moved: 1, left: 1 });
        expect(h.sqsMock.commandCalls(SendMessageCommand).map((c) => JSON.parse(c.args[0].input.MessageBody!).id)).to.deep.equal(["evt-r-m1"]);
        expect(h.sqsMock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle)).to.deep.equal(["rh-m1"]);
    });
});
