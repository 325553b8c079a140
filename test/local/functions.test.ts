import { expect } from "chai";
import { LocalFunction, LocalFunctionOptions } from "../../local/functions";
import { FunctionSpec } from "../../local/model";

/** A function spec around hand-written module code (what CallbackFunction would upload). */
function spec(name: string, code: string, extra: Partial<FunctionSpec> = {}): FunctionSpec {
    return { urn: name, logicalName: name, name, arn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`, code, environment: {}, timeoutSeconds: 3, memoryMb: 128, runtime: "nodejs22.x", ...extra };
}

describe("local functions (worker threads)", function () {
    const running: LocalFunction[] = [];
    const start = (s: FunctionSpec, options: Partial<LocalFunctionOptions> = {}) => {
        const fn = new LocalFunction(s, { env: {}, timeoutMs: 2000, maxEnvironments: 2, ...options });
        running.push(fn);
        return fn;
    };
    after(() => Promise.all(running.map((f) => f.stop())));

    it("gives each function its own environment, even when the variables clash", async () => {
        const code = `exports.handler = async () => ({ table: process.env.TABLE, endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });`;
        const a = start(spec("env-a", code), { env: { TABLE: "a", AWS_ENDPOINT_URL_DYNAMODB: "http://a" } });
        const b = start(spec("env-b", code), { env: { TABLE: "b", AWS_ENDPOINT_URL_DYNAMODB: "http://b" } });
        const [ra, rb] = await Promise.all([a.invoke({}), b.invoke({})]);
        expect([ra.ok && ra.value, rb.ok && rb.value]).to.deep.equal([
            { table: "a", endpoint: "http://a" },
            { table: "b", endpoint: "http://b" },
        ]);
        expect(process.env.TABLE).to.equal(undefined);
    });

    it("runs the module once per environment (the cold start) and reuses it", async () => {
        const fn = start(spec("cold", `let n = 0; exports.handler = async () => ++n;`), { maxEnvironments: 1 });
        const results = [];
        for (let i = 0; i < 3; i++) results.push(await fn.invoke({}));
        expect(results.map((r) => r.ok && r.value)).to.deep.equal([1, 2, 3]);
        expect(fn.counters()).to.include({ invocations: 3, errors: 0, coldStarts: 1 });
    });

    it("returns a thrown error as a failed invocation and counts it", async () => {
        const fn = start(spec("throws", `exports.handler = async () => { throw new TypeError("bad input"); };`));
        const result = await fn.invoke({});
        expect(result).to.deep.include({ ok: false, timedOut: false });
        expect(!result.ok && result.error).to.include({ errorType: "TypeError", errorMessage: "bad input" });
        expect(fn.counters().errors).to.equal(1);
    });

    it("kills an invocation at its timeout and starts a fresh environment for the next one", async () => {
        const fn = start(spec("hangs", `let calls = 0; exports.handler = async (e) => { calls++; if (e.hang) await new Promise(() => {}); return calls; };`), { timeoutMs: 200, maxEnvironments: 1 });
        const hung = await fn.invoke({ hang: true });
        expect(hung).to.deep.include({ ok: false, timedOut: true });
        expect(!hung.ok && hung.error).to.deep.equal({ errorType: "Sandbox.Timedout", errorMessage: "Task timed out after 0.20 seconds" });
        const next = await fn.invoke({});
        expect(next.ok && next.value).to.equal(1); // a new module instance: the killed one is gone
        expect(fn.counters()).to.include({ timeouts: 1, coldStarts: 2 });
    });

    it("reports a killed invocation with the time until which what it sized to its remaining time may last (its deadline)", async () => {
        const fn = start(spec("killed", `exports.handler = async () => new Promise(() => {});`), { timeoutMs: 300 });
        const before = Date.now();
        const result = await fn.invoke({});
        expect(!result.ok && result.killed?.until).to.be.within(before + 300, Date.now());
    });

    it("reports an environment that crashed under its invocation as killed, and a thrown error as not", async () => {
        const crashes = start(spec("crashes", `exports.handler = async () => { setImmediate(() => process.exit(3)); return new Promise(() => {}); };`), { timeoutMs: 5000 });
        const before = Date.now();
        const crashed = await crashes.invoke({});
        expect(crashed).to.deep.include({ ok: false, timedOut: false });
        expect(!crashed.ok && crashed.killed?.until).to.be.at.least(before + 5000);
        const throws = start(spec("throws-again", `exports.handler = async () => { throw new Error("no"); };`));
        const thrown = await throws.invoke({});
        expect(!thrown.ok && thrown.killed).to.equal(undefined);
    });

    it("fails invocations with the init error when the module throws while loading", async () => {
        const fn = start(spec("init-fails", `throw new Error("Missing environment variable(s): TABLE");`));
        const result = await fn.invoke({});
        expect(!result.ok && result.error.errorMessage).to.equal("Missing environment variable(s): TABLE");
        let warmError: Error | undefined;
        await fn.warm().catch((e) => (warmError = e));
        expect(warmError?.message).to.equal("Missing environment variable(s): TABLE");
    });

    it("answers getRemainingTimeInMillis in real milliseconds left before the timeout, as Lambda does", async () => {
        const code = `exports.handler = async (e, ctx) => { const first = ctx.getRemainingTimeInMillis(); await new Promise((r) => setTimeout(r, 300)); return [first, ctx.getRemainingTimeInMillis()]; };`;
        const fn = start(spec("clock", code, { timeoutSeconds: 30 }), { timeoutMs: 2000 });
        const result = await fn.invoke({});
        const [first, later] = (result.ok && (result.value as number[])) || [];
        expect(first).to.be.within(1900, 2000);
        expect(first - later).to.be.within(290, 450); // 300 real ms later: about 300 ms less, not a scaled share
    });

    it("passes Lambda's context: request id, function name and ARN, memory", async () => {
        const fn = start(spec("ctx", `exports.handler = async (e, c) => ({ id: c.awsRequestId, name: c.functionName, arn: c.invokedFunctionArn, mem: c.memoryLimitInMB });`));
        const result = await fn.invoke({});
        expect(result.ok && result.value).to.deep.equal({ id: result.requestId, name: "ctx", arn: "arn:aws:lambda:us-east-1:123456789012:function:ctx", mem: "128" });
    });

    it("supports callback-style handlers", async () => {
        const fn = start(spec("callback", `exports.handler = (e, c, cb) => setTimeout(() => cb(null, { got: e.x }), 1);`));
        const result = await fn.invoke({ x: 7 });
        expect(result.ok && result.value).to.deep.equal({ got: 7 });
    });
});
