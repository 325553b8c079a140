import { execFile } from "child_process";
import { expect } from "chai";
import * as path from "path";
import { promisify } from "util";
import { planStack } from "../../plan/plan";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "../..");
const plan = (...args: string[]) => run(process.execPath, ["-r", "ts-node/register/transpile-only", "plan/cli.ts", ...args], { cwd: ROOT });

describe("offline plan (npm run plan)", function () {
    this.timeout(60000);

    for (const stack of ["dev", "prod"]) {
        it(`prints one JSON document for ${stack} in the contract's shape, with no violations`, async () => {
            const { stdout } = await plan("--stack", stack, "--json");
            const doc = JSON.parse(stdout);
            expect(Object.keys(doc)).to.deep.equal(["project", "stack", "resources", "outputs", "violations"]);
            expect([doc.project, doc.stack]).to.deep.equal(["bellyfed", stack]);
            for (const r of doc.resources) expect(Object.keys(r)).to.deep.equal(["urn", "type", "name", "parent", "inputs", "outputs"]);
            expect(doc.violations).to.deep.equal([]);
        });
    }

    it("gives every custom resource an id, and ARNs in arn:aws:<service>:<region>:<account> form", async () => {
        const doc = await planStack("dev");
        for (const r of doc.resources.filter((x) => !x.type.startsWith("bellyfed:"))) {
            expect(r.outputs.id, r.urn).to.be.a("string").and.not.equal("");
            if (r.outputs.arn) expect(r.outputs.arn, r.urn).to.match(/^arn:aws:[a-z0-9-]+:(us-east-1)?:(123456789012)?:.+/);
        }
    });

    it("links children to their parent component by URN", async () => {
        const doc = await planStack("dev");
        const urns = new Set(doc.resources.map((r) => r.urn));
        const fn = doc.resources.find((r) => r.type === "aws:lambda/function:Function")!;
        expect(urns.has(fn.parent!)).to.equal(true);
        expect(doc.resources.find((r) => r.urn === fn.parent)!.type).to.equal("bellyfed:compute:ServerlessFunction");
    });

    it("is the same document on every run", async () => {
        const [a, b] = [await planStack("prod"), await planStack("prod")];
        expect(JSON.stringify(a)).to.equal(JSON.stringify(b));
    });

    it("prints the resource tree with key settings in human form", async () => {
        const { stdout } = await plan("--stack", "dev");
        expect(stdout).to.match(/\+ aws:apigatewayv2\/route:Route\s+query-api-restaurant\s+routeKey=GET \/restaurant\/\{id\}/);
        expect(stdout).to.include("Policy checks: no violations");
    });

    it("exits 2 naming the stacks that exist for an unknown stack", async () => {
        const error = await plan("--stack", "nope").then(() => undefined, (e) => e);
        expect(error.code).to.equal(2);
        expect(error.stderr).to.include('No config for stack "nope"').and.include("dev, local, prod");
    });
});

describe("offline plan output through a slow pipe", function () {
    this.timeout(60000);

    it("delivers the whole JSON document to a reader that starts late (no truncation at the pipe buffer)", async () => {
        // The reader sleeps first: only the pipe buffer (64 KiB) is free while the plan writes ~160 KiB.
        const script = `"${process.execPath}" -r ts-node/register/transpile-only plan/cli.ts --stack prod --json | (sleep 2; cat)`;
        const { stdout } = await run("sh", ["-c", script], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
        expect(stdout.length).to.be.greaterThan(65536);
        expect(JSON.parse(stdout).stack).to.equal("prod");
    });
});
