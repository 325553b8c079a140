import { expect } from "chai";
import { parseStackConfig, StackConfigError } from "../../stacks/config";
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
