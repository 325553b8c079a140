/**
 * Local DynamoDB: dynalite (a DynamoDB-protocol server on LevelDB), in memory or on disk, with the
 * stack's tables created from their graph inputs and seeded from a data file on first creation.
 */
import { CreateTableCommand, CreateTableCommandInput, DescribeTableCommand, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import * as fs from "fs";
import * as path from "path";
import { Worker } from "worker_threads";
import { TableSpec } from "./model";

/**
 * Runs dynalite in a worker thread: its request handling and storage work (the heaviest part of
 * the platform under load) stay off the thread that serves the API, the bus and the queues.
 * Started from its source text, so it must be self-contained.
 */
export function dynaliteWorkerMain(): void {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { parentPort, workerData } = require("node:worker_threads");
    const dynalite = require(workerData.module);
    /* eslint-enable @typescript-eslint/no-require-imports */
    const server = dynalite({ path: workerData.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    server.on("error", (error: Error) => parentPort.postMessage({ type: "error", message: error.message }));
    server.listen(0, workerData.host, () => parentPort.postMessage({ type: "listening", port: server.address().port }));
    parentPort.on("message", (message: string) => {
        // Closing the server closes the LevelDB store too: every write is on disk before "closed".
        if (message === "close") server.close(() => parentPort.postMessage({ type: "closed" }));
    });
}

export interface LocalDynamo {
    endpoint: string;
    client: DynamoDBClient;
    documents: DynamoDBDocumentClient;
    /** Tables created now (they did not exist on disk). */
    created: string[];
    itemCount(table: string): Promise<number>;
    close(): Promise<void>;
}

export class LocalDataError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "LocalDataError";
    }
}

/** The CreateTable request of a table declared in the graph. */
export function createTableInput(table: TableSpec): CreateTableCommandInput {
    const keySchema = (hashKey: string, rangeKey?: string) => [
        { AttributeName: hashKey, KeyType: "HASH" as const },
        ...(rangeKey ? [{ AttributeName: rangeKey, KeyType: "RANGE" as const }] : []),
    ];
    const projection = (p: { projectionType: string; nonKeyAttributes?: string[] }) => ({
        ProjectionType: p.projectionType as "ALL" | "KEYS_ONLY" | "INCLUDE",
        NonKeyAttributes: p.projectionType === "INCLUDE" ? p.nonKeyAttributes : undefined,
    });
    const declared = new Set(table.attributes.map((a) => a.name));
    for (const key of [table.hashKey, table.rangeKey].filter(Boolean) as string[]) {
        if (!declared.has(key)) throw new LocalDataError(`table ${table.name}: key attribute "${key}" is not declared in attributes`);
    }
    return {
        TableName: table.name,
        KeySchema: keySchema(table.hashKey, table.rangeKey),
        AttributeDefinitions: table.attributes.map((a) => ({ AttributeName: a.name, AttributeType: a.type as "S" | "N" | "B" })),
        BillingMode: "PAY_PER_REQUEST",
        GlobalSecondaryIndexes:
            table.globalSecondaryIndexes.length > 0
                ? table.globalSecondaryIndexes.map((g) => ({ IndexName: g.name, KeySchema: keySchema(g.hashKey, g.rangeKey), Projection: projection(g) }))
                : undefined,
        LocalSecondaryIndexes:
            table.localSecondaryIndexes.length > 0
                ? table.localSecondaryIndexes.map((l) => ({ IndexName: l.name, KeySchema: keySchema(table.hashKey, l.rangeKey), Projection: projection(l) }))
                : undefined,
    };
}

export async function startLocalDynamo(tables: TableSpec[], options: { dataDir?: string; host?: string }): Promise<LocalDynamo> {
    if (options.dataDir) fs.mkdirSync(path.dirname(options.dataDir), { recursive: true });
    const host = options.host ?? "127.0.0.1";
    const worker = new Worker(`(${dynaliteWorkerMain.toString()})();`, {
        eval: true,
        workerData: { module: require.resolve("dynalite"), path: options.dataDir, host },
        name: "dynalite",
    });
    const port = await new Promise<number>((resolve, reject) => {
        worker.once("error", (error) => reject(new LocalDataError(`DynamoDB (dynalite) failed to start: ${error.message}`)));
        worker.once("exit", (code) => reject(new LocalDataError(`DynamoDB (dynalite) exited with code ${code} while starting`)));
        worker.on("message", (m: { type: string; port?: number; message?: string }) => {
            if (m.type === "listening") resolve(m.port!);
            else if (m.type === "error") reject(new LocalDataError(`DynamoDB (dynalite) failed: ${m.message}`));
        });
    });
    const endpoint = `http://${host}:${port}`;
    const client = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" }, maxAttempts: 1 });
    let closing: Promise<void> | undefined;
    const close = () =>
        (closing ??= (async () => {
            client.destroy();
            await new Promise<void>((resolve) => {
                const done = () => resolve();
                worker.once("exit", done);
                worker.on("message", (m: { type: string }) => {
                    if (m.type === "closed") void worker.terminate();
                });
                worker.postMessage("close");
            });
        })());
    const created: string[] = [];
    try {
        for (const table of tables) {
            let status: string | undefined;
            try {
                status = (await client.send(new DescribeTableCommand({ TableName: table.name }))).Table?.TableStatus;
            } catch (error) {
                if ((error as Error).name !== "ResourceNotFoundException") throw error;
            }
            if (status === undefined) {
                status = (await client.send(new CreateTableCommand(createTableInput(table)))).TableDescription?.TableStatus;
                created.push(table.name);
            }
            await untilActive(client, table.name, status, options.dataDir);
        }
    } catch (error) {
        await close();
        const message = (error as Error).message;
        if (/lock/i.test(message)) {
            throw new LocalDataError(`the data folder ${options.dataDir} is in use by another local runtime (stop it, or use --memory): ${message}`);
        }
        throw error;
    }
    return {
        endpoint,
        client,
        documents: DynamoDBDocumentClient.from(client),
        created,
        async itemCount(name) {
            let count = 0;
            let startKey: Record<string, any> | undefined;
            do {
                const page = await client.send(new ScanCommand({ TableName: name, Select: "COUNT", ExclusiveStartKey: startKey }));
                count += page.Count ?? 0;
                startKey = page.LastEvaluatedKey;
            } while (startKey);
            return count;
        },
        close,
    };
}

/**
 * dynalite answers CreateTable with CREATING and writes ACTIVE a moment later (createTableMs: 0 is a
 * timer, not a synchronous write); until then every item request is ResourceNotFoundException, so
 * seeding right after CreateTable races it. A table still CREATING after the wait was left so by a
 * runtime killed between those two writes: it holds no items and dynalite can neither finish nor
 * delete it, so the error names it and the way out.
 */
async function untilActive(client: DynamoDBClient, table: string, status: string | undefined, dataDir: string | undefined): Promise<void> {
    const deadline = Date.now() + 5000;
    while (status !== "ACTIVE") {
        if (Date.now() > deadline) {
            throw new LocalDataError(
                `table ${table} in ${dataDir ?? "memory"} is stuck in status ${status} (a runtime was killed while creating it; the table holds no items): ` +
                    `delete ${dataDir ?? "it"} (the local tables; they are re-created and re-seeded at the next start), or start with --memory`,
            );
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
        status = (await client.send(new DescribeTableCommand({ TableName: table }))).Table?.TableStatus;
    }
}

/** The seed file: items per table, the table named by its logical (Pulumi) name. */
export interface SeedFile {
    tables: Record<string, Record<string, unknown>[]>;
}

export function readSeedFile(file: string): SeedFile {
    let doc: any;
    try {
        doc = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (error) {
        throw new LocalDataError(`seed file ${file}: ${(error as Error).message}`);
    }
    if (!doc || typeof doc.tables !== "object" || Array.isArray(doc.tables)) {
        throw new LocalDataError(`seed file ${file}: expected { "tables": { "<table logical name>": [ items ] } }`);
    }
    for (const [table, items] of Object.entries(doc.tables)) {
        if (!Array.isArray(items)) throw new LocalDataError(`seed file ${file}: tables.${table} must be a list of items`);
    }
    return doc as SeedFile;
}

/**
 * Writes the seed items of every table created now (a table kept on disk from an earlier start is
 * left as it is). Returns the seed file's key values per table (logical name -> ids) and the logical
 * names of the tables written now. A seed table the stack does not declare, or an item without the
 * table's key, is an error naming it.
 */
export async function seedTables(dynamo: LocalDynamo, tables: TableSpec[], seed: SeedFile, file: string): Promise<{ ids: Record<string, string[]>; written: string[] }> {
    const seeded: Record<string, string[]> = {};
    const written: string[] = [];
    for (const [logicalName, items] of Object.entries(seed.tables)) {
        const table = tables.find((t) => t.logicalName === logicalName);
        if (!table) {
            throw new LocalDataError(`seed file ${file}: table "${logicalName}" is not declared by the stack (tables: ${tables.map((t) => t.logicalName).join(", ")})`);
        }
        items.forEach((item, i) => {
            for (const key of [table.hashKey, table.rangeKey].filter(Boolean) as string[]) {
                if (item[key] === undefined || item[key] === "") throw new LocalDataError(`seed file ${file}: tables.${logicalName}[${i}] has no "${key}" (the table's key)`);
            }
        });
        if (dynamo.created.includes(table.name)) {
            for (let i = 0; i < items.length; i += 25) {
                await dynamo.documents.send(new BatchWriteCommand({ RequestItems: { [table.name]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
            }
            written.push(logicalName);
        }
        seeded[logicalName] = items.map((item) => String(item[table.hashKey]));
    }
    return { ids: seeded, written };
}
