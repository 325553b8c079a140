import { expect } from "chai";
import { runOps } from "../../ops/cli";
import { LocalRuntime } from "../../local/runtime";
import { eventually, request, startTestRuntime } from "../support/localRuntime";

/** The ops CLI (`--local URL`) against the real local runtime: the `/_local` contract both sides rely on. */
async function ops(argv: string[]): Promise<{ code: number; stdout: string; stderr: string; json: any }> {
    let stdout = "";
    let stderr = "";
    const code = await runOps(argv, { stdout: { write: (t: string) => ((stdout += t), true) } as any, stderr: { write: (t: string) => ((stderr += t), true) } as any, isTTY: false });
    let json: any;
    try {
        json = JSON.parse(stdout);
    } catch {
        json = undefined;
    }
    return { code, stdout, stderr, json };
}

describe("ops CLI against the local runtime", function () {
    this.timeout(30_000);
    let rt: LocalRuntime;
    let queue: string;
    before(async () => {
        rt = await startTestRuntime({ failRate: 1, timeScale: 0.002, minFunctionTimeoutMs: 500 });
        queue = rt.queues.find((q) => q.dlq)!.name;
    });
    after(() => rt?.stop());

    it("dlq inspect and dlq redrive --only-valid move the valid messages back and leave the poison", async () => {
        const good = await ops(["events", "put", "RestaurantViewed", "--local", rt.urls.http, "--json", "--detail", JSON.stringify({ version: 1, restaurantId: "r-pho-saigon", viewedAt: new Date().toISOString(), requestId: "ops-1" })]);
        expect(good.code, good.stderr).to.equal(0);
        rt.sendMessage(queue, "not json at all");
        await eventually(() => rt.state(), (s) => s.queues.find((q) => q.name === queue)!.dlq!.visible === 2, { what: "2 messages in the DLQ" });

        const inspect = await ops(["dlq", "inspect", queue, "--local", rt.urls.http, "--json"]);
        expect(inspect.code, inspect.stderr).to.equal(1); // poison found
        const dlqBefore = (await request(`${rt.urls.http}/_local/queues/${queue}/dlq`)).body.messages.length;
        expect(dlqBefore, "inspect consumed nothing").to.equal(2);

        rt.setFailRate(0);
        const redrive = await ops(["dlq", "redrive", queue, "--local", rt.urls.http, "--only-valid", "--json"]);
        expect(redrive.json, redrive.stderr).to.include({ moved: 1, left: 1 });
        const left = (await request(`${rt.urls.http}/_local/queues/${queue}/dlq`)).body.messages.map((m: any) => m.body);
        expect(left).to.deep.equal(["not json at all"]);
        await eventually(async () => (await request(`${rt.urls.http}/restaurant/r-pho-saigon/stats`)).body.views.total, (v) => v === 1, { what: "the redriven view counted" });
    });

    it("queues reads depth and DLQ depth from /_local/state", async () => {
        const result = await ops(["queues", "--local", rt.urls.http, "--json"]);
        expect(result.stderr).to.equal("");
        expect(JSON.stringify(result.json)).to.include(queue);
    });
});
