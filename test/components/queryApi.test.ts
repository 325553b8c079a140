import { expect } from "chai";
import { QueryApi } from "../../components";
import { Graph, json, programGraph } from "../support/graph";

const factory = () => async () => ({ statusCode: 200, body: "{}" });

describe("QueryApi", () => {
    let graph: Graph;
    before(async () => {
        graph = await programGraph(() => {
            const api = new QueryApi("api", {
                throttling: { rateLimit: 7, burstLimit: 9 },
                corsAllowOrigins: ["https://a.example"],
                logRetentionDays: 30,
                routes: {
                    restaurant: { method: "GET", path: "/restaurant/{id}", handler: { callbackFactory: factory, policyStatements: [{ Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: "arn:aws:dynamodb:us-east-1:1:table/t" }] } },
                    stats: { method: "GET", path: "/restaurant/{id}/stats", handler: { callbackFactory: factory, timeoutSeconds: 5 } },
                },
            });
            return { url: api.url, functions: Object.keys(api.functions) };
        });
    });

    it("is a bellyfed:api:QueryApi component", () => {
        expect(graph.ofType("bellyfed:api:QueryApi").map((r) => r.name)).to.deep.equal(["api"]);
    });

    it("declares one route per entry, with the method and path as route key", () => {
        expect(graph.ofType("aws:apigatewayv2/route:Route").map((r) => r.inputs.routeKey).sort()).to.deep.equal([
            "GET /restaurant/{id}",
            "GET /restaurant/{id}/stats",
        ]);
    });

    it("targets each route at its own proxy integration with payload format 2.0", () => {
        const route = graph.get("aws:apigatewayv2/route:Route", "api-restaurant");
        const integration = graph.get("aws:apigatewayv2/integration:Integration", "api-restaurant");
        expect(route.inputs.target).to.equal(`integrations/${integration.outputs.id}`);
        expect(integration.inputs).to.include({ integrationType: "AWS_PROXY", payloadFormatVersion: "2.0" });
        expect(integration.inputs.integrationUri).to.equal(graph.get("aws:lambda/function:Function", "api-restaurant-fn").outputs.invokeArn);
    });

    it("throttles the $default stage as configured", () => {
        const stage = graph.get("aws:apigatewayv2/stage:Stage", "api-default");
        expect(stage.inputs.name).to.equal("$default");
        expect(stage.inputs.autoDeploy).to.equal(true);
        expect(stage.inputs.defaultRouteSettings).to.include({ throttlingRateLimit: 7, throttlingBurstLimit: 9 });
    });

    it("writes JSON access logs to a log group with retention", () => {
        const stage = graph.get("aws:apigatewayv2/stage:Stage", "api-default");
        const group = graph.get("aws:cloudwatch/logGroup:LogGroup", "api-access-logs");
        expect(stage.inputs.accessLogSettings.destinationArn).to.equal(group.outputs.arn);
        expect(json(stage.inputs.accessLogSettings.format)).to.include({ requestId: "$context.requestId", status: "$context.status" });
        expect(group.inputs.retentionInDays).to.equal(30);
    });

    it("scopes each invoke permission to the API's execution ARN, method and path", () => {
        const api = graph.get("aws:apigatewayv2/api:Api", "api");
        const stats = graph.get("aws:lambda/permission:Permission", "api-stats");
        expect(stats.inputs.principal).to.equal("apigateway.amazonaws.com");
        expect(stats.inputs.sourceArn).to.equal(`${api.outputs.executionArn}/*/GET/restaurant/*/stats`);
        expect(stats.inputs.function).to.equal(graph.get("aws:lambda/function:Function", "api-stats-fn").outputs.name);
    });

    it("configures CORS on the API and hands the origins to the functions", () => {
        const api = graph.get("aws:apigatewayv2/api:Api", "api");
        expect(api.inputs.corsConfiguration.allowOrigins).to.deep.equal(["https://a.example"]);
        expect(api.inputs.corsConfiguration.allowMethods).to.include.members(["GET", "OPTIONS"]);
        const fn = graph.get("aws:lambda/function:Function", "api-restaurant-fn");
        expect(fn.inputs.environment.variables.CORS_ALLOW_ORIGINS).to.equal("https://a.example");
    });

    it("exports the stage URL and the functions", () => {
        expect(graph.run.outputs.url).to.match(/^https:\/\/.+\.execute-api\..+\/$/);
        expect(graph.run.outputs.functions).to.deep.equal(["restaurant", "stats"]);
    });

    describe("greedy paths", () => {
        let greedy: Graph;
        before(async () => {
            greedy = await programGraph(() => {
                new QueryApi("files", { routes: { file: { method: "GET", path: "/files/{owner}/{proxy+}", handler: { callbackFactory: factory } }, all: { method: "GET", path: "/{path+}", handler: { callbackFactory: factory } } } });
            });
        });

        it("accepts a greedy {name+} as the last segment, as HTTP APIs do", () => {
            expect(greedy.ofType("aws:apigatewayv2/route:Route").map((r) => r.inputs.routeKey).sort()).to.deep.equal(["GET /files/{owner}/{proxy+}", "GET /{path+}"]);
        });

        it("lets the greedy route's function be invoked for any path below it", () => {
            const api = greedy.get("aws:apigatewayv2/api:Api", "files");
            expect(greedy.get("aws:lambda/permission:Permission", "files-file").inputs.sourceArn).to.equal(`${api.outputs.executionArn}/*/GET/files/*/*`);
        });

        const attempt = (path: string) => () => new QueryApi("bad", { routes: { r: { method: "GET", path, handler: { callbackFactory: factory } } } });
        for (const path of ["/files/{proxy+}/meta", "/files/{proxy++}", "/files/{+}", "/files/{proxy+}x", "/files/x{proxy+}", "/", "files/{proxy+}"]) {
            it(`rejects ${JSON.stringify(path)}: a greedy variable only as the whole last segment`, () => {
                expect(attempt(path)).to.throw(`QueryApi "bad": routes.r.path must be /segments, each literal or a {param} placeholder, with an optional greedy {param+} as the last one, got ${JSON.stringify(path)}`);
            });
        }
    });

    describe("route handlers", () => {
        const withHandler = (extra: object) => () => new QueryApi("bad", { routes: { r: { method: "GET", path: "/x", handler: { callbackFactory: factory, ...extra } as any } } });

        it("reject alarms per route (JavaScript callers), pointing to alarms.functions", () => {
            expect(withHandler({ alarms: { topicArn: "arn:aws:sns:us-east-1:123456789012:t", errors: { threshold: 3 } } })).to.throw(
                'QueryApi "bad": routes.r.handler.alarms is not taken per route: the API\'s alarms.functions (with alarms.topicArn) set the alarms of every route\'s function',
            );
        });

        it("reject a log retention or tags per route, which the API sets for every route", () => {
            expect(withHandler({ logRetentionDays: 30 })).to.throw("routes.r.handler.logRetentionDays is not taken per route: the API's logRetentionDays");
            expect(withHandler({ tags: { team: "a" } })).to.throw("routes.r.handler.tags is not taken per route: the API's tags");
        });
    });

    describe("rejects bad arguments before registering anything", () => {
        const attempt = (routes: any) => () => new QueryApi("bad", { routes });
        it("no routes", () => expect(attempt({})).to.throw('QueryApi "bad": routes must declare at least one route'));
        it("routes given as a list instead of an object by name", () =>
            expect(attempt([{ method: "GET", path: "/x", handler: { callbackFactory: factory } }])).to.throw('QueryApi "bad": routes must be an object of routes by name ({ <name>: { method, path, handler } }), got [{"method":"GET","path":"/x","handler":{}}]'));
        it("a path without a leading slash", () =>
            expect(attempt({ r: { method: "GET", path: "restaurant/{id}", handler: { callbackFactory: factory } } })).to.throw(/routes\.r\.path must be/));
        it("an unknown method", () =>
            expect(attempt({ r: { method: "FETCH", path: "/x", handler: { callbackFactory: factory } } })).to.throw(/routes\.r\.method must be one of/));
        it("the same route key twice", () =>
            expect(attempt({ a: { method: "GET", path: "/x", handler: { callbackFactory: factory } }, b: { method: "GET", path: "/x", handler: { callbackFactory: factory } } })).to.throw(
                'routes.b repeats route key "GET /x" of routes.a',
            ));
    });
});
