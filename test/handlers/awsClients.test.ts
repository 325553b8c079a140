import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import { DEFAULT_SDK_CLIENT_LIMITS, sdkClientConfig } from "../../handlers/runtime/awsClients";
import { BlackHole, startBlackHole, timed } from "./blackHole";

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const getItem = new GetItemCommand({ TableName: "t", Key: { id: { S: "1" } } });

describe("SDK client limits (against an endpoint that accepts and never answers)", () => {
    let hole: BlackHole;
    beforeEach(async () => (hole = await startBlackHole()));
    afterEach(() => hole.close());

    it("bounds every call by default: a connection timeout, a request timeout and a few attempts", () => {
        expect(DEFAULT_SDK_CLIENT_LIMITS).to.deep.equal({ connectionTimeoutMs: 1000, requestTimeoutMs: 2000, maxAttempts: 2 });
        expect(sdkClientConfig()).to.deep.equal({ maxAttempts: 2, requestHandler: { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true } });
    });

    it("makes a call fail with TimeoutError after maxAttempts attempts of requestTimeout each", async () => {
        const client = new DynamoDBClient({ region: "us-east-1", credentials, endpoint: hole.endpoint, ...sdkClientConfig({ requestTimeoutMs: 300, maxAttempts: 2 }) });
        try {
            const { result, ms } = await timed(() => client.send(getItem).then(() => undefined, (e: Error) => e));
            expect(result?.name).to.equal("TimeoutError");
            expect(hole.connections()).to.equal(2);
            expect(ms).to.be.within(550, 2000);
        } finally {
            client.destroy();
        }
    });

    it("without the limits, the SDK is still waiting after a second (why every handler client has them)", async () => {
        const client = new DynamoDBClient({ region: "us-east-1", credentials, endpoint: hole.endpoint });
        try {
            const settled = await Promise.race([client.send(getItem).then(() => "answered", () => "failed"), new Promise((r) => setTimeout(() => r("still waiting"), 1000))]);
            expect(settled).to.equal("still waiting");
        } finally {
            client.destroy();
        }
    });
});
