import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalQueue } from "../../local/queues";
import { JOURNAL_FILE, QueueStore, SNAPSHOT_FILE } from "../../local/queueStore";

/** A fresh pair of queues (a source with a DLQ after 2 receives), as a restarted runtime builds them. */
function queues(): Map<string, LocalQueue> {
    const make = (name: string) => new LocalQueue({ name, arn: `arn:aws:sqs:us-east-1:123456789012:${name}`, url: `https://sqs/${name}`, visibilityTimeoutMs: 60_000, retentionMs: 3_600_000 });
    const source = make("views");
    const dlq = make("views-dlq");
    source.deadLetter = { queue: dlq, maxReceiveCount: 2 };
    return new Map([
        ["views", source],
        ["views-dlq", dlq],
    ]);
}

/** Opens a store on `dir` for fresh queues: what a start after a stop or a crash does. */
function start(dir: string, options: ConstructorParameters<typeof QueueStore>[2] = {}) {
    const qs = queues();
    const store = new QueueStore(dir, qs, options);
    const recovery = store.load();
    const bodies = (name: string) => qs.get(name)!.peek().map((m) => m.body);
    return { qs, store, recovery, bodies };
}

describe("queue store (crash-safe queue persistence)", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "bellyfed-queues-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("has a message on disk as soon as send returns: a crash right after loses nothing", () => {
        const first = start(dir);
        first.qs.get("views")!.send("a");
        // The crash: no close, no snapshot; the next start reads what is on disk.
        const after = start(dir);
        expect(after.bodies("views")).to.deep.equal(["a"]);
        expect(after.recovery).to.deep.include({ restored: { views: 1 }, journalEntries: 1 });
    });

    it("never brings back a message deleted after processing, even when the crash follows a restore", () => {
        const first = start(dir);
        first.qs.get("views")!.send("old");
        first.store.close();
        // Restart: "old" restored and processed; "new" arrives; then kill -9.
        const second = start(dir);
        const views = second.qs.get("views")!;
        const [received] = views.receive(10);
        views.delete(received.receiptHandle);
        views.send("new");
        const third = start(dir);
        expect(third.bodies("views")).to.deep.equal(["new"]);
    });

    it("keeps receive counts and dead-lettering across a crash", () => {
        const first = start(dir);
        const views = first.qs.get("views")!;
        views.send("poison");
        views.receive(1, 0);
        views.receive(1, 0);
        views.receive(1, 0); // third receive: past maxReceiveCount 2, moved to the DLQ
        const after = start(dir);
        expect([after.bodies("views"), after.bodies("views-dlq")]).to.deep.equal([[], ["poison"]]);
        expect(after.qs.get("views-dlq")!.peek()[0].receiveCount).to.equal(2);
    });

    it("brings an in-flight message back visible with its receive count", () => {
        const first = start(dir);
        first.qs.get("views")!.send("in flight");
        first.qs.get("views")!.receive(1);
        const after = start(dir);
        expect(after.qs.get("views")!.counts()).to.deep.equal({ visible: 1, inFlight: 0, delayed: 0 });
        expect(after.qs.get("views")!.peek()[0].receiveCount).to.equal(1);
    });

    it("changes nothing when a journal is replayed over the snapshot it was compacted into (a crash between the two)", () => {
        const first = start(dir);
        const views = first.qs.get("views")!;
        views.send("kept");
        const gone = views.send("gone");
        views.receive(10);
        views.delete(views.peek().find((m) => m.messageId === gone.messageId)!.receiptHandle!);
        const journal = fs.readFileSync(path.join(dir, JOURNAL_FILE), "utf8");
        first.store.compact();
        fs.writeFileSync(path.join(dir, JOURNAL_FILE), journal); // the truncation never happened
        const after = start(dir);
        expect(after.bodies("views")).to.deep.equal(["kept"]);
        expect(after.qs.get("views")!.peek()[0].receiveCount).to.equal(1);
    });

    it("compacts the journal into the snapshot once it passes the size limit", async () => {
        const first = start(dir, { compactBytes: 2000 });
        for (let i = 0; i < 20; i++) first.qs.get("views")!.send(`message ${i} ${"x".repeat(100)}`);
        await new Promise((r) => setImmediate(r));
        expect(fs.statSync(path.join(dir, JOURNAL_FILE)).size).to.be.below(2000);
        expect(start(dir).bodies("views")).to.have.length(20);
    });

    it("leaves an empty journal and a snapshot of every message after a clean stop", () => {
        const first = start(dir);
        first.qs.get("views")!.send("a");
        first.store.close();
        expect(fs.readFileSync(path.join(dir, JOURNAL_FILE), "utf8")).to.equal("");
        expect(Object.keys(JSON.parse(fs.readFileSync(path.join(dir, SNAPSHOT_FILE), "utf8")))).to.deep.equal(["views"]);
        expect(start(dir).recovery).to.deep.include({ restored: { views: 1 }, journalEntries: 0 });
    });

    describe("damaged files", () => {
        const at = new Date("2026-03-04T05:06:07.089Z");

        it("moves a corrupt snapshot aside, names it in a warning and starts without it", () => {
            fs.writeFileSync(path.join(dir, SNAPSHOT_FILE), '{"views": [{"messageId": "m-1", "bo');
            const { recovery, bodies } = start(dir, { now: () => at });
            const aside = path.join(dir, `${SNAPSHOT_FILE}.corrupt-2026-03-04T05-06-07-089Z`);
            expect(fs.readFileSync(aside, "utf8")).to.equal('{"views": [{"messageId": "m-1", "bo');
            expect(recovery.warnings).to.have.length(1);
            expect(recovery.warnings[0]).to.match(/queues\.json could not be read \(not valid JSON: .*\): moved to .*queues\.json\.corrupt-2026-03-04T05-06-07-089Z; its messages were not restored$/);
            expect(bodies("views")).to.deep.equal([]);
        });

        it("treats a snapshot whose messages lack their fields as corrupt, naming the first bad one", () => {
            fs.writeFileSync(path.join(dir, SNAPSHOT_FILE), JSON.stringify({ views: [{ messageId: "m-1" }] }));
            const { recovery } = start(dir, { now: () => at });
            expect(recovery.warnings[0]).to.match(/could not be read \(views\[0\]: body is not a non-empty string\)/);
        });

        it("skips a last journal line cut short by the crash, saying so", () => {
            const first = start(dir);
            first.qs.get("views")!.send("whole");
            fs.appendFileSync(path.join(dir, JOURNAL_FILE), '{"q":"views","op":"put","message":{"messageId":"m-2","bo');
            const after = start(dir);
            expect(after.bodies("views")).to.deep.equal(["whole"]);
            expect(after.recovery.warnings).to.deep.equal([`${path.relative(process.cwd(), path.join(dir, JOURNAL_FILE))} ended in an incomplete entry (a write cut short by the crash, never acknowledged): skipped`]);
        });

        it("keeps a copy of a journal with unreadable entries and applies the readable ones", () => {
            const first = start(dir);
            first.qs.get("views")!.send("readable");
            fs.appendFileSync(path.join(dir, JOURNAL_FILE), "garbage\n");
            const after = start(dir, { now: () => at });
            expect(after.bodies("views")).to.deep.equal(["readable"]);
            expect(after.recovery.warnings[0]).to.match(/has 1 unreadable entry \(line 2: .*\): skipped; the whole journal is kept in .*queues\.journal\.corrupt-2026-03-04T05-06-07-089Z$/);
            expect(fs.existsSync(path.join(dir, `${JOURNAL_FILE}.corrupt-2026-03-04T05-06-07-089Z`))).to.equal(true);
        });

        it("keeps the messages of a queue the stack no longer declares in a file of their own", () => {
            fs.writeFileSync(path.join(dir, SNAPSHOT_FILE), JSON.stringify({ renamed: [{ messageId: "m-1", body: "b", md5OfBody: "x", sentTimestamp: 1, receiveCount: 0, visibleAt: 1 }] }));
            const { recovery } = start(dir, { now: () => at });
            const file = path.join(dir, "queues.orphaned-2026-03-04T05-06-07-089Z.json");
            expect(JSON.parse(fs.readFileSync(file, "utf8")).renamed[0].body).to.equal("b");
            expect(recovery.warnings[0]).to.match(/1 saved message\(s\) belong to queues this stack no longer declares \(renamed\): kept in .*queues\.orphaned-2026-03-04T05-06-07-089Z\.json, not restored$/);
        });
    });
});
