import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { AddressInfo } from "net";
export { withEnv } from "../../local/functionCode";
const dynalite = require("dynalite");

/** A real DynamoDB-protocol server (dynalite) in memory on a free port, for one test file. */
export interface LocalDynamo {
    endpoint: string;
    client: DynamoDBClient;
    documents: DynamoDBDocumentClient;
    createTable(name: string, hashKey: string, rangeKey?: string): Promise<void>;
    close(): Promise<void>;
}

export async function startDynalite(): Promise<LocalDynamo> {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    return {
        endpoint,
        client,
        documents: DynamoDBDocumentClient.from(client),
        async createTable(name, hashKey, rangeKey) {
            const keys = [{ AttributeName: hashKey, KeyType: "HASH" as const }];
            const attributes = [{ AttributeName: hashKey, AttributeType: "S" as const }];
            if (rangeKey) {
                keys.push({ AttributeName: rangeKey, KeyType: "RANGE" as any });
                attributes.push({ AttributeName: rangeKey, AttributeType: "S" });
            }
            await client.send(new CreateTableCommand({ TableName: name, KeySchema: keys, AttributeDefinitions: attributes, BillingMode: "PAY_PER_REQUEST" }));
        },
        async close() {
            client.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

/**
 * Sets environment variables for a whole mocha suite. The AWS SDK resolves AWS_ENDPOINT_URL_* lazily,
 * at the first request, so endpoint variables must stay in place while the handler runs.
 */
export function suiteEnv(env: () => Record<string, string>): void {
    let saved: Record<string, string | undefined> = {};
    before(() => {
        const values = env();
        saved = Object.fromEntries(Object.keys(values).map((k) => [k, process.env[k]]));
        Object.assign(process.env, values);
    });
    after(() => {
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    });
}

/** A minimal HTTP API payload 2.0 event for a GET route (default route `GET /restaurant/{id}`). */
export function httpEvent(
    path: string,
    pathParameters: Record<string, string>,
    headers: Record<string, string> = {},
    options: { routeKey?: string; queryStringParameters?: Record<string, string> } = {},
): any {
    const routeKey = options.routeKey ?? "GET /restaurant/{id}";
    const query = options.queryStringParameters;
    return {
        version: "2.0",
        routeKey,
        rawPath: path,
        rawQueryString: query ? new URLSearchParams(query).toString() : "",
        headers,
        pathParameters,
        ...(query ? { queryStringParameters: query } : {}),
        requestContext: { requestId: "req-1", http: { method: "GET", path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" }, stage: "$default", routeKey, timeEpoch: 0 },
        isBase64Encoded: false,
    };
}
