import { expect } from "chai";
import { failedItems, InvokeOutcome, PollerEvent, PollerOptions, QueuePoller, SqsEventRecord } from "../../local/poller";
import { LocalQueue } from "../../local/queues";

/** A poller over a fresh queue whose visibility timeout outlives the test (no redelivery). */
function setup(overrides: Partial<PollerOptions> & { respond?: (records: SqsEventRecord[]) => Promise<InvokeOutcome> | InvokeOutcome; visibilityTimeoutMs?: number } = {}) {
    const queue = new LocalQueue({ name: "q", arn: "arn:aws:sqs:us-east-1:123456789012:q", url: "https://sqs/q", visibilityTimeoutMs: overrides.visibilityTimeoutMs ?? 60_000, retentionMs: 600_000 });
    const batches: SqsEventRecord[][] = [];
    const events: PollerEvent[] = [];
    const waiters: { count: number; resolve: () => void }[] = [];
    const poller = new QueuePoller({
        queue,
        functionName: "fn",
        region: "us-east-1",
        batchSize: 10,
        batchingWindowMs: 0,
        maxConcurrency: 5,
        reportBatchItemFailures: true,
        invoke: async (event) => {
            batches.push(event.Records);
            return overrides.respond ? overrides.respond(event.Records) : { ok: true, value: { batchItemFailures: [] } };
        },
        onEvent: (e) => {
            events.push(e);
            for (const w of waiters.filter((x) => events.length >= x.count)) w.resolve();
        },
        ...overrides,
    });
    /** Resolves once `count` batches have been settled. */
    const settled = (count: number) => new Promise<void>((resolve) => (events.length >= count ? resolve() : waiters.push({ count, resolve })));
    return { queue, poller, batches, events, settled };
}

