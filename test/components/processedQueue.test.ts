import { expect } from "chai";
import { ProcessedQueue, ProcessedQueueArgs } from "../../components";
import { CapturedResource } from "../../plan/engine";
import { ALARM, ESM, Graph, json, KMS_KEY as KEY, programGraph, QUEUE, QUEUE_POLICY as POLICY } from "../support/graph";

const TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms";
const KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const consumer = (timeoutSeconds?: number): ProcessedQueueArgs["consumer"] => ({
    callbackFactory: () => async () => ({ batchItemFailures: [] }),
    timeoutSeconds,
});

describe("ProcessedQueue", () => {
    let graph: Graph;
    const queue = (name: string): CapturedResource => graph.get(QUEUE, name);
    const statementsOf = (policyName: string): any[] => json(graph.get(POLICY, policyName).inputs.policy).Statement;

    before(async () => {
        graph = await programGraph(() => {
            new ProcessedQueue("plain", { consumer: consumer(), tags: { stack: "test" } });
            new ProcessedQueue("tuned", {
                consumer: consumer(30),
                maxReceiveCount: 3,
                batchSize: 100,
                batchingWindowSeconds: 5,
                maxConcurrency: 4,
                retentionSeconds: 86400,
                dlqRetentionSeconds: 172800,
                alarmTopicArn: TOPIC,
                alarms: { consumerThrottles: { enabled: false }, dlqMessages: { threshold: 3 } },
            });
            new ProcessedQueue("explicit", { consumer: consumer(30), visibilityTimeoutSeconds: 45 });
            new ProcessedQueue("ordered", { consumer: consumer(), fifo: true });
            new ProcessedQueue("own-key", { consumer: consumer(), encryption: { type: "kms" } });
            new ProcessedQueue("given-key", { consumer: consumer(), encryption: { type: "kms", keyArn: KEY_ARN } });
        });
    });

    describe("queue and dead-letter queue", () => {
        it("sends a message to the DLQ after maxReceiveCount receives (default 5)", () => {
            expect(json(queue("plain").inputs.redrivePolicy)).to.deep.equal({ deadLetterTargetArn: queue("plain-dlq").outputs.arn, maxReceiveCount: 5 });
            expect(json(queue("tuned").inputs.redrivePolicy).maxReceiveCount).to.equal(3);
        });

        it("lets only its own queue use the DLQ (redrive allow policy byQueue)", () => {
            const allow = graph.get("aws:sqs/redriveAllowPolicy:RedriveAllowPolicy", "plain-dlq-redrive-allow").inputs;
            expect(allow.queueUrl).to.equal(queue("plain-dlq").outputs.url);
            expect(json(allow.redriveAllowPolicy)).to.deep.equal({ redrivePermission: "byQueue", sourceQueueArns: [queue("plain").outputs.arn] });
        });

        it("keeps messages 4 days on the queue and 14 days in the DLQ by default", () => {
            expect([queue("plain").inputs.messageRetentionSeconds, queue("plain-dlq").inputs.messageRetentionSeconds]).to.deep.equal([345600, 1209600]);
        });

        it("derives the visibility timeout as 6 x the consumer timeout + the batching window", () => {
            expect(queue("plain").inputs.visibilityTimeoutSeconds).to.equal(60);
            expect(queue("tuned").inputs.visibilityTimeoutSeconds).to.equal(6 * 30 + 5);
        });

        it("keeps a given visibility timeout that covers the consumer timeout", () => {
            expect(queue("explicit").inputs.visibilityTimeoutSeconds).to.equal(45);
        });

        it("makes the DLQ of a FIFO queue FIFO too, with content-based deduplication", () => {
            for (const name of ["ordered", "ordered-dlq"]) {
                expect(queue(name).inputs, name).to.deep.include({ fifoQueue: true, contentBasedDeduplication: true });
                expect(queue(name).outputs.name, name).to.match(/\.fifo$/);
            }
            expect(queue("plain-dlq").inputs.fifoQueue).to.equal(undefined);
        });

        it("tags the queue and the DLQ with the component name and their role", () => {
            expect(queue("plain").inputs.tags).to.deep.equal({ stack: "test", "bellyfed:processed-queue": "plain", "bellyfed:queue-role": "source" });
            expect(queue("plain-dlq").inputs.tags).to.deep.equal({ stack: "test", "bellyfed:processed-queue": "plain", "bellyfed:queue-role": "dlq" });
        });

        it("refuses every request not made over TLS, on the queue and on the DLQ", () => {
            for (const [policy, q] of [["plain-policy", "plain"], ["plain-dlq-policy", "plain-dlq"]]) {
                expect(graph.get(POLICY, policy).inputs.queueUrl).to.equal(queue(q).outputs.url);
                expect(statementsOf(policy)).to.deep.include({
                    Sid: "DenyInsecureTransport",
                    Effect: "Deny",
                    Principal: "*",
                    Action: "sqs:*",
                    Resource: queue(q).outputs.arn,
                    Condition: { Bool: { "aws:SecureTransport": "false" } },
                });
            }
        });

        it("grants no sender anything until a route asks for it", () => {
            expect(statementsOf("plain-policy").filter((s) => s.Effect === "Allow")).to.deep.equal([]);
        });
    });

    describe("encryption", () => {
        it("uses SSE-SQS by default", () => {
            expect(queue("plain").inputs).to.deep.include({ sqsManagedSseEnabled: true });
            expect(queue("plain").inputs.kmsMasterKeyId).to.equal(undefined);
        });

        it("creates a rotating customer-managed key for kms encryption without a key", () => {
            const key = graph.get(KEY, "own-key-key");
            expect(key.inputs.enableKeyRotation).to.equal(true);
            expect(queue("own-key").inputs.kmsMasterKeyId).to.equal(key.outputs.arn);
            expect(queue("own-key-dlq").inputs.kmsMasterKeyId).to.equal(key.outputs.arn);
        });

        it("lets EventBridge encrypt and the consumer role decrypt with the created key", () => {
            const statements = json(graph.get(KEY, "own-key-key").inputs.policy).Statement;
            const role = graph.get("aws:iam/role:Role", "own-key-consumer-role");
            expect(statements).to.deep.include({
                Sid: "EventBridgeEncryptsDeliveries",
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                Resource: "*",
            });
            expect(statements).to.deep.include({ Sid: "ConsumerDecryptsMessages", Effect: "Allow", Principal: { AWS: role.outputs.arn }, Action: ["kms:Decrypt"], Resource: "*" });
        });

        it("grants the consumer kms:Decrypt on a given key", () => {
            const policy = json(graph.get("aws:iam/rolePolicy:RolePolicy", "given-key-consumer-policy").inputs.policy);
            expect(policy.Statement).to.deep.include({ Sid: "DecryptQueueMessages", Effect: "Allow", Action: ["kms:Decrypt"], Resource: KEY_ARN });
            expect(queue("given-key").inputs.kmsMasterKeyId).to.equal(KEY_ARN);
            expect(graph.ofType(KEY).map((k) => k.name)).to.not.include("given-key-key");
        });
    });

    describe("consumer", () => {
        it("may receive, delete and read attributes of its queue only", () => {
            const policy = json(graph.get("aws:iam/rolePolicy:RolePolicy", "plain-consumer-policy").inputs.policy);
            expect(policy.Statement).to.deep.include({
                Sid: "ConsumeQueue",
                Effect: "Allow",
                Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                Resource: queue("plain").outputs.arn,
            });
        });

        it("is triggered by a mapping that reports partial batch failures", () => {
            const esm = graph.get(ESM, "plain-consumer").inputs;
            expect(esm).to.deep.include({
                eventSourceArn: queue("plain").outputs.arn,
                functionName: graph.get("aws:lambda/function:Function", "plain-consumer-fn").outputs.arn,
                functionResponseTypes: ["ReportBatchItemFailures"],
                batchSize: 10,
                maximumBatchingWindowInSeconds: 0,
                enabled: true,
            });
            expect(esm.scalingConfig).to.equal(undefined);
        });

        it("carries the batch size, batching window and maximum concurrency given", () => {
            expect(graph.get(ESM, "tuned-consumer").inputs).to.deep.include({ batchSize: 100, maximumBatchingWindowInSeconds: 5, scalingConfig: { maximumConcurrency: 4 } });
        });

        it("sets no batching window on a FIFO mapping", () => {
            expect(graph.get(ESM, "ordered-consumer").inputs.maximumBatchingWindowInSeconds).to.equal(undefined);
        });
    });

    describe("alarms", () => {
        const alarm = (name: string) => graph.get(ALARM, name).inputs;

        it("alarm when the DLQ holds messages: ApproximateNumberOfMessagesVisible, Maximum", () => {
            expect(alarm("tuned-dlq-messages")).to.deep.include({
                namespace: "AWS/SQS",
                metricName: "ApproximateNumberOfMessagesVisible",
                statistic: "Maximum",
                dimensions: { QueueName: queue("tuned-dlq").outputs.name },
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                threshold: 3,
                treatMissingData: "notBreaching",
            });
        });

        it("alarm on the age of the oldest message beyond what retries explain", () => {
            expect(alarm("tuned-oldest-message-age")).to.deep.include({
                metricName: "ApproximateAgeOfOldestMessage",
                statistic: "Maximum",
                dimensions: { QueueName: queue("tuned").outputs.name },
                threshold: 3 * 185 + 300,
            });
        });

        it("alarm on the consumer's errors", () => {
            expect(alarm("tuned-consumer-errors")).to.deep.include({
                namespace: "AWS/Lambda",
                metricName: "Errors",
                dimensions: { FunctionName: graph.get("aws:lambda/function:Function", "tuned-consumer-fn").outputs.name },
            });
        });

        it("send ALARM and OK notifications to the alarm topic", () => {
            for (const name of ["tuned-dlq-messages", "tuned-oldest-message-age", "tuned-consumer-errors"]) {
                expect([alarm(name).alarmActions, alarm(name).okActions], name).to.deep.equal([[TOPIC], [TOPIC]]);
            }
        });

        it("can be turned off one by one", () => {
            expect(graph.ofType(ALARM).map((a) => a.name)).to.not.include("tuned-consumer-throttles");
        });

        it("exist only with an alarm topic", () => {
            expect(graph.ofType(ALARM).filter((a) => a.name.startsWith("plain"))).to.deep.equal([]);
        });
    });

    describe("consumer transforms", () => {
        let transformed: Graph;
        before(async () => {
            transformed = await programGraph(() => {
                new ProcessedQueue("both", {
                    consumer: {
                        ...consumer(),
                        transforms: {
                            function: (args) => ({ ...args, description: "consumer", memorySize: 512 }),
                            role: (args) => ({ ...args, description: "consumer's role" }),
                        },
                    },
                    transforms: { consumer: { function: (args) => ({ ...args, description: `${args.description} then queue` }), logGroup: (args) => ({ ...args, retentionInDays: 90 }) } },
                });
            });
        });

        it("apply both consumer.transforms and transforms.consumer to the same child, the consumer's own first", () => {
            expect(transformed.get("aws:lambda/function:Function", "both-consumer-fn").inputs).to.include({ description: "consumer then queue", memorySize: 512 });
        });

        it("apply a transform given in only one of the two places", () => {
            expect(transformed.get("aws:iam/role:Role", "both-consumer-role").inputs.description).to.equal("consumer's role");
            expect(transformed.get("aws:cloudwatch/logGroup:LogGroup", "both-consumer-logs").inputs.retentionInDays).to.equal(90);
        });
    });

    describe("rejects bad arguments before registering anything", () => {
        const reject = (args: Partial<ProcessedQueueArgs>, message: string) => {
            expect(() => new ProcessedQueue("bad", { consumer: consumer(30), ...args })).to.throw(message);
        };

        it("a visibility timeout below the consumer timeout, naming both", () => {
            reject({ visibilityTimeoutSeconds: 20 }, 'ProcessedQueue "bad": visibilityTimeoutSeconds (20 s) must be at least the consumer timeout (30 s)');
        });

        it("a DLQ retention not longer than the queue's", () => {
            reject({ retentionSeconds: 1209600 }, "dlqRetentionSeconds (1209600 s) must be longer than retentionSeconds (1209600 s)");
        });

        it("a maxReceiveCount outside 1..1000", () => {
            reject({ maxReceiveCount: 0 }, "maxReceiveCount must be an integer from 1 to 1000, got 0");
        });

        it("a batch above 10 without a batching window", () => {
            reject({ batchSize: 50 }, "batchSize of 50 (above 10) needs batchingWindowSeconds of at least 1, got 0");
        });

        it("a batching window on a FIFO queue", () => {
            reject({ fifo: true, batchingWindowSeconds: 5 }, "batchingWindowSeconds must be 0 for a FIFO queue");
        });

        it("a FIFO batch above 10", () => {
            reject({ fifo: true, batchSize: 11 }, "batchSize must be an integer from 1 to 10, got 11");
        });

        it("a maximum concurrency below 2", () => {
            reject({ maxConcurrency: 1 }, "maxConcurrency must be an integer from 2 to 1000, got 1");
        });

        it("the AWS-managed alias/aws/sqs key, which EventBridge cannot use", () => {
            reject({ encryption: { type: "kms", keyArn: "alias/aws/sqs" } }, 'encryption.keyArn "alias/aws/sqs" is the AWS-managed SQS key: EventBridge cannot send');
        });

        it("the AWS-managed key in its alias ARN form", () => {
            reject({ encryption: { type: "kms", keyArn: "arn:aws:kms:us-east-1:123456789012:alias/aws/sqs" } }, "is the AWS-managed SQS key");
        });

        it("a key alias instead of a key ARN", () => {
            reject({ encryption: { type: "kms", keyArn: "alias/mine" } }, 'encryption.keyArn must be a KMS key ARN');
        });

        it("an alarm period CloudWatch does not accept", () => {
            reject({ alarms: { dlqMessages: { periodSeconds: 45 } } }, "alarms.dlqMessages.periodSeconds must be 10, 20, 30 or a multiple of 60, got 45");
        });

        it("a consumer without a callback factory", () => {
            expect(() => new ProcessedQueue("bad", { consumer: {} as any })).to.throw('ProcessedQueue "bad": consumer.callbackFactory must be a callback factory function');
        });

        it("and registers nothing when it throws", async () => {
            const g = await programGraph(() => {
                try {
                    new ProcessedQueue("rejected", { consumer: consumer(30), visibilityTimeoutSeconds: 1 });
                } catch {
                    // expected
                }
            });
            expect(g.resources).to.deep.equal([]);
        });
    });
});
