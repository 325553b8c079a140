import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { registeredBeforeFailure, runUnderMocks } from "../../plan/engine";
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

    it("lists the function names bellyfed:functions takes when one is unknown", () => {
        expect(problemsOf({ functions: { query: { memoryMb: 512 } } })).to.include(
            "bellyfed:functions.query: unknown key (bellyfed:functions takes restaurantQuery, restaurantStats, analyticsConsumer)",
        );
    });

    it("lists the keys of the namespace for an unknown top-level key", () => {
        expect(problemsOf({ logRetention: 14 })).to.match(/bellyfed:logRetention: unknown key \(the bellyfed: namespace takes environment, tags, logRetentionDays, api, /);
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
        const error = await runStack("dev", { "bellyfed:logRetentionDays": "10" }).then(
            () => expect.fail("the program should have failed"),
            (e: Error) => e,
        );
        expect(error.message).to.include("bellyfed:logRetentionDays");
        // What the mock engine saw registered before the failure (test/plan/engine.test.ts shows it sees them).
        expect(registeredBeforeFailure(error)).to.deep.equal([]);
    });

    describe("tags, within AWS's tag limits", () => {
        it("accepts ordinary tags", () => {
            expect(parseStackConfig("test", { tags: { team: "platform", "cost-center": "42", owner: "ops@bellyfed.com" } }).tags).to.deep.equal({
                team: "platform",
                "cost-center": "42",
                owner: "ops@bellyfed.com",
            });
        });

        it("rejects a key with the reserved aws: prefix, in any case, naming the key", () => {
            expect(problemsOf({ tags: { "aws:team": "x" } })).to.include('bellyfed:tags.aws:team: key must not start with "aws:" (reserved for AWS)');
            expect(problemsOf({ tags: { "AWS:team": "x" } })).to.include('bellyfed:tags.AWS:team: key must not start with "aws:"');
        });

        it("rejects a value with the reserved aws: prefix", () => {
            expect(problemsOf({ tags: { team: "aws:platform" } })).to.include('bellyfed:tags.team: value must not start with "aws:" (reserved for AWS)');
        });

        it("rejects a key over 128 characters and a value over 256", () => {
            const longKey = "k".repeat(129);
            expect(problemsOf({ tags: { [longKey]: "x" } })).to.include(`bellyfed:tags.${longKey}: key must be 1-128 characters, got 129`);
            expect(problemsOf({ tags: { team: "v".repeat(257) } })).to.include("bellyfed:tags.team: value must be at most 256 characters, got 257");
        });

        it("rejects characters AWS does not allow in tags", () => {
            expect(problemsOf({ tags: { "team#1": "x" } })).to.include("bellyfed:tags.team#1: key and value may hold letters, digits, spaces and _ . : / = + - @ only");
        });

        it("rejects tags the platform sets itself (the ops CLI finds a stack's resources by project and stack)", () => {
            for (const key of ["project", "stack", "environment", "bellyfed:route"]) {
                expect(problemsOf({ tags: { [key]: "x" } }), key).to.include(`bellyfed:tags.${key}: key is set by the platform (project, stack, environment and bellyfed:*)`);
            }
        });

        it("rejects more tags than fit next to the platform's own (50 per resource)", () => {
            const tags = Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`t${i}`, "x"]));
            expect(problemsOf({ tags })).to.include("bellyfed:tags: holds 45 tags; at most 44 fit (AWS allows 50 per resource and the platform adds up to 6)");
            expect(() => parseStackConfig("test", { tags: Object.fromEntries(Object.entries(tags).slice(0, 44)) })).to.not.throw();
        });
    });

    describe("API throttling", () => {
        it("rejects limits above the default account quota per Region (10,000 rps, 5,000 burst)", () => {
            const message = problemsOf({ api: { throttlingRateLimit: 10001, throttlingBurstLimit: 5001 } });
            expect(message).to.include("bellyfed:api.throttlingRateLimit").and.include("bellyfed:api.throttlingBurstLimit");
        });

        it("accepts a burst below the rate (HTTP APIs do not require burst >= rate)", () => {
            expect(parseStackConfig("test", { api: { throttlingRateLimit: 200, throttlingBurstLimit: 100 } }).api).to.include({ throttlingRateLimit: 200, throttlingBurstLimit: 100 });
        });
    });

    it("defaults the handler-metric alarm thresholds to 1 per 5 minutes", () => {
        expect(parseStackConfig("test", {}).alarms).to.include({ publishFailuresPer5Minutes: 1, poisonRecordsPer5Minutes: 1 });
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

    it("names each YAML number that is not a finite number (.nan, .inf, 1e400) by its key, instead of 'expected number, received null'", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "bellyfed-stackfile-"));
        fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: bellyfed\n");
        fs.writeFileSync(path.join(root, "Pulumi.odd.yaml"), "config:\n  aws:region: us-east-1\n  bellyfed:logRetentionDays: .nan\n  bellyfed:analyticsQueue:\n    batchSize: 1e400\n");
        try {
            expect(readStackFile("odd", root).nonFinite.map((n) => n.problem)).to.deep.equal([
                "bellyfed:logRetentionDays: is not a finite number: the YAML value reads as NaN (.nan)",
                "bellyfed:analyticsQueue.batchSize: is not a finite number: the YAML value reads as Infinity (.inf, or a number too large for a double, such as 1e400)",
            ]);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    describe("problems the offline plan meets in a stack file, reported with every other bad key", () => {
        const planFailure = async (config: string) => {
            const root = fs.mkdtempSync(path.join(os.tmpdir(), "bellyfed-stackfile-"));
            fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: bellyfed\n");
            fs.writeFileSync(path.join(root, "Pulumi.odd.yaml"), `config:\n  aws:region: us-east-1\n${config}`);
            try {
                return await runStack("odd", {}, root).then(
                    () => undefined,
                    (error: Error) => error,
                );
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        };

        it("names a number that is not finite and the other bad keys in one error", async () => {
            const error = await planFailure("  bellyfed:analyticsQueue:\n    batchSize: .inf\n  bellyfed:logRetentionDays: 15\n  belyfed:foo: 1\n");
            expect(error).to.be.instanceOf(StackConfigError);
            expect((error as StackConfigError).problems.map((p) => p.slice(0, p.indexOf(": ")))).to.deep.equal([
                "bellyfed:analyticsQueue.batchSize",
                "belyfed:foo",
                "bellyfed:logRetentionDays",
            ]);
            expect((error as StackConfigError).problems[0]).to.equal("bellyfed:analyticsQueue.batchSize: is not a finite number: the YAML value reads as Infinity (.inf, or a number too large for a double, such as 1e400)");
        });

        it("rejects a number that is not finite even where the setting may be left out", async () => {
            const error = await planFailure("  bellyfed:alarms:\n    queueOldestMessageAgeSeconds: .nan\n");
            expect((error as StackConfigError).problems).to.deep.equal(["bellyfed:alarms.queueOldestMessageAgeSeconds: is not a finite number: the YAML value reads as NaN (.nan)"]);
        });

        it("says a secure: value where the setting takes a number cannot be planned offline, instead of blaming a string nobody wrote", async () => {
            const error = await planFailure("  bellyfed:logRetentionDays:\n    secure: AAABAKq0ZXk=\n");
            expect((error as StackConfigError).problems).to.deep.equal([
                'bellyfed:logRetentionDays: is a secure: value, which the offline plan does not decrypt (it reads "[secret]"), and this setting does not take a string ' +
                    "(Invalid input: expected number, received string): keep settings that are not secrets in plain text",
            ]);
        });
    });

    it("puts mock ARNs in the stack's region", async () => {
        const run = await runStack("dev", { "aws:region": "eu-west-1" });
        expect(run.outputs.eventBusArn).to.match(/^arn:aws:events:eu-west-1:/);
    });
});
