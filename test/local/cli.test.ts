import { spawn } from "child_process";
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { AddressInfo } from "net";
import { main, parseCliArgs, UsageError, USAGE } from "../../local/cli";
import { LocalModelError } from "../../local/model";
import { formatMs, POISON_BUDGET_MS } from "../../local/timing";
import { PROJECT_ROOT, StackFileError } from "../../plan/stackFiles";
import { StackConfigError } from "../../stacks/config";
import { eventually } from "../support/localRuntime";

/** Runs the CLI in process; `stopAfter` is called with the output once the banner is out, and stops it. */
async function runCli(argv: string[], stopAfter?: (out: string) => Promise<void> | void): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) }, (stop) => {
        Promise.resolve(stopAfter?.(out)).then(stop, stop);
    });
    return { code, out, err };
}

describe("local runtime CLI (npm start)", function () {
    this.timeout(30_000);

    describe("flags", () => {
        it("defaults to stack dev on port 3000, on disk, printing the flow", () => {
            expect(parseCliArgs([])).to.deep.equal({ stack: "dev", port: 3000, memory: false, quiet: false, failRate: 0, timeScale: undefined, logs: false });
        });

        it("reads every flag", () => {
            expect(parseCliArgs(["--stack", "prod", "--port", "0", "--memory", "--quiet", "--fail-rate", "0.2", "--time-scale", "0.01", "--logs"])).to.deep.equal({
                stack: "prod",
                port: 0,
                memory: true,
                quiet: true,
                failRate: 0.2,
                timeScale: 0.01,
                logs: true,
            });
        });

        const bad: [string[], RegExp][] = [
            [["--port", "http"], /--port must be a whole number from 0 to 65535/],
            [["--port", "70000"], /--port must be a whole number/],
            // Number() reads these as 3100 and 1000: "whole number" means decimal digits only.
            [["--port", "0xC1C"], /--port must be a whole number from 0 to 65535 in decimal digits \(0 = a free port\), got "0xC1C"/],
            [["--port", "1e3"], /--port must be a whole number .*, got "1e3"/],
            [["--port=-1"], /--port must be a whole number .*, got "-1"/],
            [["--port", " 80"], /--port must be a whole number .*, got " 80"/],
            [["--port", ""], /--port must be a whole number .*, got ""/],
            [["--fail-rate", "2"], /--fail-rate must be a probability from 0 to 1 as a decimal number \(e\.g\. 0\.3\), got "2"/],
            [["--fail-rate", "1e-1"], /--fail-rate must be a probability .*, got "1e-1"/],
            [["--fail-rate", "0x0"], /--fail-rate must be a probability .*, got "0x0"/],
            [["--fail-rate=-0"], /--fail-rate must be a probability .*, got "-0"/],
            [["--time-scale", "0"], /--time-scale must be a decimal number > 0 and <= 1/],
            [["--time-scale", "1e-2"], /--time-scale must be a decimal number > 0 and <= 1 .*, got "1e-2"/],
            [["--stak", "dev"], /Unknown option '--stak'/],
        ];
        for (const [argv, message] of bad) {
            it(`rejects ${argv.join(" ")} naming the flag`, () => expect(() => parseCliArgs(argv)).to.throw(UsageError, message));
        }

        it("takes the edges of each range in decimal", () => {
            const parsed = [parseCliArgs(["--port", "65535", "--fail-rate", "1", "--time-scale", "1"]), parseCliArgs(["--port", "00080", "--fail-rate", ".5", "--time-scale", "0.0001"])];
            expect(parsed.map((p) => p !== "help" && [p.port, p.failRate, p.timeScale])).to.deep.equal([
                [65535, 1, 1],
                [80, 0.5, 0.0001],
            ]);
        });

        it("exits 2 with the usage for a bad flag", async () => {
            const { code, err } = await runCli(["--port", "x"]);
            expect(code).to.equal(2);
            expect(err).to.match(/Usage: npm start --/);
        });
    });

    it("--help states the default time scale's poison budget from the constant timing.ts uses", () => {
        expect(USAGE.replace(/\s+/g, " ")).to.include(`a poison message reaches its DLQ within ${formatMs(POISON_BUDGET_MS)})`);
        expect(formatMs(POISON_BUDGET_MS)).to.equal("5 s");
    });

    describe("start-up errors", () => {
        const failing = (error: Error) => async () => {
            throw error;
        };
        const expected: [string, Error][] = [
            ["an invalid stack config", new StackConfigError("dev", ["bellyfed:logRetentionDays: must be one of CloudWatch Logs' retention values: 1, 3, 5"])],
            ["a malformed stack file", new StackFileError('Pulumi.dev.yaml: must be a YAML mapping with a "config:" key')],
            ["a graph the runtime cannot follow", new LocalModelError("aws:sqs/queue:Queue \"q\"", "redrivePolicy names no queue")],
        ];
        for (const [what, error] of expected) {
            it(`exits 1 with only the message, no stack trace, for ${what}`, async () => {
                let err = "";
                const code = await main(["--memory"], { out: () => undefined, err: (t) => (err += t) }, () => undefined, failing(error));
                expect(code).to.equal(1);
                expect(err).to.equal(`${error.message}\n`);
            });
        }

        it("recognizes a StackConfigError from another copy of stacks/config (the program is re-evaluated) by its name", async () => {
            const foreign = Object.assign(new Error('Invalid config for stack "dev":\n  - bellyfed:logRetentionDays: bad'), { name: "StackConfigError" });
            let err = "";
            expect(await main([], { out: () => undefined, err: (t) => (err += t) }, () => undefined, failing(foreign))).to.equal(1);
            expect(err).to.equal(`${foreign.message}\n`);
        });

        it("keeps the stack trace of an unexpected error", async () => {
            let err = "";
            const code = await main([], { out: () => undefined, err: (t) => (err += t) }, () => undefined, failing(new TypeError("x is undefined")));
            expect(code).to.equal(1);
            expect(err).to.match(/^Could not start the local runtime: TypeError: x is undefined\n\s+at /);
        });
    });

    it("exits 1 naming the stacks that exist for a stack with no config", async () => {
        const { code, err } = await runCli(["--stack", "staging"]);
        expect(code).to.equal(1);
        expect(err).to.match(/No config for stack "staging" \(no Pulumi\.staging\.yaml\)\. Stacks that exist: dev, .*prod/);
    });

    it("exits 1 with a clear message when the port is in use", async () => {
        const blocker = http.createServer();
        await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
        const port = (blocker.address() as AddressInfo).port;
        try {
            const { code, err } = await runCli(["--port", String(port), "--memory"]);
            expect(code).to.equal(1);
            expect(err).to.equal(`Port ${port} on 127.0.0.1 is already in use (another local runtime?). Stop it, or pick another port with --port N (--port 0 picks a free one).\n`);
        } finally {
            blocker.close();
        }
    });

    it("prints the URLs, routes, seeded ids and time scale, serves until stopped, then stops cleanly", async () => {
        let served = 0;
        const { code, out } = await runCli(["--port", "0", "--memory", "--quiet"], async (banner) => {
            const base = /HTTP API\s+(http:\/\/\S+)/.exec(banner)![1];
            served = (await fetch(`${base}/restaurant/r-nasi-lemak-house`)).status;
        });
        expect(code).to.equal(0);
        expect(served).to.equal(200);
        expect(out).to.match(/HTTP API\s+http:\/\/127\.0\.0\.1:\d+/);
        expect(out).to.match(/DynamoDB\s+http:\/\/127\.0\.0\.1:\d+/);
        expect(out).to.match(/EventBridge\s+http:\/\/127\.0\.0\.1:\d+\/_aws\/events/);
        expect(out).to.match(/State\s+http:\/\/127\.0\.0\.1:\d+\/_local\/state/);
        expect(out).to.match(/Time scale\s+0\.\d+ \(1 s on AWS = /);
        // Routes sorted by path, the same on every start.
        expect(out).to.match(/^Routes\n {2}GET \/restaurant\/\{id\} +-> \S+\n {2}GET \/restaurant\/\{id\}\/stats +-> /m);
        // An in-memory runtime's logs: a folder of its own (removed here: every test run has another port).
        const logs = /Function logs (\S+)\/<function>\.log/.exec(out)![1];
        expect(logs).to.match(/^\.local-data\/dev\/logs\/memory-\d+$/);
        fs.rmSync(path.join(PROJECT_ROOT, logs), { recursive: true, force: true });
        expect(out).to.match(/Sample restaurants \(seeded now\): r-nasi-lemak-house, /);
        expect(out).to.match(/curl -i http:\/\/127\.0\.0\.1:\d+\/restaurant\/r-nasi-lemak-house/);
        expect(out).to.match(/Stopped\.\n$/);
    });

    it("run without npm, as the README tells supervisors to, exits 0 on SIGTERM only once it has stopped and freed its port", async function () {
        this.timeout(60_000);
        const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "local/cli.ts", "--port", "0", "--memory", "--quiet"], { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (chunk) => (out += chunk));
        const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
        await eventually(async () => out, (text) => /Ctrl-C to stop\./.test(text), { timeoutMs: 45_000, what: "the banner" });
        const base = /HTTP API\s+(http:\/\/\S+)/.exec(out)![1];
        child.kill("SIGTERM");
        expect(await exited).to.equal(0);
        expect(out).to.match(/Stopped\.\n$/);
        const logs = /Function logs (\S+)\/<function>\.log/.exec(out)![1];
        fs.rmSync(path.join(PROJECT_ROOT, logs), { recursive: true, force: true });
        // Nothing listens on the port any more: a supervisor restarting at once can bind it.
        expect(await fetch(base).then(() => "answered", () => "refused")).to.equal("refused");
    });
});
