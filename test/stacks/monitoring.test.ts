import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import { CapturedResource } from "../../plan/engine";
import { runStack } from "../../plan/runStack";
import { ALARM, FUNCTION, Graph, json, stackGraph } from "../support/graph";


/** Every metric (namespace, name, dimensions) an alarm watches, single-metric or metric math. */
function watched(alarm: CapturedResource): { namespace: string; metricName: string; dimensions: Record<string, string> }[] {
    if (alarm.inputs.metricName) return [{ namespace: alarm.inputs.namespace, metricName: alarm.inputs.metricName, dimensions: alarm.inputs.dimensions }];
    return (alarm.inputs.metricQueries ?? []).filter((q: any) => q.metric).map((q: any) => q.metric);
}

function alarmsOn(graph: Graph, namespace: string, metricName: string, dimension: string, value: string): CapturedResource[] {
    return graph.ofType(ALARM).filter((a) => watched(a).some((m) => m.namespace === namespace && m.metricName === metricName && m.dimensions?.[dimension] === value));
}

describe("stack monitoring", () => {
    let dev: Graph;
    let prod: Graph;
    before(async () => {
        [dev, prod] = await Promise.all([stackGraph("dev"), stackGraph("prod")]);
    });

    it("sends every alarm's ALARM and OK notifications to the stack's alarm topic", () => {
        const topic = prod.run.outputs.alarmTopicArn;
        expect(prod.ofType(ALARM).length).to.equal(prod.run.outputs.alarmCount).and.be.greaterThan(15);
        for (const alarm of prod.ofType(ALARM)) {
            expect(alarm.inputs.alarmActions, alarm.name).to.deep.equal([topic]);
            expect(alarm.inputs.okActions, alarm.name).to.deep.equal([topic]);
        }
    });

    it("encrypts the alarm topic with a customer-managed key CloudWatch may use", () => {
        const topic = prod.get("aws:sns/topic:Topic", "alarms");
        const key = prod.byOutput("arn", topic.inputs.kmsMasterKeyId) ?? prod.byOutput("id", topic.inputs.kmsMasterKeyId);
        expect(key?.type).to.equal("aws:kms/key:Key");
        const principals = json(key!.inputs.policy).Statement.map((s: any) => s.Principal?.Service).filter(Boolean);
        expect(principals).to.include("cloudwatch.amazonaws.com");
    });

    it("subscribes the configured on-call address in prod only", () => {
        expect(prod.ofType("aws:sns/topicSubscription:TopicSubscription").map((s) => s.inputs.endpoint)).to.deep.equal(["platform-oncall@bellyfed.com"]);
        expect(dev.ofType("aws:sns/topicSubscription:TopicSubscription")).to.deep.equal([]);
    });

    it("alarms on errors, throttles and p99 duration of every function", () => {
        for (const fn of prod.ofType(FUNCTION)) {
            for (const metric of ["Errors", "Throttles", "Duration"]) {
                expect(alarmsOn(prod, "AWS/Lambda", metric, "FunctionName", fn.outputs.name), `${fn.name} ${metric}`).to.have.length(1);
            }
        }
    });

    it("alarms on the API's 5xx count, 4xx rate and p99 latency by ApiId", () => {
        const apiId = prod.run.outputs.apiId;
        for (const metric of ["5xx", "4xx", "Latency"]) expect(alarmsOn(prod, "AWS/ApiGateway", metric, "ApiId", apiId), metric).to.have.length(1);
    });

    it("alarms on every processed queue's DLQ depth (Maximum >= 1), oldest message age and depth", () => {
        for (const q of prod.run.outputs.queues) {
            const [dlqAlarm] = alarmsOn(prod, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q.dlqName);
            expect(dlqAlarm.inputs).to.deep.include({ statistic: "Maximum", threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold" });
            expect(alarmsOn(prod, "AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q.queueName)).to.have.length(1);
            expect(alarmsOn(prod, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q.queueName)).to.have.length(1);
        }
    });

    it("alarms on FailedInvocations, InvocationsSentToDlq and InvocationsFailedToBeSentToDlq of every rule, and on its target DLQ", () => {
        for (const rule of prod.run.outputs.rules) {
            for (const metric of ["FailedInvocations", "InvocationsSentToDlq", "InvocationsFailedToBeSentToDlq"]) {
                const [alarm] = alarmsOn(prod, "AWS/Events", metric, "RuleName", rule.ruleName);
                expect(alarm.inputs.dimensions, metric).to.deep.equal({ EventBusName: rule.busName, RuleName: rule.ruleName });
            }
            expect(alarmsOn(prod, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", rule.targetDlqName)).to.have.length(1);
        }
    });

    it("alarms on throttles and system errors of every table", () => {
        for (const table of prod.ofType("aws:dynamodb/table:Table")) {
            expect(alarmsOn(prod, "AWS/DynamoDB", "ReadThrottleEvents", "TableName", table.outputs.name), table.name).to.have.length(1);
            expect(alarmsOn(prod, "AWS/DynamoDB", "SystemErrors", "TableName", table.outputs.name), table.name).to.have.length(1);
        }
    });

    it("uses the per-stack thresholds from config", () => {
        const threshold = (g: Graph, metric: string) => alarmsOn(g, "AWS/ApiGateway", metric, "ApiId", g.run.outputs.apiId)[0].inputs.threshold;
        expect([threshold(dev, "Latency"), threshold(prod, "Latency")]).to.deep.equal([5000, 1500]);
        expect([threshold(dev, "5xx"), threshold(prod, "5xx")]).to.deep.equal([10, 3]);
        const depth = (g: Graph) => alarmsOn(g, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", g.run.outputs.queues[0].queueName)[0].inputs.threshold;
        expect([depth(dev), depth(prod)]).to.deep.equal([5000, 500]);
    });

    describe("handler metrics that mean lost or doomed events", () => {
        // The dimensions Powertools gives every EMF metric of a function: service = POWERTOOLS_SERVICE_NAME.
        const serviceOf = (g: Graph, fn: string) => g.get(FUNCTION, fn).inputs.environment.variables.POWERTOOLS_SERVICE_NAME;
        const namespaceOf = (g: Graph, fn: string) => g.get(FUNCTION, fn).inputs.environment.variables.POWERTOOLS_METRICS_NAMESPACE;

        it("alarms on the query function's PublishFailures (Sum per 5 minutes >= 1), as its EMF emits it", () => {
            const fn = "query-api-restaurant-fn";
            const [alarm] = alarmsOn(prod, namespaceOf(prod, fn), "PublishFailures", "service", serviceOf(prod, fn));
            expect(alarm?.inputs).to.deep.include({
                namespace: "Bellyfed/prod",
                dimensions: { service: "restaurant-query" },
                statistic: "Sum",
                period: 300,
                threshold: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                evaluationPeriods: 1,
                treatMissingData: "notBreaching",
                alarmActions: [prod.run.outputs.alarmTopicArn],
            });
        });

        it("alarms on the analytics consumer's PoisonRecords, as its EMF emits it", () => {
            const fn = "analytics-queue-consumer-fn";
            const [alarm] = alarmsOn(prod, namespaceOf(prod, fn), "PoisonRecords", "service", serviceOf(prod, fn));
            expect(alarm?.inputs).to.deep.include({ namespace: "Bellyfed/prod", dimensions: { service: "analytics-consumer" }, statistic: "Sum", period: 300, threshold: 1 });
        });

        it("takes both thresholds from the stack config", async () => {
            const run = await runStack("dev", { "bellyfed:alarms": JSON.stringify({ publishFailuresPer5Minutes: 3, poisonRecordsPer5Minutes: 7 }) });
            const threshold = (name: string) => run.resources.find((r) => r.type === ALARM && r.name === name)?.inputs.threshold;
            expect([threshold("query-api-restaurant-publish-failures"), threshold("analytics-queue-poison-records")]).to.deep.equal([3, 7]);
        });
    });

    it("treats missing data as not breaching for error and DLQ alarms", () => {
        const fn = prod.ofType(FUNCTION)[0];
        expect(alarmsOn(prod, "AWS/Lambda", "Errors", "FunctionName", fn.outputs.name)[0].inputs.treatMissingData).to.equal("notBreaching");
    });

    describe("dashboard", () => {
        let body: any;
        let text: string;
        before(() => {
            body = json(prod.get("aws:cloudwatch/dashboard:Dashboard", "platform").inputs.dashboardBody);
            text = JSON.stringify(body);
        });

        it("is named per stack and exported with its console URL", () => {
            expect(prod.run.outputs.dashboardName).to.equal("bellyfed-prod");
            expect(prod.run.outputs.dashboardUrl).to.equal(
                "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/bellyfed-prod",
            );
        });

        it("has one row per flow, after the alarms", () => {
            expect(body.widgets.filter((w: any) => w.type === "text").map((w: any) => w.properties.markdown)).to.deep.equal([
                "## Alarms",
                "## Flow 1: restaurant query (API -> Lambda -> DynamoDB -> RestaurantViewed)",
                "## Flow 2: event processing (bus -> rule -> SQS -> consumer)",
            ]);
        });

        it("shows every alarm of the stack", () => {
            const shown = body.widgets.filter((w: any) => w.type === "alarm").flatMap((w: any) => w.properties.alarms);
            expect(shown.sort()).to.deep.equal(prod.ofType(ALARM).map((a) => a.outputs.arn).sort());
        });

        it("shows the handler-metric alarms among them", () => {
            const shown = body.widgets.filter((w: any) => w.type === "alarm").flatMap((w: any) => w.properties.alarms);
            for (const name of ["query-api-restaurant-publish-failures", "analytics-queue-poison-records"]) expect(shown, name).to.include(prod.get(ALARM, name).outputs.arn);
        });

        it("lists firing alarms first (sortBy stateUpdatedTimestamp)", () => {
            const alarmWidgets = body.widgets.filter((w: any) => w.type === "alarm");
            expect(alarmWidgets).to.not.be.empty;
            for (const w of alarmWidgets) expect(w.properties.sortBy).to.equal("stateUpdatedTimestamp");
        });

        it("references every queue, DLQ, function and rule of the stack", () => {
            for (const q of prod.run.outputs.queues) expect(text).to.include(q.queueName).and.include(q.dlqName);
            for (const fn of prod.ofType(FUNCTION)) expect(text).to.include(fn.outputs.name);
            for (const rule of prod.run.outputs.rules) expect(text).to.include(rule.ruleName).and.include(rule.targetDlqName);
        });

        it("plots the handlers' custom metrics in the stack's namespace", () => {
            expect(text).to.include('"Bellyfed/prod","EventsPublished"').and.include('"Bellyfed/prod","ViewsCounted"');
        });

        it("plots every metric the handlers emit", () => {
            // The metric names the handlers pass to addMetric or keep in their tally objects.
            const sources = ["handlers/runtime/publisher.ts", "handlers/restaurantQuery/index.ts", "handlers/analyticsConsumer/index.ts"].map((f) => fs.readFileSync(path.join(__dirname, "../..", f), "utf8"));
            const emitted = new Set<string>();
            for (const source of sources) {
                for (const m of source.matchAll(/addMetric\("(\w+)"/g)) emitted.add(m[1]);
                for (const tally of source.matchAll(/const tally = \{([^}]*)\}/g)) for (const m of tally[1].matchAll(/(\w+): 0/g)) emitted.add(m[1]);
            }
            expect(emitted.size).to.be.greaterThan(5);
            for (const metric of emitted) expect(text, metric).to.include(`"Bellyfed/prod","${metric}"`);
        });
    });
});
