import { expect } from "chai";
import { alarmWidgets, PlatformDashboard, QueryApi, ServerlessFunction, Table } from "../../components";
import { CapturedResource } from "../../plan/engine";
import { ALARM, Graph, json, programGraph } from "../support/graph";

const TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms";
const factory = () => async () => ({ statusCode: 200, body: "{}" });

describe("component alarms and dashboard", () => {
    let graph: Graph;
    const alarm = (name: string): CapturedResource => graph.get(ALARM, name);

    before(async () => {
        graph = await programGraph(() => {
            const fn = new ServerlessFunction("worker", { callbackFactory: factory, timeoutSeconds: 20, alarms: { topicArn: TOPIC, throttles: { enabled: false } } });
            const api = new QueryApi("api", {
                routes: { restaurant: { method: "GET", path: "/restaurant/{id}", handler: { callbackFactory: factory } } },
                alarms: { topicArn: TOPIC, latencyP99Ms: { threshold: 1500 } },
            });
            const table = new Table("things", { hashKey: "pk", alarms: { topicArn: TOPIC } });
            new ServerlessFunction("quiet", { callbackFactory: factory });
            new PlatformDashboard("dash", {
                dashboardName: "bellyfed-test",
                transforms: { dashboard: (args) => ({ ...args, dashboardName: "bellyfed-test-transformed" }) },
                rows: [
                    { title: "API", widgets: api.dashboardWidgets("us-east-1") },
                    { title: "Data", widgets: [...table.dashboardWidgets("us-east-1"), ...fn.dashboardWidgets("us-east-1")] },
                ],
            });
        });
    });

    describe("function alarms", () => {
        it("alarm on Errors >= 1 per minute, treating no data as OK", () => {
            expect(alarm("worker-errors").inputs).to.deep.include({
                namespace: "AWS/Lambda",
                metricName: "Errors",
                statistic: "Sum",
                threshold: 1,
                period: 60,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                treatMissingData: "notBreaching",
                dimensions: { FunctionName: graph.get("aws:lambda/function:Function", "worker-fn").outputs.name },
            });
        });

        it("alarm on duration p99 at 80% of the timeout, in milliseconds", () => {
            expect(alarm("worker-duration-p99").inputs).to.deep.include({ metricName: "Duration", extendedStatistic: "p99", threshold: 16000, evaluationPeriods: 3 });
            expect(alarm("worker-duration-p99").inputs.statistic).to.equal(undefined);
        });

        it("leave minutes without invocations out of the duration p99 evaluation (missing, like the API's latency), not count them as fast", () => {
            expect(alarm("worker-duration-p99").inputs.treatMissingData).to.equal("missing");
        });

        it("send both ALARM and OK transitions to the topic", () => {
            expect(alarm("worker-errors").inputs.alarmActions).to.deep.equal([TOPIC]);
            expect(alarm("worker-errors").inputs.okActions).to.deep.equal([TOPIC]);
        });

        it("can be turned off one by one", () => {
            expect(graph.ofType(ALARM).map((a) => a.name)).to.not.include("worker-throttles");
        });

        it("are not created without a topic", () => {
            expect(graph.ofType(ALARM).filter((a) => a.name.startsWith("quiet"))).to.deep.equal([]);
        });
    });

    describe("API alarms", () => {
        it("alarm on 5xx responses of the HTTP API by ApiId", () => {
            const api = graph.get("aws:apigatewayv2/api:Api", "api");
            expect(alarm("api-5xx").inputs).to.deep.include({ namespace: "AWS/ApiGateway", metricName: "5xx", dimensions: { ApiId: api.outputs.id }, threshold: 5 });
        });

        it("alarm on the 4xx rate with metric math that is 0 without traffic", () => {
            const queries = alarm("api-4xx-rate").inputs.metricQueries;
            expect(queries.map((q: any) => q.metric?.metricName ?? q.expression)).to.deep.equal(["4xx", "Count", "IF(requests > 0, 100 * errors / requests, 0)"]);
            expect(alarm("api-4xx-rate").inputs.threshold).to.equal(20);
        });

        it("alarm on p99 latency with the configured threshold", () => {
            expect(alarm("api-latency-p99").inputs).to.deep.include({ metricName: "Latency", extendedStatistic: "p99", threshold: 1500, treatMissingData: "missing" });
        });

        it("give every route function its own alarms", () => {
            expect(graph.ofType(ALARM).map((a) => a.name)).to.include.members(["api-restaurant-errors", "api-restaurant-throttles", "api-restaurant-duration-p99"]);
        });
    });

    describe("table alarms", () => {
        it("sum read and write throttle events of the table", () => {
            const queries = alarm("things-throttles").inputs.metricQueries;
            expect(queries.filter((q: any) => q.metric).map((q: any) => q.metric.metricName)).to.deep.equal(["ReadThrottleEvents", "WriteThrottleEvents"]);
            expect(queries[0].metric.dimensions).to.deep.equal({ TableName: graph.get("aws:dynamodb/table:Table", "things").outputs.name });
        });

        it("sum SystemErrors over the main operations, within CloudWatch's 10-metric limit", () => {
            const queries = alarm("things-system-errors").inputs.metricQueries;
            expect(queries.length).to.be.at.most(10);
            expect(queries.filter((q: any) => q.metric).map((q: any) => q.metric.dimensions.Operation)).to.include.members(["GetItem", "UpdateItem", "TransactWriteItems"]);
        });

        it("count a series with no datapoint as 0 in both sums (an operation never called must not blank the alarm)", () => {
            const expressions = ["things-throttles", "things-system-errors"].map((n) => alarm(n).inputs.metricQueries.find((q: any) => q.expression));
            expect(expressions[0].expression).to.equal("FILL(reads, 0) + FILL(writes, 0)");
            const metricIds = alarm("things-system-errors").inputs.metricQueries.filter((q: any) => q.metric).map((q: any) => q.id);
            expect(expressions[1].expression).to.equal(metricIds.map((id: string) => `FILL(${id}, 0)`).join(" + "));
        });
    });

    describe("dashboard", () => {
        let body: any;
        before(() => (body = json(graph.get("aws:cloudwatch/dashboard:Dashboard", "dash").inputs.dashboardBody)));

        it("applies the dashboard transform to the dashboard's args", () => {
            expect(graph.get("aws:cloudwatch/dashboard:Dashboard", "dash").inputs.dashboardName).to.equal("bellyfed-test-transformed");
        });

        it("has a title line per row", () => {
            expect(body.widgets.filter((w: any) => w.type === "text").map((w: any) => w.properties.markdown)).to.deep.equal(["## API", "## Data"]);
        });

        it("keeps every widget inside the 24-column grid", () => {
            for (const w of body.widgets) expect(w.x + w.width, JSON.stringify(w.properties.title)).to.be.at.most(24);
        });

        it("never overlaps two widgets", () => {
            const cells = new Set<string>();
            for (const w of body.widgets)
                for (let x = w.x; x < w.x + w.width; x++)
                    for (let y = w.y; y < w.y + w.height; y++) {
                        expect(cells.has(`${x},${y}`), `overlap at ${x},${y}`).to.equal(false);
                        cells.add(`${x},${y}`);
                    }
        });

        it("references the API, the table and the function by their physical ids", () => {
            const text = JSON.stringify(body);
            expect(text).to.include(graph.get("aws:apigatewayv2/api:Api", "api").outputs.id);
            expect(text).to.include(graph.get("aws:dynamodb/table:Table", "things").outputs.name);
            expect(text).to.include(graph.get("aws:lambda/function:Function", "worker-fn").outputs.name);
        });
    });

    describe("alarm widgets", () => {
        let widgets: any[];
        const arns = Array.from({ length: 250 }, (_, i) => `arn:aws:cloudwatch:us-east-1:123456789012:alarm:a-${String(i).padStart(3, "0")}`);
        before(async () => {
            const g = await programGraph(() => {
                new PlatformDashboard("many", { dashboardName: "many-alarms", rows: [{ title: "Alarms", widgets: alarmWidgets("Every alarm", [...arns].reverse()) }] });
            });
            widgets = json(g.get("aws:cloudwatch/dashboard:Dashboard", "many").inputs.dashboardBody).widgets.filter((w: any) => w.type === "alarm");
        });

        it("hold at most 100 alarms each (CloudWatch's limit), every alarm exactly once", () => {
            expect(widgets.map((w) => w.properties.alarms.length)).to.deep.equal([100, 100, 50]);
            expect(widgets.flatMap((w) => w.properties.alarms)).to.deep.equal(arns);
        });

        it("are numbered when there are several", () => {
            expect(widgets.map((w) => w.properties.title)).to.deep.equal(["Every alarm (1/3)", "Every alarm (2/3)", "Every alarm (3/3)"]);
        });

        it("sort by state, ALARM first (sortBy stateUpdatedTimestamp)", () => {
            expect(widgets.map((w) => w.properties.sortBy)).to.deep.equal(["stateUpdatedTimestamp", "stateUpdatedTimestamp", "stateUpdatedTimestamp"]);
        });
    });
});
