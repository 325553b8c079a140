import { ListQueuesCommand } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as path from "path";
import { availableStacks } from "../../plan/stackFiles";
import { OpsHarness } from "./support";

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

    it("runs as the package's bin (bin/bellyfed-ops.js)", function () {
        this.timeout(60000);
        const root = path.resolve(__dirname, "..", "..");
        const result = spawnSync(process.execPath, [path.join(root, "bin", "bellyfed-ops.js"), "--help"], { encoding: "utf8", cwd: root });
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stdout).to.include("Usage: npm run ops -- <command> [options]");
    });
});
