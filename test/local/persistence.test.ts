import { DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { banner } from "../../local/cli";
import { LocalDataError } from "../../local/dynamo";
import { DATA_ROOT, LocalRuntime, startLocalRuntime } from "../../local/runtime";
import { stackGraph } from "../support/graph";
import { DynamoTrap, eventually, request, RuntimeProcess, startDynamoTrap, startRuntimeProcess, startTestRuntime } from "../support/localRuntime";

describe("local runtime on disk", function () {
    this.timeout(30_000);
    let dataDir: string;
    let rt: LocalRuntime | undefined;
    before(() => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bellyfed-local-"));
    });
    after(async () => {
        await rt?.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it("keeps tables and queued messages across a stop and seeds only on the first start", async () => {
        rt = await startTestRuntime({ memory: false, dataDir, failRate: 1 });
        expect(rt.seededNow).to.deep.equal(["restaurants"]);
        expect(banner(rt, { failRate: 1, logs: false })).to.match(/^Sample restaurants \(seeded now\): r-nasi-lemak-house, /m);
        const restaurants = rt.model.tables.find((t) => t.logicalName === "restaurants")!;
        const client = new DynamoDBClient({ endpoint: rt.urls.dynamodb, region: "us-east-1", credentials: { accessKeyId: "l", secretAccessKey: "l" } });
        await client.send(
            new UpdateItemCommand({
                TableName: restaurants.name,
                Key: { restaurantId: { S: "r-laksa-lane" } },
                UpdateExpression: "SET #n = :n",
                ExpressionAttributeNames: { "#n": "name" },
                ExpressionAttributeValues: { ":n": { S: "Laksa Lane (renamed)" } },
            }),
        );
        client.destroy();
        // The view is published but its consumer fails (fault rate 1): the message waits in the queue.
        expect((await request(`${rt.urls.http}/restaurant/r-laksa-lane`)).status).to.equal(200);
        await rt.stop();
        rt = undefined;

        rt = await startTestRuntime({ memory: false, dataDir });
        expect((await request(`${rt.urls.http}/restaurant/r-laksa-lane`)).body.name).to.equal("Laksa Lane (renamed)");
        // Nothing was written this time, and the banner says so.
        expect(rt.seededNow).to.deep.equal([]);
        const text = banner(rt, { failRate: 0, logs: false });
        expect(text).to.match(/^Sample restaurants \(table kept from an earlier start: not re-seeded\): r-nasi-lemak-house, /m);
        expect(text).not.to.match(/seeded now/);
        // The message queued before the stop is processed after the restart, with the new view.
        const total = await eventually(
            async () => (await request(`${rt!.urls.http}/restaurant/r-laksa-lane/stats`)).body.views.total,
            (v: number) => v === 2,
            { what: "both views counted" },
        );
        expect(total).to.equal(2);
    });

    it("refuses a data folder another runtime is using, naming that runtime", async () => {
        const holder = rt ?? (rt = await startTestRuntime({ memory: false, dataDir }));
        const error = await startTestRuntime({ memory: false, dataDir }).catch((e) => e);
        expect(error).to.be.instanceOf(LocalDataError);
        expect(error.message).to.match(new RegExp(`is in use by another local runtime \\(pid ${process.pid}, ${holder.urls.http}\\)\\. Stop it, or start this one with --memory\\. If you are sure no runtime uses the folder, delete \\S+runtime\\.lock and start again\\.$`));
    });
});

describe("local runtime in memory (--memory)", function () {
    this.timeout(30_000);
    // A stack name of its own, so the check sees only what this run writes under .local-data/<stack>.
    const stack = `memory-probe-${process.pid}`;
    const stackDir = path.join(DATA_ROOT, stack);
    after(() => fs.rmSync(stackDir, { recursive: true, force: true }));

    it("keeps no table or queue data: the function logs are the only files under .local-data/<stack>", async () => {
        const rt = await startLocalRuntime({ run: (await stackGraph("dev")).run, stack, port: 0, memory: true, functionLogs: "file", functionEnv: { POWERTOOLS_METRICS_DISABLED: "true" } });
        try {
            expect(rt.dataDir).to.equal(undefined);
            expect((await request(`${rt.urls.http}/restaurant/r-laksa-lane`)).status).to.equal(200);
            const queue = (await rt.state()).queues[0].name;
            rt.setFailRate(1);
            rt.sendMessage(queue, "{not json");
        } finally {
            await rt.stop();
        }
        const files = fs.existsSync(stackDir) ? fs.readdirSync(stackDir, { recursive: true }).map(String).sort() : [];
        expect(files.filter((f) => !f.startsWith("logs"))).to.deep.equal([]);
    });

    it("writes its function logs to a folder of its own (per port), never into an on-disk runtime's log files", async () => {
        const rt = await startLocalRuntime({ run: (await stackGraph("dev")).run, stack, port: 0, memory: true, functionLogs: "file", functionEnv: { POWERTOOLS_METRICS_DISABLED: "true" } });
        const port = new URL(rt.urls.http).port;
        try {
            expect(rt.logDir).to.equal(path.join(stackDir, "logs", `memory-${port}`));
            expect(banner(rt, { failRate: 0, logs: false })).to.include(`Function logs ${path.relative(path.join(__dirname, "..", ".."), rt.logDir!)}/<function>.log`);
            await request(`${rt.urls.http}/restaurant/r-laksa-lane`);
        } finally {
            await rt.stop();
        }
        expect(fs.readdirSync(rt.logDir!).some((f) => f.endsWith(".log"))).to.equal(true);
        expect(fs.readdirSync(path.join(stackDir, "logs")).filter((f) => f.endsWith(".log"))).to.deep.equal([]);
    });
});

describe("local runtime: stopping under traffic (Ctrl-C)", function () {
    this.timeout(60_000);
    let dataDir: string;
    before(() => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bellyfed-stop-"));
    });
    after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

    it("counts after a restart every view whose request got 200 before the stop", async () => {
        const id = "r-roti-canai-stall";
        let rt = await startTestRuntime({ memory: false, dataDir });
        const statuses: Promise<number>[] = [];
        let first!: () => void;
        const firstAnswered = new Promise<void>((resolve) => (first = resolve));
        for (let i = 0; i < 40; i++) {
            statuses.push(
                fetch(`${rt.urls.http}/restaurant/${id}`).then(
                    (res) => (res.body?.cancel(), first(), res.status),
                    () => 0,
                ),
            );
        }
        await firstAnswered;
        await rt.stop();
        const answered = await Promise.all(statuses);
        const ok = answered.filter((s) => s === 200).length;
        expect(answered.every((s) => s === 200 || s === 503), `statuses: ${answered.join(",")}`).to.equal(true);

        rt = await startTestRuntime({ memory: false, dataDir });
        try {
            await eventually(() => analyticsIdle(rt), (idle) => idle, { what: "analytics queue drained" });
            expect((await request(`${rt.urls.http}/restaurant/${id}/stats`)).body.views.total).to.equal(ok);
        } finally {
            await rt.stop();
        }
    });
});

describe("local runtime: while stopping", function () {
    this.timeout(30_000);

    it("refuses new API requests with 503 but still answers PutEvents, which running functions publish through", async () => {
        const rt = await startTestRuntime();
        const running = Array.from({ length: 20 }, () => fetch(`${rt.urls.http}/restaurant/r-laksa-lane`).then((res) => (res.body?.cancel(), res.status)));
        await new Promise((r) => setTimeout(r, 20));
        const stopped = rt.stop();
        const [api, put] = await Promise.all([
            request(`${rt.urls.http}/restaurant/r-laksa-lane`),
            request(rt.urls.eventbridge, {
                method: "POST",
                headers: { "X-Amz-Target": "AWSEvents.PutEvents", "Content-Type": "application/x-amz-json-1.1" },
                body: JSON.stringify({ Entries: [{ Source: "bellyfed.test", DetailType: "T", Detail: "{}" }] }),
            }),
        ]);
        await stopped;
        expect([api.status, api.body]).to.deep.equal([503, { message: "The local runtime is stopping" }]);
        expect([put.status, put.body.FailedEntryCount]).to.deep.equal([200, 0]);
        // Requests already running finish (200); those that arrived after the stop began are refused: none fails.
        expect(await Promise.all(running)).to.satisfy((statuses: number[]) => statuses.every((s) => s === 200 || s === 503));
    });
});

describe("local runtime: after a crash (kill -9)", function () {
    this.timeout(150_000);
    let dataDir: string;
    let crashing: RuntimeProcess | undefined;
    before(() => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bellyfed-crash-"));
    });
    after(async () => {
        await crashing?.kill();
        fs.rmSync(dataDir, { recursive: true, force: true });
    });

    const views = async (http: string) => (await request(`${http}/restaurant/r-laksa-lane/stats`)).body.views.total as number;
    const queued = async (stateUrl: string) => {
        const queue = (await request(stateUrl)).body.queues.find((q: any) => q.maxReceiveCount !== null);
        return queue.visible + queue.inFlight + queue.delayed;
    };

    it("restores the messages queued since the last start, never the ones processed since, and says the last run crashed", async () => {
        // A clean run leaves 2 views queued (every consumer invocation fails).
        let rt = await startTestRuntime({ memory: false, dataDir, failRate: 1 });
        for (let i = 0; i < 2; i++) expect((await request(`${rt.urls.http}/restaurant/r-laksa-lane`)).status).to.equal(200);
        await rt.stop();

        // The next run, in a process of its own, counts them, queues 3 more views, and is killed.
        // A 5 s function timeout: a message a consumer invocation held at the kill comes back 25 s after
        // its receive (the hold: a cold start's 10 s, the timeout, a 10 s grace; see timing.ts), not 50 s.
        const functionTimeoutMs = 5000;
        crashing = await startRuntimeProcess(dataDir, { functionTimeoutMs });
        const { http, state } = crashing.urls;
        await eventually(() => views(http), (n) => n === 2, { what: "the 2 saved views counted" });
        await request(`${http}/_local/faults`, { method: "POST", body: JSON.stringify({ failRate: 1 }) });
        for (let i = 0; i < 3; i++) expect((await request(`${http}/restaurant/r-laksa-lane`)).status).to.equal(200);
        expect(await queued(state)).to.equal(3);
        await crashing.kill();

        rt = await startTestRuntime({ memory: false, dataDir, functionTimeoutMs });
        try {
            expect(rt.recovery).to.deep.include({ restoredMessages: 3 });
            expect(rt.recovery?.uncleanStop?.pid).to.be.a("number").and.not.equal(process.pid);
            expect(banner(rt, { failRate: 0, logs: false })).to.match(/^ {2}Recovered {5}the previous runtime \(pid \d+, started [^)]+\) did not stop cleanly \(killed or crashed\): restored 3 queued message\(s\)/m);
            await eventually(() => views(rt!.urls.http), (n) => n === 5, { what: "all 5 views counted", timeoutMs: 40_000 });
            await eventually(() => analyticsIdle(rt!), (idle) => idle, { what: "analytics queue drained", timeoutMs: 40_000 });
            expect(await views(rt.urls.http)).to.equal(5);
        } finally {
            await rt.stop();
        }
    });

    it("starts when queues.journal is not a file (a directory), moving it aside and naming it in a warning", async () => {
        fs.rmSync(path.join(dataDir, "queues.journal"), { force: true });
        fs.mkdirSync(path.join(dataDir, "queues.journal"));
        const rt = await startTestRuntime({ memory: false, dataDir });
        try {
            expect(fs.readdirSync(dataDir).filter((f) => f.startsWith("queues.journal.corrupt-"))).to.have.length(1);
            expect(banner(rt, { failRate: 0, logs: false })).to.match(/^Warning: \S*queues\.journal could not be read \(EISDIR: [^)]*\): moved to \S*queues\.journal\.corrupt-\S+; the queue changes it recorded since the last snapshot were not replayed$/m);
            expect((await request(`${rt.urls.http}/restaurant/r-laksa-lane`)).status).to.equal(200);
        } finally {
            await rt.stop();
        }
    });

    it("starts with a corrupt queues.json, moving it aside and naming it in a warning", async () => {
        const corrupt = '{"analytics-queue": [ {"messageId": "m-1", "bo';
        fs.writeFileSync(path.join(dataDir, "queues.json"), corrupt);
        const rt = await startTestRuntime({ memory: false, dataDir });
        try {
            const aside = fs.readdirSync(dataDir).filter((f) => f.startsWith("queues.json.corrupt-"));
            expect(aside).to.have.length(1);
            expect(fs.readFileSync(path.join(dataDir, aside[0]), "utf8")).to.equal(corrupt);
            expect(banner(rt, { failRate: 0, logs: false })).to.include(`Warning: ${path.relative(process.cwd(), path.join(dataDir, "queues.json"))} could not be read (not valid JSON: `);
            expect((await request(`${rt.urls.http}/restaurant/r-laksa-lane`)).status).to.equal(200);
        } finally {
            await rt.stop();
        }
    });
});

