import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalDataError } from "../../local/dynamo";
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

    it("brings a message in flight at the crash back hidden for the rest of its visibility (its hold), with its receive count", () => {
        const first = start(dir);
        first.qs.get("views")!.send("in flight");
        first.qs.get("views")!.receive(1); // 60 s: what a poller's hold for a running invocation looks like
        const after = start(dir);
        expect(after.qs.get("views")!.counts()).to.deep.equal({ visible: 0, inFlight: 1, delayed: 0 });
        const [restored] = after.qs.get("views")!.peek();
        expect(restored.receiveCount).to.equal(1);
        expect(restored.visibleAt).to.equal(first.qs.get("views")!.peek()[0].visibleAt);
    });

    it("records visibility changes: a message whose batch ended before the crash comes back on its own schedule, not the hold's", () => {
        const first = start(dir);
        const views = first.qs.get("views")!;
        views.send("failed, retry soon");
        const [received] = views.receive(1);
        views.changeVisibility(received.receiptHandle, 0); // the poller settles a failed batch
        const after = start(dir);
        expect(after.qs.get("views")!.counts()).to.deep.equal({ visible: 1, inFlight: 0, delayed: 0 });
    });

    it("keeps a restored message's visibility through the snapshot a start writes (a second crash)", () => {
        const first = start(dir);
        first.qs.get("views")!.send("in flight");
        first.qs.get("views")!.receive(1);
        start(dir); // restores and compacts into a new snapshot, then crashes too
        expect(start(dir).qs.get("views")!.counts()).to.deep.equal({ visible: 0, inFlight: 1, delayed: 0 });
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

        it("restores the good messages of a snapshot with bad ones, and sets the bad ones aside, naming each", () => {
            const good = (id: string) => ({ messageId: id, body: `body ${id}`, md5OfBody: "x", sentTimestamp: Date.now(), receiveCount: 0, visibleAt: 1 });
            const text = JSON.stringify({ views: [good("m-1"), { messageId: "m-2" }, good("m-3")], "views-dlq": "not a list" });
            fs.writeFileSync(path.join(dir, SNAPSHOT_FILE), text);
            const { recovery, bodies } = start(dir, { now: () => at });
            expect(bodies("views")).to.deep.equal(["body m-1", "body m-3"]);
            expect(recovery.warnings).to.have.length(1);
            expect(recovery.warnings[0]).to.match(
                /queues\.json has 2 unreadable messages \(views\[1\] \(message m-2\): body is not a non-empty string; views-dlq: not a list of messages\): set aside, not restored; the other 2 message\(s\) were restored; the whole file is kept in .*queues\.json\.corrupt-2026-03-04T05-06-07-089Z$/,
            );
            expect(fs.readFileSync(path.join(dir, `${SNAPSHOT_FILE}.corrupt-2026-03-04T05-06-07-089Z`), "utf8")).to.equal(text);
            // The new snapshot holds what was restored: the next start finds nothing wrong.
            expect(start(dir).recovery).to.deep.include({ restored: { views: 2 }, warnings: [] });
        });

        it("moves aside a journal path that cannot be read as a file (a directory) and starts, saying so", () => {
            fs.mkdirSync(path.join(dir, JOURNAL_FILE));
            const { recovery, qs } = start(dir, { now: () => at });
            expect(recovery.warnings).to.have.length(1);
            expect(recovery.warnings[0]).to.match(/queues\.journal could not be read \(EISDIR: .*\): moved to .*queues\.journal\.corrupt-2026-03-04T05-06-07-089Z; the queue changes it recorded since the last snapshot were not replayed$/);
            expect(fs.statSync(path.join(dir, `${JOURNAL_FILE}.corrupt-2026-03-04T05-06-07-089Z`)).isDirectory()).to.equal(true);
            qs.get("views")!.send("recorded in a new journal");
            expect(start(dir).bodies("views")).to.deep.equal(["recorded in a new journal"]);
        });

        it("moves aside a snapshot path that is a directory, like any unreadable snapshot", () => {
            fs.mkdirSync(path.join(dir, SNAPSHOT_FILE));
            const { recovery } = start(dir, { now: () => at });
            expect(recovery.warnings[0]).to.match(/queues\.json could not be read \(EISDIR: .*\): moved to .*queues\.json\.corrupt-2026-03-04T05-06-07-089Z; its messages were not restored$/);
        });

        it("stops with one clear LocalDataError naming the path and what to do when a damaged file cannot be moved aside", () => {
            fs.mkdirSync(path.join(dir, JOURNAL_FILE));
            // Where it would go is taken by a non-empty folder: the rename fails.
            fs.mkdirSync(path.join(dir, `${JOURNAL_FILE}.corrupt-2026-03-04T05-06-07-089Z`, "taken"), { recursive: true });
            const error = (() => {
                try {
                    start(dir, { now: () => at });
                } catch (e) {
                    return e as Error;
                }
            })();
            expect(error).to.be.instanceOf(LocalDataError);
            expect(error!.message).to.match(/queues\.journal could not be read \(EISDIR: .*\) nor moved aside \(.*\): move it out of .* yourself \(deleting it loses the queued messages it holds\), or start with --memory$/);
            expect(error!.message).not.to.include("\n");
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
