import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { entryPointFiles, installIntoFreshProject, manifest, packLibrary, PackResult, runNode, tempDir, typecheck } from "./packaging";

/**
 * The component library as other Pulumi projects get it: packed with `npm pack` (whose prepack
 * script builds it), installed from the tarball into a fresh project outside the repository, and
 * used by a plain-JavaScript program under Pulumi's mocks.
 */
describe("the component library as a package (npm pack, install, consume)", function () {
    this.timeout(120000);
    const work = tempDir("bellyfed-reuse-");
    let packed: PackResult;
    let project: string;
    let consumer: { exportsShareModules: boolean; queueSettings: { visibilityTimeoutSeconds: number }; registered: { type: string; name: string }[]; urns: Record<string, string>; code: Record<string, string>; archives: Record<string, string[]>; patternMatches: boolean };

    before(async () => {
        packed = await packLibrary(work.dir);
        project = await installIntoFreshProject(work.dir, packed.tarball);
        fs.copyFileSync(path.join(__dirname, "consumer/program.js"), path.join(project, "program.js"));
        fs.copyFileSync(path.join(__dirname, "consumer/typed.ts.fixture"), path.join(project, "typed.ts"));
        consumer = JSON.parse(await runNode(project, "program.js"));
    });
    after(() => work.remove());

    it("puts every file the manifest's main, types, exports and typesVersions name into the tarball", () => {
        const missing = entryPointFiles().filter((f) => f !== "package.json" && !packed.files.includes(f));
        expect(missing).to.deep.equal([]);
    });

    it("exports the package root, ./components and ./event-patterns, each with type declarations", () => {
        const exportsMap = manifest().exports;
        for (const entry of [".", "./components", "./event-patterns"]) {
            expect(exportsMap[entry], entry).to.have.keys("types", "default");
            expect(exportsMap[entry].types, entry).to.match(/\.d\.ts$/);
        }
    });

    it("ships compiled JavaScript with a declaration file next to every module, and no TypeScript sources", () => {
        const js = packed.files.filter((f) => f.startsWith("dist/") && f.endsWith(".js"));
        expect(js.length).to.be.greaterThan(0);
        expect(js.filter((f) => !packed.files.includes(f.replace(/\.js$/, ".d.ts")))).to.deep.equal([]);
        expect(packed.files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).to.deep.equal([]);
    });

    it("ships nothing of the stacks, handlers, tests or tooling (beyond what npm always adds: manifest, README, LICENSE, bin)", () => {
        const bin = manifest().bin;
        const always = ["package.json", "README.md", "LICENSE", ...(typeof bin === "string" ? [bin] : Object.values<string>(bin ?? {}))].map((f) => path.posix.normalize(f));
        expect(packed.files.filter((f) => !/^dist\/(components|event-patterns)\//.test(f) && !always.includes(f))).to.deep.equal([]);
    });

    it("declares @pulumi/pulumi and @pulumi/aws as peers, in the ranges the repository develops against", () => {
        const pkg = manifest();
        expect(pkg.peerDependencies).to.deep.equal({ "@pulumi/aws": pkg.devDependencies["@pulumi/aws"], "@pulumi/pulumi": pkg.devDependencies["@pulumi/pulumi"] });
    });

    it("builds on prepack, so a publish can never ship a stale or missing dist/", () => {
        expect(manifest().scripts.prepack).to.equal("npm run build");
    });

    it("resolves the package root and ./components to the same modules", () => {
        expect(consumer.exportsShareModules).to.equal(true);
    });

    it("registers an EventBus with its bus and archive, parented to the component", () => {
        expect(consumer.registered).to.deep.include.members([
            { type: "bellyfed:events:EventBus", name: "orders-bus" },
            { type: "aws:cloudwatch/eventBus:EventBus", name: "orders-bus" },
            { type: "aws:cloudwatch/eventArchive:EventArchive", name: "orders-bus-archive" },
        ]);
        expect(consumer.urns.bus).to.equal("urn:pulumi:test::consumer::bellyfed:events:EventBus$aws:cloudwatch/eventBus:EventBus::orders-bus");
    });

    it("registers a ProcessedQueue with its queue, DLQ, consumer function and event source mapping", () => {
        const types = consumer.registered.filter((r) => r.name.startsWith("order-events")).map((r) => r.type);
        expect(types).to.include.members([
            "bellyfed:events:ProcessedQueue",
            "aws:sqs/queue:Queue",
            "aws:sqs/queuePolicy:QueuePolicy",
            "aws:lambda/eventSourceMapping:EventSourceMapping",
            "bellyfed:compute:ServerlessFunction",
            "aws:lambda/function:Function",
        ]);
        expect(types.filter((t) => t === "aws:sqs/queue:Queue")).to.have.length(2);
        expect(consumer.urns.queue).to.match(/::bellyfed:events:ProcessedQueue\$aws:sqs\/queue:Queue::order-events$/);
    });

    it("derives the queue's visibility timeout from the consumer's timeout (6 x 20 s)", () => {
        expect(consumer.queueSettings.visibilityTimeoutSeconds).to.equal(120);
    });

    it("routes the bus to the queue: a route component under the bus, with its rule and target", () => {
        const types = consumer.registered.filter((r) => r.name.startsWith("orders-bus-order-placed")).map((r) => r.type);
        expect(types).to.include.members(["bellyfed:events:EventRoute", "aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventTarget:EventTarget"]);
        expect(consumer.urns.route).to.match(/::bellyfed:events:EventBus\$bellyfed:events:EventRoute::orders-bus-order-placed$/);
        expect(consumer.urns.rule).to.match(/::bellyfed:events:EventRoute\$aws:cloudwatch\/eventRule:EventRule::/);
    });

    it("registers a QueryApi with its API, stage, route, integration, permission and function", () => {
        const types = consumer.registered.filter((r) => r.name.startsWith("orders-api")).map((r) => r.type);
        expect(types).to.include.members([
            "bellyfed:api:QueryApi",
            "aws:apigatewayv2/api:Api",
            "aws:apigatewayv2/stage:Stage",
            "aws:apigatewayv2/route:Route",
            "aws:apigatewayv2/integration:Integration",
            "aws:lambda/permission:Permission",
            "bellyfed:compute:ServerlessFunction",
            "aws:lambda/function:Function",
            "aws:iam/role:Role",
            "aws:cloudwatch/logGroup:LogGroup",
        ]);
        expect(consumer.urns.apiStage).to.match(/::bellyfed:api:QueryApi\$aws:apigatewayv2\/stage:Stage::orders-api-default$/);
        // The mock monitor puts only the direct parent's type into a URN (the engine puts the whole chain).
        expect(consumer.urns.apiRouteFunction).to.match(/::bellyfed:api:QueryApi\$bellyfed:compute:ServerlessFunction::orders-api-order$/);
        expect(consumer.urns.apiFunction).to.match(/::bellyfed:compute:ServerlessFunction\$aws:lambda\/function:Function::orders-api-order-fn$/);
    });

    it("serializes the consumer's own handlers into the functions' code", () => {
        expect(consumer.code["orders-api-order-fn"]).to.include("exports.handler").and.include("statusCode: 200");
        expect(consumer.code["order-events-consumer-fn"]).to.include("exports.handler").and.include("batchItemFailures");
    });

    it("uploads none of the library or its dependencies into the consumer's functions (a Pulumi deployment-time package)", () => {
        for (const [fn, files] of Object.entries(consumer.archives)) expect(files, fn).to.deep.equal(["__index.js"]);
    });

    it("uses the event-pattern validator through ./event-patterns", () => {
        expect(consumer.patternMatches).to.equal(true);
    });

    it("type-checks a TypeScript consumer of every entry point with classic node module resolution (typesVersions)", async () => {
        expect(await typecheck(project, "typed.ts", "node")).to.equal("");
    });

    it("type-checks the same consumer with Node16 module resolution (exports map)", async () => {
        expect(await typecheck(project, "typed.ts", "node16")).to.equal("");
    });
});
