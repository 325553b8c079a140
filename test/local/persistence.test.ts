import { DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { banner } from "../../local/cli";
import { LocalDataError } from "../../local/dynamo";
import { DATA_ROOT, LocalRuntime, startLocalRuntime } from "../../local/runtime";
import { stackGraph } from "../support/graph";
import { eventually, request, startTestRuntime } from "../support/localRuntime";

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
        expect(error.message).to.match(new RegExp(`is in use by another local runtime \\(pid ${process.pid}, ${holder.urls.http}\\)\\. Stop it, or start this one with --memory\\.$`));
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
});