describe("local event source mapping (SQS -> Lambda)", () => {
    let active: QueuePoller[] = [];
    const started = (p: QueuePoller) => {
        active.push(p);
        p.start();
        return p;
    };
    afterEach(async () => {
        await Promise.all(active.map((p) => p.stop()));
        active = [];
    });

    describe("reading a partial batch response", () => {
        const batch = [{ messageId: "m1" }, { messageId: "m2" }];
        const cases: [string, unknown, unknown][] = [
            ["null response: all succeeded", null, { keep: [] }],
            ["empty list: all succeeded", { batchItemFailures: [] }, { keep: [] }],
            ["listed ids stay", { batchItemFailures: [{ itemIdentifier: "m2" }] }, { keep: ["m2"] }],
            ["empty itemIdentifier: whole batch failed", { batchItemFailures: [{ itemIdentifier: "" }] }, { invalid: 'itemIdentifier "" is not a message id of the batch' }],
            ["unknown id: whole batch failed", { batchItemFailures: [{ itemIdentifier: "nope" }] }, { invalid: 'itemIdentifier "nope" is not a message id of the batch' }],
            ["not a list: whole batch failed", { batchItemFailures: "m1" }, { invalid: "batchItemFailures is not a list" }],
        ];
        for (const [title, response, expected] of cases) {
            it(title, () => expect(failedItems(response, batch)).to.deep.equal(expected));
        }
    });

    describe("a queue whose visibility timeout is shorter than its consumer's invocation (scaled waits, real work)", () => {
        const failAll = (records: SqsEventRecord[]): InvokeOutcome => ({ ok: true, value: { batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })) } });

        it("keeps a running batch hidden for the hold: no second delivery while it runs", async () => {
            const { queue, poller, batches, settled } = setup({
                visibilityTimeoutMs: 50,
                holdMs: 5000,
                respond: async () => (await new Promise((r) => setTimeout(r, 300)), { ok: true, value: { batchItemFailures: [] } }),
            });
            queue.send("slow but healthy");
            started(poller);
            await settled(1);
            expect(batches).to.have.length(1);
            expect(queue.counts()).to.deep.equal({ visible: 0, inFlight: 0, delayed: 0 });
        });

        it("makes a failed message visible again on the queue's schedule, counted from its receive, not after the hold", async () => {
            const { queue, poller, batches, settled } = setup({ visibilityTimeoutMs: 200, holdMs: 60_000, respond: failAll });
            queue.send("poison");
            started(poller);
            const t0 = Date.now();
            await settled(2);
            expect(Date.now() - t0).to.be.within(190, 2000);
            expect(batches.map((b) => b[0].attributes.ApproximateReceiveCount)).to.deep.equal(["1", "2"]);
        });

        it("makes the messages of a batch that outran the visibility timeout visible at once when it fails", async () => {
            let calls = 0;
            const { queue, poller, settled } = setup({
                visibilityTimeoutMs: 50,
                holdMs: 5000,
                respond: async (records) => {
                    if (calls++ === 0) await new Promise((r) => setTimeout(r, 200));
                    return failAll(records);
                },
            });
            queue.send("m");
            started(poller);
            await settled(1);
            const failedAt = Date.now();
            await settled(2);
            expect(Date.now() - failedAt).to.be.below(150);
            expect(queue.counts().delayed).to.equal(0);
        });
    });

    describe("an invocation that was killed (its timeout, a crashed environment)", () => {
        it("keeps its messages hidden until the grace after its deadline: what it left behind (a lease) may last until then", async () => {
            const killedUntil = Date.now() + 300;
            const invokedAt: number[] = [];
            const { queue, poller, events, settled } = setup({
                visibilityTimeoutMs: 20,
                killedGraceMs: 400,
                respond: () => {
                    invokedAt.push(Date.now());
                    return invokedAt.length === 1 ? { ok: false, error: { errorType: "Sandbox.Timedout", errorMessage: "Task timed out" }, killed: { until: killedUntil } } : { ok: true, value: null };
                },
            });
            queue.send("claimed, then killed");
            started(poller);
            await settled(2);
            expect(invokedAt[1]).to.be.at.least(killedUntil + 400);
            expect(events[0]).to.deep.include({ kind: "batch-failed" });
            expect((events[0] as { heldMs?: number }).heldMs).to.be.within(600, 710);
        });

        it("lets the messages of a batch that failed by answering come back on the queue's schedule (a poison message stays fast)", async () => {
            const { queue, poller, events, settled } = setup({ visibilityTimeoutMs: 20, killedGraceMs: 60_000, respond: () => ({ ok: false, error: { errorType: "Error", errorMessage: "poison" } }) });
            queue.send("poison");
            started(poller);
            const t0 = Date.now();
            await settled(3);
            expect(Date.now() - t0).to.be.below(2000);
            expect((events[0] as { heldMs?: number }).heldMs).to.equal(undefined);
        });
    });

    it("sends Lambda's SQS event shape", async () => {
        const { queue, poller, batches, settled } = setup();
        queue.send('{"hello":1}');
        started(poller);
        await settled(1);
        const [record] = batches[0];
        expect(record).to.include({ body: '{"hello":1}', eventSource: "aws:sqs", eventSourceARN: queue.arn, awsRegion: "us-east-1" });
        expect(record.attributes).to.include({ ApproximateReceiveCount: "1" });
        expect(record.messageId).to.be.a("string");
        expect(record.receiptHandle).to.be.a("string");
        expect(record.md5OfBody).to.match(/^[0-9a-f]{32}$/);
    });

    it("deletes the batch except the messages reported in batchItemFailures", async () => {
        const { queue, poller, settled } = setup({ respond: (records) => ({ ok: true, value: { batchItemFailures: [{ itemIdentifier: records[1].messageId }] } }) });
        ["a", "b", "c"].forEach((b) => queue.send(b));
        started(poller);
        await settled(1);
        expect(queue.counts()).to.deep.equal({ visible: 0, inFlight: 1, delayed: 0 });
        expect(queue.peek().map((m) => m.body)).to.deep.equal(["b"]);
    });

    it("keeps the whole batch when the function fails", async () => {
        const { queue, poller, settled, events } = setup({ respond: () => ({ ok: false, error: { errorType: "Error", errorMessage: "boom" } }) });
        ["a", "b"].forEach((b) => queue.send(b));
        started(poller);
        await settled(1);
        expect(queue.counts().inFlight).to.equal(2);
        expect(events[0]).to.include({ kind: "batch-failed", error: "Error: boom", size: 2 });
    });

    it("keeps the whole batch when the partial batch response names an unknown message", async () => {
        const { queue, poller, settled } = setup({ respond: () => ({ ok: true, value: { batchItemFailures: [{ itemIdentifier: "not-in-batch" }] } }) });
        ["a", "b"].forEach((b) => queue.send(b));
        started(poller);
        await settled(1);
        expect(queue.counts().inFlight).to.equal(2);
    });

    it("ignores batchItemFailures when the mapping does not report batch item failures", async () => {
        const { queue, poller, settled } = setup({ reportBatchItemFailures: false, respond: (r) => ({ ok: true, value: { batchItemFailures: [{ itemIdentifier: r[0].messageId }] } }) });
        queue.send("a");
        started(poller);
        await settled(1);
        expect(queue.counts()).to.deep.equal({ visible: 0, inFlight: 0, delayed: 0 });
    });

    it("invokes with at most batchSize records", async () => {
        const { queue, poller, batches, settled } = setup({ batchSize: 10 });
        for (let i = 0; i < 25; i++) queue.send(`m${i}`);
        started(poller);
        await settled(3);
        expect(batches.map((b) => b.length)).to.deep.equal([10, 10, 5]);
    });

    it("runs at most maximumConcurrency batches at once", async () => {
        let running = 0;
        let most = 0;
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        const { queue, poller, settled } = setup({
            batchSize: 1,
            maxConcurrency: 2,
            respond: async () => {
                running++;
                most = Math.max(most, running);
                await gate;
                running--;
                return { ok: true, value: null };
            },
        });
        for (let i = 0; i < 6; i++) queue.send(`m${i}`);
        started(poller);
        await new Promise((r) => setImmediate(r));
        release();
        await settled(6);
        expect(most).to.equal(2);
    });

    it("waits within the batching window to fill a batch", async () => {
        const { queue, poller, batches, settled } = setup({ batchSize: 3, batchingWindowMs: 60_000 });
        queue.send("a");
        started(poller);
        await new Promise((r) => setImmediate(r));
        queue.send("b");
        await new Promise((r) => setImmediate(r));
        queue.send("c");
        await settled(1);
        expect(batches.map((b) => b.map((r) => r.body))).to.deep.equal([["a", "b", "c"]]);
    });

    it("fault injection: a failure before the function runs never invokes it and keeps the batch", async () => {
        const rolls = [0.1, 0.2]; // < rate: fail; < 0.5: before
        const { queue, poller, batches, settled, events } = setup({ failRate: () => 0.5, random: () => rolls.shift() ?? 0.99 });
        queue.send("a");
        started(poller);
        await settled(1);
        expect(batches).to.have.length(0);
        expect(events[0]).to.include({ kind: "batch-failed", injected: "before" });
        expect(queue.counts().inFlight).to.equal(1);
    });

    it("fault injection: a failure after the function ran keeps the batch although its side effects happened", async () => {
        const rolls = [0.1, 0.7]; // < rate: fail; >= 0.5: after
        const { queue, poller, batches, settled, events } = setup({ failRate: () => 0.5, random: () => rolls.shift() ?? 0.99 });
        queue.send("a");
        started(poller);
        await settled(1);
        expect(batches).to.have.length(1);
        expect(events[0]).to.include({ kind: "batch-failed", injected: "after" });
        expect(queue.counts().inFlight).to.equal(1);
    });
});