describe("local runtime: a consumer killed with the runtime between claiming an event and counting it (kill -9 mid-batch)", function () {
    this.timeout(150_000);
    let dataDir: string;
    let crashing: RuntimeProcess | undefined;
    let trap: DynamoTrap | undefined;
    before(() => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bellyfed-dead-owner-"));
    });
    after(async () => {
        await crashing?.kill();
        await trap?.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it("counts the event exactly once after the restart, once the dead owner's claim has run out, and dead-letters nothing", async () => {
        // The consumer's claim (a conditional Put of EVENT#<id>) is answered; every call after it hangs;
        // then the runtime is killed: a claim whose owner is dead, and its message in flight.
        trap = await startDynamoTrap((operation, body) => operation === "PutItem" && body.includes('"EVENT#') && body.includes("attribute_not_exists"));
        // A short function timeout keeps the wait short: the dead owner's lease ends 5 s after its 5 s deadline.
        const functionTimeoutMs = 5000;
        crashing = await startRuntimeProcess(dataDir, { functionTimeoutMs, functionEnv: { AWS_ENDPOINT_URL_DYNAMODB: trap.url } });
        trap.target = crashing.urls.dynamodb;
        expect((await request(`${crashing.urls.http}/restaurant/r-laksa-lane`)).status).to.equal(200);
        await trap.tripped;
        await crashing.kill();

        const rt = await startTestRuntime({ memory: false, dataDir, functionTimeoutMs });
        try {
            const analytics = rt.model.tables.find((t) => t.logicalName === "analytics")!.name;
            const claims = await eventRecords(rt, analytics);
            expect(claims.map((c) => c.state)).to.deep.equal(["claimed"]);
            expect(claims[0].leaseUntil).to.be.greaterThan(Date.now());

            const dlq = () => rt.dlqMessages((rt.queues.find((q) => q.dlq) ?? rt.queues[0]).name).messages.length;
            const outcome = await eventually(
                async () => ({ views: await views(rt.urls.http), dlq: dlq() }),
                (o) => o.views > 0 || o.dlq > 0,
                { timeoutMs: 90_000, what: "the event counted or dead-lettered" },
            );
            expect(outcome).to.deep.equal({ views: 1, dlq: 0 });
            await eventually(() => analyticsIdle(rt), (idle) => idle, { what: "analytics queue drained" });
            expect([await views(rt.urls.http), dlq()]).to.deep.equal([1, 0]);
            expect((await eventRecords(rt, analytics)).map((c) => c.state)).to.deep.equal(["counted"]);
        } finally {
            await rt.stop();
        }
    });

    const views = async (http: string) => (await request(`${http}/restaurant/r-laksa-lane/stats`)).body.views.total as number;
    const eventRecords = async (rt: LocalRuntime, table: string) => {
        const client = new DynamoDBClient({ endpoint: rt.urls.dynamodb, region: "us-east-1", credentials: { accessKeyId: "l", secretAccessKey: "l" } });
        try {
            const page = await DynamoDBDocumentClient.from(client).send(new ScanCommand({ TableName: table, ConsistentRead: true }));
            return (page.Items ?? []).filter((item) => String(item.sk).startsWith("EVENT#"));
        } finally {
            client.destroy();
        }
    };
});

async function analyticsIdle(rt: LocalRuntime): Promise<boolean> {
    const queue = (await rt.state()).queues.find((q) => q.maxReceiveCount !== null)!;
    return queue.visible === 0 && queue.inFlight === 0 && queue.delayed === 0;
}
