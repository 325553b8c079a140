import { expect } from "chai";
import { CapturedResource, ProgramRun } from "../../plan/engine";
import { buildLocalModel, LocalModel, LocalModelError, TYPES } from "../../local/model";
import { DEFAULT_LEASE_MARGIN_MS } from "../../handlers/analyticsConsumer/viewCounter";
import { defaultTimeScale, displayMs, KILLED_INVOCATION_GRACE_MS, parseTimeScale, Timing } from "../../local/timing";
import { Graph, stackGraph } from "../support/graph";

/** A captured run from hand-written resources (for graphs the stacks never produce). */
function runOf(resources: Partial<CapturedResource>[]): ProgramRun<unknown> {
    return {
        project: "p",
        stack: "s",
        outputs: {},
        result: undefined,
        functionCode: new Map(),
        resources: resources.map((r, i) => ({ urn: `urn:${i}`, type: "x", name: `r${i}`, custom: true, inputs: {}, outputs: {}, ...r })),
    };
}

describe("local model (built from the resource graph)", () => {
    let graph: Graph;
    let model: LocalModel;
    before(async () => {
        graph = await stackGraph("dev");
        model = buildLocalModel(graph.run);
    });

    it("serves every API route with the function its integration invokes", () => {
        const expected = graph.ofType(TYPES.route).map((route) => {
            const integration = graph.byOutput("id", route.inputs.target.replace("integrations/", ""))!;
            return [route.inputs.routeKey, graph.byOutput("invokeArn", integration.inputs.integrationUri)!.outputs.name];
        });
        expect(model.apis.flatMap((a) => a.routes.map((r) => [r.routeKey, r.functionName]))).to.have.deep.members(expected);
        expect(expected.map(([key]) => key)).to.include.members(["GET /restaurant/{id}", "GET /restaurant/{id}/stats"]);
    });

    it("lists routes, functions, tables, queues and rules in one order, whatever order the program registered them in", () => {
        const shape = (m: LocalModel) => ({
            routes: m.apis.flatMap((a) => a.routes.map((r) => r.routeKey)),
            functions: m.functions.map((f) => f.logicalName),
            tables: m.tables.map((t) => t.logicalName),
            queues: m.queues.map((q) => q.logicalName),
            rules: m.rules.map((r) => r.logicalName),
        });
        const reversed = buildLocalModel({ ...graph.run, resources: [...graph.run.resources].reverse() });
        expect(shape(reversed)).to.deep.equal(shape(model));
        expect(shape(model).routes).to.deep.equal(["GET /restaurant/{id}", "GET /restaurant/{id}/stats"]);
        expect(shape(model).functions).to.deep.equal([...shape(model).functions].sort());
    });

    it("keeps the API's CORS configuration", () => {
        expect(model.apis[0].cors).to.include({ maxAge: 3600 });
        expect(model.apis[0].cors?.allowOrigins).to.deep.equal(["*"]);
    });

    it("runs every function with its serialized code and its environment", () => {
        for (const fn of graph.ofType(TYPES.fn)) {
            const spec = model.functions.find((f) => f.urn === fn.urn)!;
            expect(spec.code, fn.name).to.equal(graph.code(fn));
            expect(spec.environment, fn.name).to.deep.equal(fn.inputs.environment.variables);
            expect(spec.timeoutSeconds, fn.name).to.equal(fn.inputs.timeout);
        }
    });

    it("follows the redrive policy of the analytics queue to its DLQ", () => {
        const queue = model.queues.find((q) => q.logicalName === "analytics-queue")!;
        const dlq = graph.byOutput("arn", JSON.parse(graph.get(TYPES.queue, "analytics-queue").inputs.redrivePolicy).deadLetterTargetArn)!;
        expect(queue.redrive).to.deep.equal({ deadLetterQueue: dlq.outputs.name, maxReceiveCount: 5 });
    });

    it("routes RestaurantViewed from the platform bus to the analytics queue, with the target's DLQ", () => {
        const [rule] = model.rules;
        const bus = graph.get(TYPES.bus, "platform-bus");
        expect(rule.busName).to.equal(bus.outputs.name);
        expect(rule.pattern?.matches({ source: "bellyfed.restaurants", "detail-type": "RestaurantViewed", detail: {} })).to.equal(true);
        expect(rule.targets).to.have.length(1);
        expect(rule.targets[0]).to.include({ kind: "queue", resource: graph.get(TYPES.queue, "analytics-queue").outputs.name });
        expect(rule.targets[0].deadLetterQueue).to.be.a("string");
    });

    it("finds that the queue policies let EventBridge deliver to each rule's target and its DLQ", () => {
        const targets = model.rules.flatMap((r) => r.targets);
        expect(targets.map((t) => [t.deliveryDenied, t.deadLetterDenied])).to.deep.equal(targets.map(() => [undefined, undefined]));
        expect(model.warnings.filter((w) => /may not send/.test(w))).to.deep.equal([]);
    });

    it("polls the analytics queue for its consumer with the mapping's settings", () => {
        const esm = graph.ofType(TYPES.mapping)[0];
        expect(model.mappings).to.deep.equal([
            {
                urn: esm.urn,
                logicalName: esm.name,
                queue: graph.get(TYPES.queue, "analytics-queue").outputs.name,
                functionName: graph.byOutput("arn", esm.inputs.functionName)!.outputs.name,
                batchSize: esm.inputs.batchSize,
                batchingWindowSeconds: esm.inputs.maximumBatchingWindowInSeconds,
                maximumConcurrency: esm.inputs.scalingConfig.maximumConcurrency,
                reportBatchItemFailures: true,
                enabled: true,
            },
        ]);
    });

    it("creates each table with its key schema", () => {
        const analytics = model.tables.find((t) => t.logicalName === "analytics")!;
        expect([analytics.hashKey, analytics.rangeKey]).to.deep.equal(["restaurantId", "sk"]);
    });

    describe("graphs it cannot run", () => {
        it("a route whose target names no integration", () => {
            const run = runOf([
                { type: TYPES.api, outputs: { id: "api1" }, inputs: { protocolType: "HTTP" } },
                { type: TYPES.route, name: "r", inputs: { apiId: "api1", routeKey: "GET /x", target: "integrations/missing" } },
            ]);
            expect(() => buildLocalModel(run)).to.throw(LocalModelError, 'aws:apigatewayv2/route:Route "r": target "missing" names no aws:apigatewayv2/integration:Integration of this stack');
        });

        it("a queue whose redrive policy names no queue", () => {
            const run = runOf([{ type: TYPES.queue, name: "q", outputs: { name: "q", arn: "arn:q", url: "u" }, inputs: { redrivePolicy: '{"deadLetterTargetArn":"arn:nope","maxReceiveCount":5}' } }]);
            expect(() => buildLocalModel(run)).to.throw(LocalModelError, /"q": redrivePolicy.deadLetterTargetArn "arn:nope" names no aws:sqs\/queue:Queue/);
        });

        it("a rule with an invalid event pattern, naming the field", () => {
            const run = runOf([{ type: TYPES.rule, name: "bad", outputs: { name: "bad" }, inputs: { eventPattern: '{"source":"not-a-list"}' } }]);
            expect(() => buildLocalModel(run)).to.throw(LocalModelError, /"bad": eventPattern: source/);
        });

        it("a function without serialized code", () => {
            const run = runOf([{ type: TYPES.fn, name: "f", outputs: { name: "f", arn: "arn:aws:lambda:us-east-1:1:function:f" } }]);
            expect(() => buildLocalModel(run)).to.throw(LocalModelError, /only CallbackFunction code archives can run locally/);
        });
    });

    describe("time scale", () => {
        it("by default, a poison message on any consumed queue reaches its DLQ within 10 s", () => {
            const timing = new Timing(defaultTimeScale(model));
            for (const m of model.mappings) {
                const q = model.queues.find((x) => x.name === m.queue)!;
                const poisonMs = q.redrive!.maxReceiveCount * (timing.visibilityTimeoutMs(q) + timing.ms(m.batchingWindowSeconds));
                expect(poisonMs, q.name).to.be.at.most(8000);
            }
        });

        it("scales the waits (visibility timeouts, batching windows) but not a function's timeout: its work takes real time", () => {
            const timing = new Timing(0.0055);
            const q = model.queues.find((x) => x.logicalName === "analytics-queue")!;
            expect(timing.visibilityTimeoutMs(q)).to.be.closeTo(q.visibilityTimeoutSeconds * 5.5, 1e-6);
            expect(timing.ms(2)).to.be.closeTo(11, 1e-9);
            expect(timing.functionTimeoutMs(30)).to.equal(30_000);
        });

        it("keeps a killed invocation's messages hidden longer after its deadline than the consumer's lease outlives it", () => {
            // Else a retry finds the dead owner's claim still leased, and burns a receive on "in progress".
            expect(KILLED_INVOCATION_GRACE_MS).to.be.greaterThan(DEFAULT_LEASE_MARGIN_MS);
        });

        it("rounds a scaled duration for display only: 180 s x 0.0055 reads 990 ms", () => {
            expect(displayMs(new Timing(0.0055).ms(180))).to.equal(990);
            expect(displayMs(0.0123456)).to.equal(0.012);
        });

        it("gives every function the override timeout when one is set (tests of timeouts)", () => {
            expect(new Timing(0.01, 250).functionTimeoutMs(30)).to.equal(250);
        });

        it("rejects a --time-scale that is not a decimal number in (0, 1]", () => {
            for (const bad of ["0", "-1", "2", "fast", "", "1e-2", "0x1", " 0.5", "Infinity", "0.5."]) {
                expect(() => parseTimeScale(bad), bad).to.throw(/--time-scale must be a decimal number > 0 and <= 1/);
            }
        });

        it("reads a --time-scale written as a plain decimal", () => {
            expect([parseTimeScale("0.01"), parseTimeScale(".5"), parseTimeScale("1")]).to.deep.equal([0.01, 0.5, 1]);
        });
    });
});
