import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { builtinModules } from "module";
import { LIBRARY_PACKAGE_NAME } from "../../components/serverlessFunction";
import { buildSources, entryPointFiles, installedVersion, installIntoFreshProject, manifest, packLibrary, PackResult, ROOT, runBin, runNode, tempDir, typecheck } from "./packaging";

/**
 * The component library as other Pulumi projects get it: packed with `npm pack` (whose prepack
 * script builds it), installed from the tarball into a fresh project outside the repository, and
 * used by a plain-JavaScript program under Pulumi's mocks. The same install provides the ops CLI as
 * the `bellyfed-ops` bin. The consumer installs the peers and its own runtime dependency (zod) with
 * the same `npm install`, and node_modules is never touched afterwards: what Pulumi uploads into the
 * consumer's functions is decided from that install, as it would be in a real project.
 */
describe("the component library as a package (npm pack, install, consume)", function () {
    this.timeout(240000);
    const work = tempDir("bellyfed-reuse-");
    let packed: PackResult;
    let project: string;
    // A package the consumer's own program depends on; the library depends on it too.
    const CONSUMER_DEPENDENCY = `zod@${installedVersion("zod")}`;
    let consumer: { exportsShareModules: boolean; queueSettings: { visibilityTimeoutSeconds: number }; registered: { type: string; name: string }[]; urns: Record<string, string>; code: Record<string, string>; archives: Record<string, string[]>; patternMatches: boolean };

    before(async () => {
        packed = await packLibrary(work.dir);
        project = await installIntoFreshProject(work.dir, packed.tarball, [CONSUMER_DEPENDENCY]);
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

    it("ships exactly what tsconfig.build.json compiles: the library, and the ops CLI with the modules it imports", async () => {
        const bin = manifest().bin;
        const always = ["package.json", "README.md", "LICENSE", ...(typeof bin === "string" ? [bin] : Object.values<string>(bin ?? {}))].map((f) => path.posix.normalize(f));
        const compiled = (await buildSources()).flatMap((f) => [`dist/${f.replace(/\.ts$/, ".js")}`, `dist/${f.replace(/\.ts$/, ".d.ts")}`]);
        expect(packed.files.filter((f) => !always.includes(f)).sort()).to.deep.equal(compiled.sort());
    });

    it("ships nothing of the stacks, the Lambda handlers (but their event catalog), the local runtime, the plan engine, tests or tooling", () => {
        const allowed = /^dist\/(components|event-patterns|ops|handlers\/events)\/|^dist\/plan\/(stackFiles|exitWhenFlushed)\.(js|d\.ts)$/;
        expect(packed.files.filter((f) => f.startsWith("dist/") && !allowed.test(f))).to.deep.equal([]);
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

    it("installs the way a consumer does: the library and its peers by npm, no links into other projects", () => {
        const installed = (name: string) => path.join(project, "node_modules", name);
        for (const name of ["@bellyfed/platform", "@pulumi/pulumi", "@pulumi/aws"]) expect(fs.lstatSync(installed(name)).isSymbolicLink(), name).to.equal(false);
        const hidden = JSON.parse(fs.readFileSync(path.join(project, "node_modules", ".package-lock.json"), "utf8")).packages;
        expect(Object.keys(hidden)).to.include.members(["node_modules/@bellyfed/platform", "node_modules/@pulumi/pulumi", "node_modules/@pulumi/aws", "node_modules/zod"]);
    });

    it("uploads none of the library or its dependencies into the consumer's functions: only the handler and the consumer's own dependency", () => {
        // npm's hidden lockfile, which Pulumi reads, drops the package's "pulumi" field: only the exclusion in
        // ServerlessFunction (LIBRARY_PACKAGE_NAME) keeps the library and its dependencies out.
        expect(Object.keys(consumer.archives).sort()).to.deep.equal(["order-events-consumer-fn", "orders-api-order-fn"]);
        for (const [fn, files] of Object.entries(consumer.archives)) expect(files, fn).to.deep.equal(["__index.js", "node_modules/zod"]);
    });

    it("leaves out the package named by LIBRARY_PACKAGE_NAME, which is the package's name", () => {
        expect(LIBRARY_PACKAGE_NAME).to.equal(manifest().name);
    });

    it("uses the event-pattern validator through ./event-patterns", () => {
        expect(consumer.patternMatches).to.equal(true);
    });

    describe("the bellyfed-ops bin of the installed package", () => {
        const PATTERN = JSON.stringify({ source: ["bellyfed.restaurants"], "detail-type": ["RestaurantViewed"] });
        const EVENT = JSON.stringify({ source: "bellyfed.restaurants", "detail-type": "RestaurantViewed", detail: {} });
        const offline = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" };

        it("is the compiled CLI (no TypeScript, no ts-node) and shows the commands with --help", async () => {
            const r = await runBin(project, ["--help"]);
            expect(r.code, r.stderr).to.equal(0);
            expect(r.stdout).to.include("Usage: bellyfed-ops <command> [options]").and.include("pattern test").and.include("Stacks: no Pulumi project here");
            expect(fs.existsSync(path.join(project, "node_modules", "ts-node"))).to.equal(false);
        });

        it("names itself, never `npm run ops` (which an installed package does not have), in help, usage errors and examples", async () => {
            const help = await runBin(project, ["dlq", "--help"]);
            expect(help.code, help.stderr).to.equal(0);
            expect(help.stdout).to.include("bellyfed-ops dlq inspect <queue>");
            const usage = await runBin(project, ["queues", "--stack", "prod", "--depth", "3"]);
            expect(usage.code).to.equal(2);
            expect(usage.stderr).to.include("Usage: bellyfed-ops queues");
            const json = await runBin(project, ["--help", "--json"]);
            expect(JSON.parse(json.stdout).commands[0].examples[0]).to.match(/^bellyfed-ops queues /);
            for (const r of [help, usage, json]) expect(r.stdout + r.stderr).to.not.include("npm run ops");
        });

        it("runs an offline command: pattern test", async () => {
            const r = await runBin(project, ["pattern", "test", "--pattern", PATTERN, "--event", EVENT, "--json"]);
            expect(r.code, r.stderr).to.equal(0);
            expect(JSON.parse(r.stdout)).to.include({ matched: true });
        });

        it("validates against the event catalog it ships: events put rejects a bad detail before any AWS call", async () => {
            const r = await runBin(project, ["events", "put", "RestaurantViewed", "--stack", "prod", "--detail", "{}"], project, offline);
            expect(r.code).to.equal(2);
            expect(r.stderr).to.include("--detail does not match the catalog's RestaurantViewed");
        });

        it("outside a Pulumi project, takes --stack as the stack tag's value and goes to AWS", async () => {
            const r = await runBin(project, ["queues", "--stack", "anything", "--endpoint-url", "http://127.0.0.1:9", "--json"], project, offline);
            expect(r.code).to.equal(2);
            expect(JSON.parse(r.stdout).error.message).to.include("sqs:ListQueues: cannot connect (ECONNREFUSED)");
        });

        it("says that naming a rule's declaring code needs a checkout: the package ships no Pulumi program", async () => {
            const plan = path.join(project, "node_modules", "@bellyfed", "platform", "dist", "ops", "plan.js");
            const script = `require(${JSON.stringify(plan)}).runOfflinePlan("prod").then(() => console.log("ran"), (e) => console.log(e.message));`;
            fs.writeFileSync(path.join(project, "plan-check.js"), script);
            expect(await runNode(project, "plan-check.js")).to.include("only a checkout of the repository has");
        });

        it("in a Pulumi project, reads its stacks from the Pulumi.<stack>.yaml files in or above the current directory", async () => {
            const dir = path.join(project, "infra", "nested");
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(path.join(project, "infra", "Pulumi.yaml"), "name: bellyfed\nruntime: nodejs\n");
            fs.writeFileSync(path.join(project, "infra", "Pulumi.qa.yaml"), "config:\n  bellyfed:alarms:\n    queueDepth: 42\n");
            const r = await runBin(project, ["queues", "--stack", "prod"], dir, offline);
            expect(r.code).to.equal(2);
            expect(r.stderr).to.include('No config for stack "prod" (no Pulumi.prod.yaml). Stacks that exist: qa');
        });
    });

    it("depends at runtime only on what the shipped code requires and what the program's Lambda handlers use", () => {
        const pkg = manifest();
        const packageOf = (spec: string) => spec.split("/").slice(0, spec.startsWith("@") ? 2 : 1).join("/");
        const bare = (text: string) => [...text.matchAll(/\brequire\("([^".][^"]*)"\)/g)].map((m) => packageOf(m[1])).filter((p) => !p.startsWith("node:") && !builtinModules.includes(p));
        const installed = path.join(project, "node_modules", "@bellyfed", "platform");
        const shippedJs = packed.files.filter((f) => f.endsWith(".js") && f.startsWith("dist/"));
        const required = new Set(shippedJs.flatMap((f) => bare(fs.readFileSync(path.join(installed, f), "utf8"))));
        const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
        expect([...required].filter((p) => !declared.has(p)), "required by the shipped code but not declared").to.deep.equal([]);
        // Pulumi uploads this package.json's `dependencies` into every Lambda of the program (PULUMI-NOTES), so the
        // handlers' libraries stay there even though the published package never loads them.
        const handlerSources = (dir: string): string[] =>
            fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? handlerSources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
        const handlerImports = new Set(
            handlerSources(path.join(ROOT, "handlers")).flatMap((f) => [...fs.readFileSync(f, "utf8").matchAll(/(?:from\s+|require\(\s*|import\(\s*)["']([^"'.][^"']*)["']/g)].map((m) => packageOf(m[1]))),
        );
        expect(Object.keys(pkg.dependencies).filter((d) => !required.has(d) && !handlerImports.has(d)), "used by neither").to.deep.equal([]);
    });

    it("type-checks a TypeScript consumer of every entry point with classic node module resolution (typesVersions)", async () => {
        expect(await typecheck(project, "typed.ts", "node")).to.equal("");
    });

    it("type-checks the same consumer with Node16 module resolution (exports map)", async () => {
        expect(await typecheck(project, "typed.ts", "node16")).to.equal("");
    });
});
