import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Worker } from "worker_threads";
import { createTableInput, LocalDataError, LocalDynamo, seedTables, startLocalDynamo } from "../../local/dynamo";
import { TableSpec } from "../../local/model";

const table: TableSpec = {
    urn: "urn:pulumi:dev::bellyfed::aws:dynamodb/table:Table::restaurants",
    logicalName: "restaurants",
    name: "restaurants-dev",
    arn: "arn:aws:dynamodb:us-east-1:000000000000:table/restaurants-dev",
    hashKey: "id",
    attributes: [{ name: "id", type: "S" }],
    globalSecondaryIndexes: [],
    localSecondaryIndexes: [],
};

const seed = { tables: { restaurants: Array.from({ length: 30 }, (_, i) => ({ id: `r-${i}`, name: `Restaurant ${i}` })) } };

/**
 * Leaves a table in CREATING on disk, as a runtime killed between dynalite's two table writes does:
 * a dynalite whose CREATING -> ACTIVE timer never fires before its thread ends.
 */
async function leaveTableCreating(dir: string): Promise<void> {
    const worker = new Worker(
        `const { parentPort, workerData } = require("node:worker_threads");
         const server = require(workerData.module)({ path: workerData.path, createTableMs: 3_600_000 });
         server.listen(0, "127.0.0.1", () => parentPort.postMessage(server.address().port));
         parentPort.on("message", () => server.close(() => parentPort.postMessage("closed")));`,
        { eval: true, workerData: { module: require.resolve("dynalite"), path: dir } },
    );
    const port = await new Promise<number>((resolve) => worker.once("message", resolve));
    const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", credentials: { accessKeyId: "l", secretAccessKey: "l" } });
    try {
        const created = await client.send(new CreateTableCommand(createTableInput(table)));
        expect(created.TableDescription?.TableStatus).to.equal("CREATING");
    } finally {
        client.destroy();
        const closed = new Promise((resolve) => worker.once("message", resolve));
        worker.postMessage("close");
        await closed;
        await worker.terminate();
    }
}

describe("local DynamoDB (dynalite) tables", function () {
    this.timeout(30_000);
    let dir: string;
    let dynamo: LocalDynamo | undefined;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "bellyfed-dynamo-"));
    });
    afterEach(async () => {
        await dynamo?.close();
        dynamo = undefined;
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("hands over tables it creates on disk already ACTIVE, so seeding right after the start never meets a CREATING table", async () => {
        for (let start = 0; start < 5; start++) {
            const tables = path.join(dir, `dynamodb-${start}`);
            dynamo = await startLocalDynamo([table], { dataDir: tables });
            const status = (await dynamo.client.send(new DescribeTableCommand({ TableName: table.name }))).Table?.TableStatus;
            await seedTables(dynamo, [table], seed, "seed.json");
            expect({ status, items: await dynamo.itemCount(table.name) }).to.deep.equal({ status: "ACTIVE", items: 30 });
            await dynamo.close();
            dynamo = undefined;
        }
    });

    it("keeps a table found on disk as it is: not created again, not seeded again", async () => {
        const tables = path.join(dir, "dynamodb");
        dynamo = await startLocalDynamo([table], { dataDir: tables });
        await seedTables(dynamo, [table], seed, "seed.json");
        await dynamo.close();
        dynamo = await startLocalDynamo([table], { dataDir: tables });
        const { written } = await seedTables(dynamo, [table], { tables: { restaurants: [{ id: "r-new" }] } }, "seed.json");
        expect({ created: dynamo.created, written, items: await dynamo.itemCount(table.name) }).to.deep.equal({ created: [], written: [], items: 30 });
    });

    it("refuses a table a killed runtime left in CREATING, naming the table and the folder to delete", async () => {
        const tables = path.join(dir, "dynamodb");
        await leaveTableCreating(tables);
        const error = await startLocalDynamo([table], { dataDir: tables }).then(
            (started) => void (dynamo = started),
            (e: Error) => e,
        );
        expect(error).to.be.instanceOf(LocalDataError);
        expect(error!.message).to.equal(
            `table restaurants-dev in ${tables} is stuck in status CREATING (a runtime was killed while creating it; the table holds no items): ` +
                `delete ${tables} (the local tables; they are re-created and re-seeded at the next start), or start with --memory`,
        );
    });
});
