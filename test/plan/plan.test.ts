import { execFile } from "child_process";
import { expect } from "chai";
import * as path from "path";
import { promisify } from "util";
import { compareCodePoints } from "../../components/codePointOrder";
import { runPlanCli } from "../../plan/cli";
import { planStack } from "../../plan/plan";
import { StackConfigError } from "../../stacks/config";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "../..");
const plan = (...args: string[]) => run(process.execPath, ["-r", "ts-node/register/transpile-only", "plan/cli.ts", ...args], { cwd: ROOT });
/** The plan CLI under a given locale (Node's ICU reads LC_ALL / LANG, with or without OS locales). */
const planInLocale = (locale: string, ...args: string[]) =>
    run(process.execPath, ["-r", "ts-node/register/transpile-only", "plan/cli.ts", ...args], {
        cwd: ROOT,
        env: { ...process.env, LC_ALL: locale, LANG: locale },
        maxBuffer: 16 * 1024 * 1024,
    });

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

    it("is the same JSON document under any locale (Thai collation included)", async () => {
        const [thai, c] = await Promise.all([planInLocale("th_TH.UTF-8", "--stack", "dev", "--json"), planInLocale("C", "--stack", "dev", "--json")]);
        expect(thai.stdout === c.stdout, "the dev plan differs between LC_ALL=th_TH.UTF-8 and LC_ALL=C").to.equal(true);
    });

    it("orders resources by URN code point, not by the locale's collation", async () => {
        const urns = (await planStack("dev")).resources.map((r) => r.urn);
        expect(urns).to.deep.equal([...urns].sort(compareCodePoints));
        // The dev stack has URNs that en-US collation orders differently ("$" and case are ignored first).
        expect(urns).to.not.deep.equal([...urns].sort((a, b) => a.localeCompare(b, "en-US")));
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

describe("offline plan --json when no plan can be made", function () {
    this.timeout(60000);
    const captured = () => {
        const io = { stdout: "", stderr: "", out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
        return io;
    };

    it("prints the error document on stdout for an unknown stack, exit code 2, and the message on stderr", async () => {
        const error = await plan("--stack", "nope", "--json").then(() => undefined, (e) => e);
        expect(error.code).to.equal(2);
        const message = 'No config for stack "nope". Stacks that exist: dev, local, prod';
        expect(JSON.parse(error.stdout)).to.deep.equal({ error: { message, exitCode: 2 } });
        expect(error.stderr).to.equal(`${message}\n`);
    });

    it("prints the error document for an invalid stack config, exit code 1", async () => {
        const io = captured();
        const invalid = async () => {
            throw new StackConfigError("dev", ["bellyfed:functions.query: unknown key"]);
        };
        expect(await runPlanCli(["--stack", "dev", "--json"], io, invalid)).to.equal(1);
        expect(JSON.parse(io.stdout)).to.deep.equal({ error: { message: 'Invalid config for stack "dev":\n  - bellyfed:functions.query: unknown key', exitCode: 1 } });
        expect(io.stderr).to.include("bellyfed:functions.query: unknown key");
    });

    it("prints the error document for bad usage, exit code 2", async () => {
        const io = captured();
        expect(await runPlanCli(["--json", "--stak", "dev"], io)).to.equal(2);
        expect(JSON.parse(io.stdout).error).to.deep.include({ exitCode: 2 });
        expect(JSON.parse(io.stdout).error.message).to.match(/--stak/);
    });

    it("prints nothing on stdout on failure without --json", async () => {
        const io = captured();
        expect(await runPlanCli(["--stack", "nope"], io)).to.equal(2);
        expect(io.stdout).to.equal("");
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

describe("code point order (components/codePointOrder.ts)", () => {
    it("orders by code point: upper case before _ before lower case, whatever the locale", () => {
        expect(["a", "_", "B", "$"].sort(compareCodePoints)).to.deep.equal(["$", "B", "_", "a"]);
    });

    it("orders characters beyond the Basic Multilingual Plane after U+FFFF (code points, not UTF-16 units)", () => {
        expect(["\u{1F600}", "\uFFFF"].sort(compareCodePoints)).to.deep.equal(["\uFFFF", "\u{1F600}"]);
    });

    it("puts a prefix before the longer string, and finds equal strings equal", () => {
        expect(["ab", "a"].sort(compareCodePoints)).to.deep.equal(["a", "ab"]);
        expect(compareCodePoints("same", "same")).to.equal(0);
    });
});
