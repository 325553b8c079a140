import { expect } from "chai";
import { LocalQueue, QueueError, QueueEvent } from "../../local/queues";

/** A queue on a clock the test moves by hand: SQS semantics without waiting. */
function queueOnClock(options: Partial<ConstructorParameters<typeof LocalQueue>[0]> = {}) {
    const clock = { t: 1_000_000, now: () => clock.t };
    const queue = new LocalQueue({ name: "q", arn: "arn:aws:sqs:us-east-1:123456789012:q", url: "https://sqs/q", visibilityTimeoutMs: 100, retentionMs: 10_000, clock, ...options });
    const events: QueueEvent[] = [];
    queue.on("event", (e: QueueEvent) => events.push(e));
    return { queue, clock, events };
}

function withDlq(maxReceiveCount = 3) {
    const setup = queueOnClock();
    const dlq = new LocalQueue({ name: "q-dlq", arn: "arn:aws:sqs:us-east-1:123456789012:q-dlq", url: "https://sqs/q-dlq", visibilityTimeoutMs: 100, retentionMs: 100_000, clock: setup.clock });
    setup.queue.deadLetter = { queue: dlq, maxReceiveCount };
    return { ...setup, dlq };
}

describe("local queues (SQS semantics)", () => {
    it("hides a received message for the visibility timeout, then delivers it again with a higher receive count", () => {
        const { queue, clock } = queueOnClock();
        queue.send("hello");
        const [first] = queue.receive(10);
        expect(queue.receive(10)).to.have.length(0);
        expect(queue.counts()).to.deep.equal({ visible: 0, inFlight: 1, delayed: 0 });
        clock.t += 100;
        const [second] = queue.receive(10);
        expect(second.messageId).to.equal(first.messageId);
        expect(second.attributes.ApproximateReceiveCount).to.equal("2");
        expect(second.receiptHandle).to.not.equal(first.receiptHandle);
    });

    it("receives at most the batch size", () => {
        const { queue } = queueOnClock();
        for (let i = 0; i < 5; i++) queue.send(`m${i}`);
        expect(queue.receive(3).map((m) => m.body)).to.deep.equal(["m0", "m1", "m2"]);
    });

    it("deletes only with the latest receipt handle (a stale one deletes nothing)", () => {
        const { queue, clock } = queueOnClock();
        queue.send("x");
        const [first] = queue.receive(1);
        clock.t += 100;
        const [second] = queue.receive(1);
        expect(queue.delete(first.receiptHandle)).to.equal(false);
        expect(queue.delete(second.receiptHandle)).to.equal(true);
        expect(queue.counts()).to.deep.equal({ visible: 0, inFlight: 0, delayed: 0 });
    });

    it("moves a message to the DLQ instead of receiving it a (maxReceiveCount + 1)th time, keeping its id", () => {
        const { queue, dlq, clock, events } = withDlq(3);
        const { messageId } = queue.send("poison");
        for (let i = 1; i <= 3; i++) {
            expect(queue.receive(1), `receive ${i}`).to.have.length(1);
            clock.t += 100;
        }
        expect(queue.receive(1)).to.have.length(0);
        expect(dlq.peek().map((m) => [m.messageId, m.receiveCount])).to.deep.equal([[messageId, 3]]);
        expect(events.filter((e) => e.kind === "dead-lettered")).to.deep.equal([{ kind: "dead-lettered", queue: "q", dlq: "q-dlq", messageId, receiveCount: 3 }]);
    });

    it("drops messages older than the retention period", () => {
        const { queue, clock, events } = queueOnClock({ retentionMs: 500 });
        queue.send("old");
        clock.t += 500;
        expect(queue.receive(10)).to.have.length(0);
        expect(events.map((e) => e.kind)).to.deep.equal(["sent", "expired"]);
    });

    it("delays new messages by the queue's delivery delay", () => {
        const { queue, clock } = queueOnClock({ delayMs: 50 });
        queue.send("later");
        expect(queue.counts()).to.deep.equal({ visible: 0, inFlight: 0, delayed: 1 });
        clock.t += 50;
        expect(queue.receive(1)).to.have.length(1);
    });

    it("peeks at a DLQ without receiving (receive counts unchanged)", () => {
        const { queue } = queueOnClock();
        queue.send("a");
        queue.peek();
        expect(queue.receive(1)[0].attributes.ApproximateReceiveCount).to.equal("1");
    });

    it("redrives DLQ messages as new messages (new id, receive count 0), all or only the ids given", () => {
        const { queue, dlq, clock } = withDlq(1);
        const ids = ["a", "b", "c"].map((body) => queue.send(body).messageId);
        queue.receive(10);
        clock.t += 100;
        queue.receive(10); // all three move to the DLQ
        expect(dlq.peek()).to.have.length(3);

        const moved = dlq.moveTo(queue, [ids[1]]);
        expect(moved.map((m) => m.from)).to.deep.equal([ids[1]]);
        expect(moved[0].to).to.not.equal(ids[1]);
        expect(dlq.peek().map((m) => m.body)).to.deep.equal(["a", "c"]);
        const [again] = queue.receive(10);
        expect(again.body).to.equal("b");
        expect(again.attributes.ApproximateReceiveCount).to.equal("1");

        expect(dlq.moveTo(queue)).to.have.length(2);
        expect(dlq.peek()).to.have.length(0);
    });

    it("rejects an empty body and a body over 1 MiB, naming the queue", () => {
        const { queue } = queueOnClock();
        expect(() => queue.send("")).to.throw(QueueError, /queue q: message body must be a non-empty string/);
        expect(() => queue.send("x".repeat(1024 * 1024 + 1))).to.throw(QueueError, /over the 1048576-byte limit/);
    });

    it("rejects a body with a character SQS refuses (InvalidMessageContents), naming it, and takes any other", () => {
        const { queue } = queueOnClock();
        expect(() => queue.send("a\u0007b")).to.throw(QueueError, /^queue q: InvalidMessageContents: invalid character '#x7' at index 1 of the message body; the set of allowed characters is #x9 \| #xA \| #xD/);
        expect(() => queue.send("\udc00")).to.throw(QueueError, /invalid character '#xDC00' at index 0/);
        expect(() => queue.send("\uffff")).to.throw(QueueError, /'#xFFFF'/);
        expect(() => queue.send("tab\t, line\n, return\r, \u00e9, \ud83d\ude00, \u{10ffff}")).not.to.throw();
    });

    it("FIFO: needs a group id, drops duplicates within the deduplication interval, keeps a group in order", () => {
        const { queue, clock } = queueOnClock({ fifo: true, contentBasedDeduplication: true, deduplicationMs: 1000 });
        expect(() => queue.send("x")).to.throw(QueueError, /MessageGroupId/);
        const first = queue.send("one", { messageGroupId: "g" });
        expect(queue.send("one", { messageGroupId: "g" })).to.deep.equal({ messageId: first.messageId, duplicate: true });
        queue.send("two", { messageGroupId: "g" });
        expect(queue.receive(1).map((m) => m.body)).to.deep.equal(["one"]);
        expect(queue.receive(10)).to.have.length(0); // "two" waits while "one" is in flight
        clock.t += 1000;
        expect(queue.send("one", { messageGroupId: "g" }).duplicate).to.equal(false);
    });

    it("a restored in-flight message keeps its visibility, as on SQS: hidden until it runs out, then received again", () => {
        const { queue } = queueOnClock();
        queue.send("a");
        queue.receive(1, 5000); // held for a running invocation, then the runtime dies
        const { queue: restored, clock } = queueOnClock();
        restored.restore(queue.snapshot());
        expect(restored.counts()).to.deep.equal({ visible: 0, inFlight: 1, delayed: 0 });
        expect(restored.receive(1)).to.deep.equal([]);
        clock.t += 5000;
        expect(restored.receive(1).map((m) => [m.body, m.attributes.ApproximateReceiveCount])).to.deep.equal([["a", "2"]]);
    });
});
