import { expect } from "chai";
import { CapturedResource } from "../../plan/engine";
import { httpEvent } from "../support/dynalite";
import { stackGraph } from "../support/graph";
import { eventEnvelope, sqsEvent, sqsRecord } from "../support/sqs";
import { createLambdaSandbox, LambdaSandbox } from "./lambdaSandbox";

/**
 * The code that would be uploaded is the code that is tested: every function the stacks ship is
 * serialized exactly as CallbackFunction does, loaded as Lambda would load it from a directory that
 * holds only what its archive holds (plus the runtime's AWS SDK), and invoked once with an event that
 * needs no AWS service. A package missing from the archive fails the load. A function with no entry
 * here fails the suite.
 */
const SMOKE: Record<string, { event: unknown; expect: (result: any) => void; env?: Record<string, string> }> = {
    "query-api-restaurant-fn": {
        event: httpEvent("/restaurant/not%20valid", { id: "not valid" }),
        expect: (res) => {
            expect(res.statusCode).to.equal(400);
            expect(JSON.parse(res.body).message).to.match(/Invalid restaurant id/);
        },
    },
    "query-api-stats-fn": {
        event: httpEvent("/restaurant/not%20valid/stats", { id: "not valid" }, {}, { routeKey: "GET /restaurant/{id}/stats" }),
        expect: (res) => {
            expect(res.statusCode).to.equal(400);
            expect(JSON.parse(res.body).message).to.match(/Invalid restaurant id/);
        },
    },
    "analytics-queue-consumer-fn": {
        // A poison record is rejected by the catalog's zod schemas before any DynamoDB call.
        event: sqsEvent(sqsRecord("smoke-poison", eventEnvelope("RestaurantViewed", { version: 1, restaurantId: "not valid" }, "evt-1", new Date().toISOString()))),
        expect: (res) => expect(res).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "smoke-poison" }] }),
        // The function logs the poison record at ERROR; keep the test output quiet.
        env: { POWERTOOLS_LOG_LEVEL: "SILENT" },
    },
};

const archiveOf = (fn: CapturedResource): string[] => fn.inputs.code.archive;

describe("serialized functions", () => {
    const sandboxes = new Map<string, LambdaSandbox>();
    /** One sandbox per distinct archive content (the functions of a stack usually share one). */
    const sandboxFor = (fn: CapturedResource): LambdaSandbox => {
        const key = archiveOf(fn).join("\n");
        if (!sandboxes.has(key)) sandboxes.set(key, createLambdaSandbox(archiveOf(fn)));
        return sandboxes.get(key)!;
    };
    after(() => {
        for (const sandbox of sandboxes.values()) sandbox.remove();
    });

    for (const stack of ["dev", "prod"]) {
        it(`every function of ${stack} loads from its archive's packages alone and answers its smoke event`, async () => {
            const graph = await stackGraph(stack);
            const functions = graph.ofType("aws:lambda/function:Function");
            expect(functions.length).to.be.greaterThan(0);
            for (const fn of functions) {
                const smoke = SMOKE[fn.name];
                expect(smoke, `no smoke event for ${fn.name}`).to.not.equal(undefined);
                const handler = sandboxFor(fn).load(`${stack}-${fn.name}`, graph.code(fn), { ...fn.inputs.environment?.variables, ...smoke.env });
                smoke.expect(await handler(smoke.event, { awsRequestId: "smoke" }));
            }
        });
    }

    it("runs the functions where the repository's packages cannot be found (only the archive's and the runtime's)", async () => {
        const graph = await stackGraph("dev");
        const [fn] = graph.ofType("aws:lambda/function:Function");
        const sandbox = sandboxFor(fn);
        expect(() => require.resolve("mocha", { paths: [sandbox.dir] })).to.throw(/Cannot find module/);
        expect(() => require.resolve("@pulumi/pulumi", { paths: [sandbox.dir] })).to.throw(/Cannot find module/);
        expect(require.resolve("zod", { paths: [sandbox.dir] }).startsWith(sandbox.dir)).to.equal(true);
    });

    it("fails to load a function whose archive lacks a package it requires", async () => {
        const graph = await stackGraph("dev");
        const fn = graph.get("aws:lambda/function:Function", "analytics-queue-consumer-fn");
        const withoutZod = createLambdaSandbox(archiveOf(fn).filter((key) => key !== "node_modules/zod"));
        try {
            expect(() => withoutZod.load("no-zod", graph.code(fn), fn.inputs.environment?.variables)).to.throw(/Cannot find module 'zod'/);
        } finally {
            withoutZod.remove();
        }
    });

    it("uploads only the handlers' own libraries (zod, Powertools and what they need), nothing of the tooling", async () => {
        const graph = await stackGraph("dev");
        for (const fn of graph.ofType("aws:lambda/function:Function")) {
            const packages = archiveOf(fn).filter((key) => key.startsWith("node_modules/"));
            expect(packages, fn.name).to.include.members(["node_modules/zod", "node_modules/@aws-lambda-powertools/logger", "node_modules/@aws-lambda-powertools/metrics"]);
            expect(packages.filter((key) => /^node_modules\/(yaml|@aws-sdk\/client-|@pulumi\/|typescript|ts-node)/.test(key)), fn.name).to.deep.equal([]);
        }
    });

    it("captures no module-scope zod schema or SDK client (they are built in the factory)", async () => {
        const graph = await stackGraph("dev");
        for (const fn of graph.ofType("aws:lambda/function:Function")) {
            const code = graph.code(fn);
            expect(code, fn.name).to.match(/require\("zod"\)|require\("@aws-sdk\//);
            expect(code, fn.name).to.not.match(/ZodObject|_zod\b/);
        }
    });
});
