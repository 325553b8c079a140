import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runUnderMocks } from "../../plan/engine";
import { readStackFile } from "../../plan/stackFiles";
import { loadStackConfig, parseStackConfig, StackConfigError } from "../../stacks/config";
import { runStack } from "../../plan/runStack";

function problemsOf(raw: Record<string, unknown>): string {
    try {
        parseStackConfig("test", raw);
    } catch (error) {
        expect(error).to.be.instanceOf(StackConfigError);
        return (error as Error).message;
    }
    throw new Error("expected the config to be rejected");
}

describe("stack config", () => {
    it("fills every default from an empty config", () => {
        const config = parseStackConfig("test", {});
        expect(config.logRetentionDays).to.equal(14);
        expect(config.api.corsAllowOrigins).to.deep.equal(["*"]);
        expect(config.tables).to.deep.equal({ pointInTimeRecovery: false, deletionProtection: false });
        expect(config.functions.restaurantQuery).to.deep.equal({ memoryMb: 256, timeoutSeconds: 10 });
    });

    it("rejects a log retention CloudWatch does not offer, naming the key", () => {
        expect(problemsOf({ logRetentionDays: 10 })).to.match(/bellyfed:logRetentionDays: must be one of CloudWatch Logs' retention values/);
    });

    it("names the nested key of a bad structured value", () => {
        expect(problemsOf({ api: { throttlingBurstLimit: -1 } })).to.include("bellyfed:api.throttlingBurstLimit");
    });

    it("rejects a value of the wrong type, saying what was expected", () => {
        expect(problemsOf({ tables: { pointInTimeRecovery: "yes" } })).to.match(/bellyfed:tables\.pointInTimeRecovery: .*expected boolean/);
    });

    it("rejects unknown keys instead of ignoring a typo", () => {
        expect(problemsOf({ api: { throttlingRateLimt: 5 } })).to.include("bellyfed:api.throttlingRateLimt: unknown key");
        expect(problemsOf({ logRetention: 5 })).to.include("bellyfed:logRetention: unknown key");
    });

    it("rejects a CORS origin with a path", () => {
        expect(problemsOf({ api: { corsAllowOrigins: ["https://bellyfed.com/app"] } })).to.include("bellyfed:api.corsAllowOrigins.0");
    });

    it("fails the program before any resource is registered", async () => {
        let registered = -1;
        try {
            await runStack("dev", { "bellyfed:logRetentionDays": "10" });
        } catch (error) {
            expect((error as Error).message).to.include("bellyfed:logRetentionDays");
            registered = 0;
        }
        expect(registered).to.equal(0);
    });
});

describe("stack config outside the bellyfed namespace", () => {
    const failure = (overrides: Record<string, string>) =>
        runStack("dev", overrides).then(
            () => "",
            (error: Error) => error.message,
        );

    it("rejects a misspelt namespace instead of ignoring the key", async () => {
        expect(await failure({ "belyfed:environment": "prod" })).to.include('belyfed:environment: unknown config namespace "belyfed"');
    });

    it("rejects a region that is not an AWS region name", async () => {
        expect(await failure({ "aws:region": "mars-1" })).to.include('aws:region: "mars-1" is not an AWS region name');
    });

    it("accepts the provider's own settings (aws:*) and Pulumi's (pulumi:*)", async () => {
        expect(await failure({ "aws:skipMetadataApiCheck": "true", "pulumi:tags": "{}" })).to.equal("");
    });

    it("requires aws:region", async () => {
        const error = await runUnderMocks({ project: "bellyfed", stack: "t", config: {}, defaultRegion: false, program: () => loadStackConfig() }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).to.include("aws:region: is required");
    });

    it("rejects a stack file whose config is not a mapping", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "bellyfed-stackfile-"));
        fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: bellyfed\n");
        fs.writeFileSync(path.join(root, "Pulumi.odd.yaml"), "config: 5\n");
        try {
            expect(() => readStackFile("odd", root)).to.throw('Pulumi.odd.yaml: config: must be a mapping of "<namespace>:<key>: value", got 5');
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("puts mock ARNs in the stack's region", async () => {
        const run = await runStack("dev", { "aws:region": "eu-west-1" });
        expect(run.outputs.eventBusArn).to.match(/^arn:aws:events:eu-west-1:/);
    });
});
