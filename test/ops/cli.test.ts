import { ListQueuesCommand } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkStack, findProjectDir, stackQueueDepth } from "../../ops/stacks";
import { availableStacks } from "../../plan/stackFiles";
import { OpsHarness } from "./support";

const ROOT = path.resolve(__dirname, "..", "..");

const COMMANDS = ["queues", "dlq inspect", "dlq redrive", "rules", "rules cleanup", "pattern test", "events put"];

describe("ops CLI", () => {
    let h: OpsHarness;
    beforeEach(() => {
        h = new OpsHarness();
    });

    it("--help lists every command with an example and exits 0", async () => {
        const r = await h.run(["--help"]);
        expect(r.code).to.equal(0);
        for (const command of COMMANDS) {
            expect(r.stdout).to.match(new RegExp(`^  ${command} `, "m"));
            expect(r.stdout).to.include(`npm run ops -- ${command} `);
        }
    });

    it("<command> --help shows the command's options and examples", async () => {
        const r = await h.run(["dlq", "redrive", "--help"]);
        expect(r.code).to.equal(0);
        expect(r.stdout).to.include("--only-valid").and.include("--max-per-second N").and.include("npm run ops -- dlq redrive analytics-queue --stack prod --dry-run");
    });

    it("help <command> works too", async () => {
        const r = await h.run(["help", "rules", "cleanup"]);
        expect(r.stdout).to.include("Usage: npm run ops -- rules cleanup --unused");
    });

    it("--help --json prints one JSON document: every command with its usage, options and examples, the common options and exit codes", async () => {
        const r = await h.run(["--help", "--json"]);
        expect(r.code).to.equal(0);
        const doc = r.json();
        expect(doc.commands.map((c: any) => c.name)).to.deep.equal(COMMANDS);
        const redrive = doc.commands.find((c: any) => c.name === "dlq redrive");
        expect(redrive.usage).to.match(/^npm run ops -- dlq redrive <queue> /);
        expect(redrive.options.map((o: any) => o.flag)).to.include("--only-valid");
        expect(redrive.examples).to.include("npm run ops -- dlq redrive analytics-queue --stack prod --dry-run");
        expect(doc.commonOptions.map((o: any) => o.flag)).to.include.members(["--stack", "--json", "--local"]);
        expect(Object.keys(doc.exitCodes)).to.deep.equal(["0", "1", "2"]);
    });

    it("<command> --help --json prints the command's document", async () => {
        const r = await h.run(["rules", "cleanup", "--help", "--json"]);
        expect(r.code).to.equal(0);
        expect(r.json()).to.deep.include({ name: "rules cleanup", usage: "npm run ops -- rules cleanup --unused --stack NAME [--days N] [--bus NAME|ARN] [--dry-run] [--yes] [--allow-no-metrics]" });
    });

    for (const [group, commands] of [["dlq", ["dlq inspect", "dlq redrive"]], ["pattern", ["pattern test"]], ["events", ["events put"]]] as const) {
        it(`${group} --help shows the group's commands and their usage (exit 0)`, async () => {
            const r = await h.run([group, "--help"]);
            expect(r.code, r.stderr).to.equal(0);
            for (const command of commands) expect(r.stdout).to.match(new RegExp(`^  ${command} `, "m")).and.include(`npm run ops -- ${command} `);
        });
    }

    it("help dlq and dlq --help --json show the group too", async () => {
        expect((await h.run(["help", "dlq"])).stdout).to.match(/^Usage: npm run ops -- dlq <inspect\|redrive> \[options\]/);
        const doc = (await h.run(["dlq", "--help", "--json"])).json();
        expect(doc.commands.map((c: any) => c.name)).to.deep.equal(["dlq inspect", "dlq redrive"]);
    });

    it("through the bin (invocation bellyfed-ops), names bellyfed-ops in help, usage errors and examples, never npm run ops", async () => {
        const io = { invocation: "bellyfed-ops" };
        const help = await h.run(["--help"], io);
        expect(help.stdout).to.match(/^Usage: bellyfed-ops <command> \[options\]$/m).and.include("bellyfed-ops queues --stack prod");
        const usage = await h.run(["queues", "--stack", "dev", "--depth", "3"], io);
        expect(usage.stderr).to.include("Usage: bellyfed-ops queues").and.include("`bellyfed-ops queues --help` for the options");
        const group = await h.run(["dlq"], io);
        expect(group.stderr).to.include("`bellyfed-ops dlq --help` shows them");
        for (const r of [help, usage, group]) expect(r.stdout + r.stderr).to.not.include("npm run ops");
    });

    it("rejects an unknown command (exit 2)", async () => {
        const r = await h.run(["purge"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include('error: unknown command "purge"');
    });

    it("rejects a group word without its sub-command (exit 2)", async () => {
        const r = await h.run(["dlq", "analytics"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("`dlq` needs a sub-command: dlq inspect, dlq redrive");
    });

    it("rejects an unknown flag and shows the command's usage (exit 2)", async () => {
        const r = await h.run(["queues", "--stack", "dev", "--depth", "3"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("Unknown option '--depth'").and.include("Usage: npm run ops -- queues");
    });

    it("rejects a missing argument (exit 2)", async () => {
        const r = await h.run(["dlq", "inspect", "--stack", "dev"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("<queue> is required");
    });

    it("rejects an extra argument (exit 2)", async () => {
        const r = await h.run(["dlq", "inspect", "a", "b", "--stack", "dev"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include('unexpected argument "b"');
    });

    it("names the stacks that exist for an unknown stack (exit 2)", async () => {
        const r = await h.run(["queues", "--stack", "staging"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include('No config for stack "staging"').and.include(`Stacks that exist: ${availableStacks().join(", ")}`);
    });

    it("requires --stack for AWS commands (exit 2)", async () => {
        const r = await h.run(["queues"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("--stack NAME is required");
    });

    it("accepts options before the command", async () => {
        h.sqsMock.on(ListQueuesCommand).resolves({ QueueUrls: [] });
        const r = await h.run(["--stack", "dev", "queues"]);
        expect(r.stderr).to.include('No queues of stack "dev" found');
    });

    it("rejects a number option that is not a whole number in range, naming it (exit 2)", async () => {
        const r = await h.run(["rules", "--stack", "dev", "--days", "0"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include('--days must be a whole number from 1 to 455, got "0"');
    });

    it("explains missing credentials (exit 2)", async () => {
        h.sqsMock.on(ListQueuesCommand).rejects(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }));
        const r = await h.run(["queues", "--stack", "dev"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("Missing credentials: no AWS credentials found").and.include("--local <url>");
    });

    it("explains a missing region (exit 2)", async () => {
        h.sqsMock.on(ListQueuesCommand).rejects(new Error("Region is missing"));
        const r = await h.run(["queues", "--stack", "dev"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("No AWS region: pass --region REGION or set AWS_REGION");
    });

    it("explains an endpoint that refuses connections (exit 2)", async () => {
        h.sqsMock.on(ListQueuesCommand).rejects(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4566"), { code: "ECONNREFUSED", $metadata: {} }));
        const r = await h.run(["queues", "--stack", "dev", "--endpoint-url", "http://127.0.0.1:4566"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("sqs:ListQueues: cannot connect (ECONNREFUSED)").and.include("--endpoint-url");
    });

    it("reports an AWS error with the operation that failed (exit 1)", async () => {
        h.sqsMock.on(ListQueuesCommand).rejects(Object.assign(new Error("User is not authorized to perform sqs:listqueues"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } }));
        const r = await h.run(["queues", "--stack", "dev"]);
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("sqs:ListQueues: access denied");
    });

    it("runs as the package's bin (bin/bellyfed-ops.js), whose help names the bin", function () {
        this.timeout(60000);
        const result = spawnSync(process.execPath, [path.join(ROOT, "bin", "bellyfed-ops.js"), "--help"], { encoding: "utf8", cwd: ROOT });
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stdout).to.include("Usage: bellyfed-ops <command> [options]").and.not.include("npm run ops");
    });

    it("run as npm run ops does (ops/cli.ts as the main module), names npm run ops, and the bin as the alternative", function () {
        this.timeout(60000);
        const result = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, "ops", "cli.ts"), "--help"], { encoding: "utf8", cwd: ROOT });
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stdout).to.include("Usage: npm run ops -- <command> [options]     (or: bellyfed-ops <command> [options])");
    });

    it("keeps the AWS SDK's multi-line NodeVersionSupportWarning out of the bin's output (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED)", function () {
        this.timeout(60000);
        const pattern = JSON.stringify({ source: ["bellyfed.restaurants"] });
        const event = JSON.stringify({ source: "bellyfed.restaurants", "detail-type": "RestaurantViewed", detail: {} });
        // --aws builds an EventBridge client (where the SDK warns on Node < 22); nothing listens on port 9.
        const argv = ["pattern", "test", "--pattern", pattern, "--event", event, "--aws", "--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1"];
        const env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" };
        delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
        const result = spawnSync(process.execPath, [path.join(ROOT, "bin", "bellyfed-ops.js"), ...argv], { encoding: "utf8", cwd: ROOT, env });
        expect(result.status, result.stderr).to.equal(2);
        expect(result.stderr).to.include("cannot connect (ECONNREFUSED)").and.not.include("NodeVersionSupportWarning");
    });

    it("prints one JSON document with the error on stdout when a command fails with --json", async () => {
        const r = await h.run(["queues", "--stack", "staging", "--json"]);
        expect(r.code).to.equal(2);
        expect(r.json()).to.deep.equal({ error: { message: `No config for stack "staging" (no Pulumi.staging.yaml). Stacks that exist: ${availableStacks().join(", ")}`, exitCode: 2 } });
    });

    it("prints the error document for a failed AWS call and for bad usage alike", async () => {
        h.sqsMock.on(ListQueuesCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } }));
        const failed = await h.run(["queues", "--stack", "dev", "--json"]);
        expect(failed.json().error).to.deep.include({ exitCode: 1 }).and.have.property("message").that.includes("access denied");
        const usage = await h.run(["queues", "--stack", "dev", "--json", "--depth", "3"]);
        expect(usage.json().error).to.include({ exitCode: 2 });
    });

    it("shows --stack as optional with --local in the usage of the commands that work on both", async () => {
        for (const command of [["queues"], ["dlq", "inspect"], ["dlq", "redrive"], ["rules"], ["events", "put"]]) {
            const r = await h.run([...command, "--help"]);
            expect(r.stdout, command.join(" ")).to.match(/^Usage: npm run ops -- .*\(--stack NAME \| --local URL\)/m);
        }
        expect((await h.run(["rules", "cleanup", "--help"])).stdout).to.match(/^Usage: npm run ops -- rules cleanup --unused --stack NAME /m);
    });

    it("says in dlq inspect's help that reading adds to each message's ApproximateReceiveCount", async () => {
        const r = await h.run(["dlq", "inspect", "--help"]);
        expect(r.stdout.replace(/\s+/g, " ")).to.include("every read adds 1 to each message's ApproximateReceiveCount");
    });

    describe("--stack outside this repository", () => {
        let dir: string;
        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "ops-cwd-"));
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("reads the stacks of the Pulumi project in or above the current directory", async () => {
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: bellyfed\nruntime: nodejs\n");
            fs.writeFileSync(path.join(dir, "Pulumi.qa.yaml"), "config: {}\n");
            fs.mkdirSync(path.join(dir, "sub"));
            const r = await h.run(["queues", "--stack", "prod"], { cwd: path.join(dir, "sub") });
            expect(r.code).to.equal(2);
            expect(r.stderr).to.include('No config for stack "prod" (no Pulumi.prod.yaml). Stacks that exist: qa');
        });

        it("outside any Pulumi project (and outside a checkout), has no stack files: --stack is the stack tag's value alone", () => {
            expect(findProjectDir(dir, dir)).to.equal(undefined);
            expect(() => checkStack(undefined, "anything")).to.not.throw();
            expect(stackQueueDepth(undefined, "anything")).to.deep.equal({ value: 1000, source: "the ProcessedQueue default" });
        });

        it("run from a checkout outside any project, falls back to the checkout's stacks", () => {
            expect(findProjectDir(dir)).to.equal(ROOT);
        });
    });
});
