/**
 * The ops CLI against the real local runtime (in memory, on a free port): DLQ inspect and redrive move
 * the right messages and lose none.
 */
import { expect } from "chai";
import { LocalRuntime } from "../../local/runtime";
import { ProgramRun } from "../../plan/engine";
import { stackGraph } from "../support/graph";
import { eventually, startTestRuntime } from "../support/localRuntime";
import { envelope, OpsHarness, validDetail } from "./support";

const RESTAURANT = "r-nasi-lemak-house";

describe("ops CLI against the local runtime", function () {
    this.timeout(120000);
    let runtime: LocalRuntime;
    let url: string;
    let queue: string;
    let plan: ProgramRun<unknown>;
    const h = new OpsHarness();
    const ops = (...argv: string[]) => h.run([...argv, "--local", url], { sleep: (ms) => new Promise((r) => setTimeout(r, ms)), planStack: async () => plan });
    const analytics = async () => (await runtime.state()).queues.find((q) => q.logicalName === "analytics-queue")!;
    const views = async () => {
        const response = await fetch(`${url}/restaurant/${RESTAURANT}/stats`);
        return ((await response.json()) as { views: { total: number } }).views.total;
    };
    const put = (detail: object, ...flags: string[]) => ops("events", "put", "RestaurantViewed", "--detail", JSON.stringify(detail), ...flags);

    before(async () => {
        plan = (await stackGraph("dev")).run;
        runtime = await startTestRuntime({ stack: "dev" });
        url = runtime.urls.http;
        queue = (await analytics()).name;
        // Every consumer invocation fails: valid and poison events alike end in the DLQ.
        runtime.setFailRate(1);
        for (const requestId of ["ops-1", "ops-2"]) {
            const r = await put({ version: 1, restaurantId: RESTAURANT, viewedAt: "2024-05-01T12:00:00Z", requestId });
            expect(r.code, r.stderr).to.equal(0);
        }
        expect((await put({ version: 1, restaurantId: "bad id!", viewedAt: "2024-05-01T12:00:00Z", requestId: "ops-3" }, "--allow-invalid")).code).to.equal(0);
        runtime.sendMessage(queue, "{not json");
        await eventually(analytics, (q) => q.dlq!.visible === 4 && q.visible + q.inFlight === 0, { what: "4 messages in the analytics DLQ", timeoutMs: 60000 });
        runtime.setFailRate(0);
    });

    after(async () => {
        await runtime?.stop();
    });

    it("queues shows the DLQ depth, the route's target DLQ under its queue, and calls the queue unhealthy", async () => {
        const r = await ops("queues", "--json");
        expect(r.code).to.equal(1);
        expect(r.json().queues).to.have.length(1);
        const [q] = r.json().queues;
        expect(q).to.deep.include({ name: "analytics-queue", healthy: false });
        expect(q.dlq.visible).to.equal(4);
        expect(q.targetDlqs).to.deep.equal([{ name: (plan.outputs.rules as any[])[0].targetDlqName, visible: 0 }]);
    });

    it("queues names the command to run next against the same local runtime, ready to paste", async () => {
        const r = await ops("queues");
        expect(r.stdout).to.include(`DLQ holds 4 message(s): run \`npm run ops -- dlq inspect analytics-queue --local ${url}\``);
    });

    it("dlq inspect groups the 2 valid and 2 poison messages and leaves all 4 in the DLQ", async () => {
        const r = await ops("dlq", "inspect", "analytics-queue", "--json");
        expect(r.code).to.equal(1);
        const doc = r.json();
        expect(doc.valid.count).to.equal(2);
        expect(doc.invalid.groups.map((g: any) => g.issues[0].path)).to.have.members(["detail.restaurantId", "(body)"]);
        expect((await analytics()).dlq!.visible).to.equal(4);
    });

    it("dlq redrive --only-valid moves the 2 valid messages, which are counted once each, and leaves the 2 poison ones", async () => {
        const poison = runtime.dlqMessages(queue).messages.filter((m) => m.body === "{not json" || m.body.includes("bad id!")).map((m) => m.messageId);
        const r = await ops("dlq", "redrive", "analytics-queue", "--only-valid", "--json");
        expect(r.json()).to.include({ moved: 2, expected: 2, left: 2 });
        await eventually(views, (n) => n === 2, { what: "2 views of the redriven events" });
        await eventually(analytics, (q) => q.visible + q.inFlight === 0, { what: "the analytics queue to drain" });
        expect(runtime.dlqMessages(queue).messages.map((m) => m.messageId)).to.have.members(poison);
    });

    it("dlq inspect and redrive --target-dlq --only-valid work on the route's target DLQ (events EventBridge could not deliver)", async () => {
        const targetDlq = (await analytics()).targetDlqs[0].name;
        // What EventBridge puts on the target DLQ when it cannot deliver: the event itself (recent: consumers refuse stale events).
        const time = new Date().toISOString();
        runtime.sendMessage(targetDlq, envelope(validDetail(RESTAURANT), { id: "evt-undelivered-1", time }));
        runtime.sendMessage(targetDlq, envelope({ ...validDetail(RESTAURANT), restaurantId: "bad id!" }, { id: "evt-undelivered-2", time }));

        const inspect = await ops("dlq", "inspect", "analytics-queue", "--target-dlq", "--json");
        expect(inspect.code, inspect.stderr).to.equal(1);
        expect(inspect.json()).to.deep.include({ dlq: targetDlq, kind: "target-dlq", read: 2 });
        expect([inspect.json().valid.count, inspect.json().invalid.count]).to.deep.equal([1, 1]);
        expect(runtime.dlqMessages(queue, true).messages).to.have.length(2);

        const redrive = await ops("dlq", "redrive", "analytics-queue", "--target-dlq", "--only-valid", "--json");
        expect(redrive.json()).to.include({ dlq: targetDlq, moved: 1, expected: 1, left: 1 });
        await eventually(views, (n) => n === 3, { what: "the redriven undelivered view counted" });
        expect(runtime.dlqMessages(queue, true).messages.map((m) => JSON.parse(m.body).id)).to.deep.equal(["evt-undelivered-2"]);
    });

    it("rules shows each rule's pattern, state, declaring route and targets with their DLQ and retry policy, from the runtime's EventBridge endpoint", async () => {
        const route = (plan.outputs.rules as any[])[0];
        const r = await ops("rules", "--json");
        expect(r.code, r.stderr).to.equal(0);
        const [rule] = r.json().rules;
        expect(rule).to.deep.include({ name: route.ruleName, state: "ENABLED", pattern: route.pattern, declaredBy: route.name, flags: [] });
        expect(rule.matched).to.be.greaterThan(0);
        expect(rule.targets).to.have.length(1);
        expect(rule.targets[0].deadLetterArn).to.equal(route.targetDlqArn);
        expect(rule.targets[0].retryPolicy).to.deep.equal({ maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86400 });
    });

    it("dlq inspect takes a route (<bus component>/<route>) and the queue's URL, as on AWS", async () => {
        const route = (plan.outputs.rules as any[])[0];
        // Without the offline plan (as in an installed package): the state's rules and target DLQ names say it.
        const byRoute = await h.run(["dlq", "inspect", route.name, "--json", "--local", url], { planStack: async () => Promise.reject(new Error("no plan here")) });
        expect(byRoute.json(), byRoute.stderr).to.include({ dlq: route.targetDlqName, kind: "target-dlq" });
        const byUrl = await ops("dlq", "inspect", (await analytics()).url, "--json");
        expect(byUrl.json(), byUrl.stderr).to.include({ processedQueue: queue, kind: "dlq" });
    });
});
