import { expect } from "chai";
import { loadSerializedHandler } from "../../local/functionCode";
import { httpEvent } from "../support/dynalite";
import { stackGraph } from "../support/graph";
import { eventEnvelope, sqsEvent, sqsRecord } from "../support/sqs";

/**
 * The code that would be uploaded is the code that is tested: every function the stacks ship is
 * serialized exactly as CallbackFunction does, loaded as Lambda would load it, and invoked once with
 * an event that needs no AWS service. A function with no entry here fails the suite.
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
        event: sqsEvent(sqsRecord("smoke-poison", eventEnvelope("RestaurantViewed", { version: 1, restaurantId: "not valid" }))),
        expect: (res) => expect(res).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "smoke-poison" }] }),
        // The function logs the poison record at ERROR; keep the test output quiet.
        env: { POWERTOOLS_LOG_LEVEL: "SILENT" },
    },
};

describe("serialized functions", () => {
    for (const stack of ["dev", "prod"]) {
        it(`every function of ${stack} serializes, loads and answers its smoke event`, async () => {
            const graph = await stackGraph(stack);
            const functions = graph.ofType("aws:lambda/function:Function");
            expect(functions.length).to.be.greaterThan(0);
            for (const fn of functions) {
                const smoke = SMOKE[fn.name];
                expect(smoke, `no smoke event for ${fn.name}`).to.not.equal(undefined);
                const handler = loadSerializedHandler(graph.code(fn), { ...fn.inputs.environment?.variables, ...smoke.env });
                smoke.expect(await handler(smoke.event, { awsRequestId: "smoke" }));
            }
        });
    }

    it("captures no module-scope zod schema or SDK client (they are built in the factory)", async () => {
        const graph = await stackGraph("dev");
        for (const fn of graph.ofType("aws:lambda/function:Function")) {
            const code = graph.code(fn);
            expect(code, fn.name).to.match(/require\("zod"\)|require\("@aws-sdk\//);
            expect(code, fn.name).to.not.match(/ZodObject|_zod\b/);
        }
    });
});
