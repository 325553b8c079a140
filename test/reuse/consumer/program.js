// A consumer of the published package: plain JavaScript, run from a fresh project outside the
// repository where `@bellyfed/platform` was installed from its tarball (see test/reuse/pack.test.ts).
// Prints one JSON document: every resource registered (type, name) and the URNs of a few children,
// whose type chain shows their parent component.
"use strict";
const pulumi = require("@pulumi/pulumi");

const registered = [];
const handlerCode = {};
const archiveFiles = {};
const mocks = {
    newResource: (args) => {
        registered.push({ type: args.type, name: args.name });
        if (args.type === "aws:lambda/function:Function") {
            const assets = Promise.resolve(args.inputs.code.assets);
            handlerCode[args.name] = assets.then((a) => a["__index.js"].text);
            archiveFiles[args.name] = assets.then((a) => Object.keys(a).sort());
        }
        const name = args.inputs.name ?? `${args.name}-abc1234`;
        const arn = `arn:aws:mock:us-east-1:123456789012:${name}`;
        return { id: `${args.name}-id`, state: { ...args.inputs, name, arn, url: `https://${args.name}.example`, invokeArn: arn, executionArn: arn } };
    },
    call: (args) => (args.token === "aws:index/getRegion:getRegion" ? { name: "us-east-1", region: "us-east-1" } : args.inputs),
};

const resolved = (output) => new Promise((resolve) => pulumi.output(output).apply(resolve));

async function main() {
    // Mocks first: a resource created before setMocks would bypass them.
    await pulumi.runtime.setMocks(mocks, "consumer", "test", false);
    const library = require("@bellyfed/platform");
    const components = require("@bellyfed/platform/components");
    const patterns = require("@bellyfed/platform/event-patterns");

    const bus = new components.EventBus("orders-bus", { archiveRetentionDays: 7 });
    const pattern = { source: ["shop.orders"], "detail-type": ["OrderPlaced"] };
    const queue = new components.ProcessedQueue("order-events", {
        consumer: { callbackFactory: () => async () => ({ batchItemFailures: [] }), timeoutSeconds: 20 },
    });
    const route = bus.route("order-placed", { pattern, queue });
    const api = new library.QueryApi("orders-api", {
        routes: {
            order: {
                method: "GET",
                path: "/order/{id}",
                handler: {
                    callbackFactory: () => async () => ({ statusCode: 200, body: "{}" }),
                    policyStatements: [bus.publishStatement()],
                },
            },
        },
    });

    const urns = {
        bus: await resolved(bus.bus.urn),
        apiStage: await resolved(api.stage.urn),
        apiRouteFunction: await resolved(api.functions.order.urn),
        apiFunction: await resolved(api.functions.order.function.urn),
        queue: await resolved(queue.queue.urn),
        route: await resolved(route.urn),
        rule: await resolved(route.rule.urn),
    };
    const queueSettings = { visibilityTimeoutSeconds: await resolved(queue.queue.visibilityTimeoutSeconds) };
    await pulumi.runtime.waitForRPCs();
    const code = {};
    for (const [name, text] of Object.entries(handlerCode)) code[name] = await text;
    const archives = {};
    for (const [name, files] of Object.entries(archiveFiles)) archives[name] = await files;
    process.stdout.write(
        JSON.stringify({
            exportsShareModules: library.QueryApi === components.QueryApi,
            queueSettings,
            registered,
            urns,
            code,
            archives,
            patternMatches: patterns.matchesEventPattern(pattern, { source: "shop.orders", "detail-type": "OrderPlaced", detail: {} }),
        }),
    );
}

main().catch((err) => {
    process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
});
