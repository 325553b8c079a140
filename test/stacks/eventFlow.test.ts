import { expect } from "chai";
import { catalogEventPattern } from "../../handlers/events/catalog";
import { ALARM, ESM, FUNCTION as FN, Graph, json, QUEUE, ROLE_POLICY, RULE, stackGraph, TABLE } from "../support/graph";


describe("event processing flow in the stacks", () => {
    let dev: Graph;
    let prod: Graph;
    before(async () => {
        [dev, prod] = await Promise.all([stackGraph("dev"), stackGraph("prod")]);
    });
    const statements = (g: Graph, policy: string) => json(g.get(ROLE_POLICY, policy).inputs.policy).Statement;

    describe("in both stacks", () => {
        for (const stack of ["dev", "prod"]) {
            const graph = () => (stack === "dev" ? dev : prod);

            it(`${stack}: routes RestaurantViewed, as the catalog names it, from the platform bus`, () => {
                const rule = graph().get(RULE, "platform-bus-restaurant-viewed").inputs;
                expect(json(rule.eventPattern)).to.deep.equal(catalogEventPattern("RestaurantViewed"));
                expect(rule.eventBusName).to.equal(graph().get("aws:cloudwatch/eventBus:EventBus", "platform-bus").outputs.name);
            });

            it(`${stack}: delivers to the analytics queue, which EventBridge may send to for that rule only`, () => {
                const g = graph();
                const target = g.get("aws:cloudwatch/eventTarget:EventTarget", "platform-bus-restaurant-viewed").inputs;
                expect(target.arn).to.equal(g.get(QUEUE, "analytics-queue").outputs.arn);
                const allow = json(g.get("aws:sqs/queuePolicy:QueuePolicy", "analytics-queue-policy").inputs.policy).Statement.filter((s: any) => s.Effect === "Allow");
                expect(allow.map((s: any) => s.Condition)).to.deep.equal([{ ArnEquals: { "aws:SourceArn": g.get(RULE, "platform-bus-restaurant-viewed").outputs.arn } }]);
            });

            it(`${stack}: runs the analytics consumer on the queue, reporting partial batch failures`, () => {
                const g = graph();
                const esm = g.get(ESM, "analytics-queue-consumer").inputs;
                expect(esm.eventSourceArn).to.equal(g.get(QUEUE, "analytics-queue").outputs.arn);
                expect(esm.functionName).to.equal(g.get(FN, "analytics-queue-consumer-fn").outputs.arn);
                expect(esm.functionResponseTypes).to.deep.equal(["ReportBatchItemFailures"]);
            });

            it(`${stack}: gives the consumer the analytics table and counter writes on it only`, () => {
                const g = graph();
                const table = g.get(TABLE, "analytics");
                expect(g.get(FN, "analytics-queue-consumer-fn").inputs.environment.variables.ANALYTICS_TABLE).to.equal(table.outputs.name);
                expect(statements(g, "analytics-queue-consumer-policy")).to.deep.include({
                    Sid: "CountViews",
                    Effect: "Allow",
                    Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                    Resource: table.outputs.arn,
                });
            });

            it(`${stack}: keeps the analytics counters by restaurant and sort key, with TTL on idempotency records`, () => {
                const table = graph().get(TABLE, "analytics").inputs;
                expect([table.hashKey, table.rangeKey, table.ttl]).to.deep.equal(["restaurantId", "sk", { attributeName: "expiresAt", enabled: true }]);
            });

            it(`${stack}: serves GET /restaurant/{id}/stats from a function that can only read`, () => {
                const g = graph();
                expect(g.ofType("aws:apigatewayv2/route:Route").map((r) => r.inputs.routeKey).sort()).to.deep.equal(["GET /restaurant/{id}", "GET /restaurant/{id}/stats"]);
                const actions = statements(g, "query-api-stats-policy").flatMap((s: any) => s.Action);
                expect(actions).to.deep.equal(["logs:CreateLogStream", "logs:PutLogEvents", "dynamodb:GetItem", "dynamodb:Query"]);
            });

            it(`${stack}: sends the queue's alarms to the stack's alarm topic`, () => {
                const g = graph();
                const topic = g.get("aws:sns/topic:Topic", "alarms").outputs.arn;
                for (const name of ["analytics-queue-dlq-messages", "analytics-queue-oldest-message-age", "analytics-queue-consumer-errors", "platform-bus-restaurant-viewed-target-dlq-messages"]) {
                    expect(g.get(ALARM, name).inputs.alarmActions, name).to.deep.equal([topic]);
                }
            });

            it(`${stack}: tags the queues with the stack name, the component and their role`, () => {
                const roles = graph()
                    .ofType(QUEUE)
                    .map((q) => q.inputs.tags)
                    .map((t) => [t.stack, t["bellyfed:processed-queue"], t["bellyfed:queue-role"]]);
                expect(roles).to.have.deep.members([
                    [stack, "analytics-queue", "source"],
                    [stack, "analytics-queue", "dlq"],
                    [stack, "analytics-queue", "target-dlq"],
                ]);
            });

            it(`${stack}: exports the processed queues and the rules for operators`, () => {
                const g = graph();
                const { queues, rules } = g.run.outputs;
                expect(queues).to.deep.equal([
                    {
                        name: "analytics-queue",
                        queueUrl: g.get(QUEUE, "analytics-queue").outputs.url,
                        queueArn: g.get(QUEUE, "analytics-queue").outputs.arn,
                        queueName: g.get(QUEUE, "analytics-queue").outputs.name,
                        dlqUrl: g.get(QUEUE, "analytics-queue-dlq").outputs.url,
                        dlqArn: g.get(QUEUE, "analytics-queue-dlq").outputs.arn,
                        dlqName: g.get(QUEUE, "analytics-queue-dlq").outputs.name,
                    },
                ]);
                expect(rules.map((r: any) => [r.name, r.ruleArn, r.pattern])).to.deep.equal([
                    ["platform-bus/restaurant-viewed", g.get(RULE, "platform-bus-restaurant-viewed").outputs.arn, catalogEventPattern("RestaurantViewed")],
                ]);
                expect(g.get(RULE, "platform-bus-restaurant-viewed").inputs.tags).to.include({ stack, "bellyfed:rule": "platform-bus/restaurant-viewed" });
            });
        }
    });

    describe("per stack", () => {
        it("batches 10 records at up to 2 concurrent consumers in dev, 25 with a 5 s window at up to 10 in prod", () => {
            const pick = (g: Graph) => {
                const esm = g.get(ESM, "analytics-queue-consumer").inputs;
                return [esm.batchSize, esm.maximumBatchingWindowInSeconds, esm.scalingConfig.maximumConcurrency];
            };
            expect([pick(dev), pick(prod)]).to.deep.equal([
                [10, 0, 2],
                [25, 5, 10],
            ]);
        });

        it("derives the visibility timeout from the consumer's 30 s timeout and the batching window", () => {
            expect([dev, prod].map((g) => g.get(QUEUE, "analytics-queue").inputs.visibilityTimeoutSeconds)).to.deep.equal([180, 185]);
        });

        it("encrypts the analytics queues with SSE-SQS in dev and a customer-managed key in prod", () => {
            expect(dev.get(QUEUE, "analytics-queue").inputs.sqsManagedSseEnabled).to.equal(true);
            const key = prod.get("aws:kms/key:Key", "analytics-queue-key").outputs.arn;
            expect([prod.get(QUEUE, "analytics-queue").inputs.kmsMasterKeyId, prod.get(QUEUE, "analytics-queue-dlq").inputs.kmsMasterKeyId]).to.deep.equal([key, key]);
        });

        it("e-mails prod alarms to the on-call address; dev has no subscriber", () => {
            const endpoints = (g: Graph) => g.ofType("aws:sns/topicSubscription:TopicSubscription").map((s) => s.inputs.endpoint);
            expect([endpoints(dev), endpoints(prod)]).to.deep.equal([[], ["platform-oncall@bellyfed.com"]]);
        });
    });
});
