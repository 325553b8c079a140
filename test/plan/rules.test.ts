import { expect } from "chai";
import {
    encryptionAtRest,
    evaluatePolicies,
    functionErrorThrottleAlarms,
    functionLogRetention,
    noFullAccessManagedPolicies,
    noWildcardPermissions,
    PolicyResource,
    PolicyRule,
    processedQueueDlqAlarm,
    scopedLambdaPermissions,
    scopedServicePrincipals,
    UNKNOWN,
} from "../../policy/rules";

const res = (type: string, props: Record<string, any>, name = "r"): PolicyResource => ({ urn: `urn:pulumi:s::p::${type}::${name}`, type, name, props });
const doc = (...Statement: any[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const policies = (resources: PolicyResource[]) => evaluatePolicies(resources).map((v) => v.policy);
/** The findings of one rule only, for fixtures that other rules would flag too. */
const findings = (rule: PolicyRule, resources: PolicyResource[]) => rule.check(resources).map((v) => v.message);

describe("policy rules", () => {
    it("flag a FullAccess managed policy attachment", () => {
        expect(policies([res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", { policyArn: "arn:aws:iam::aws:policy/AWSLambda_FullAccess" })])).to.deep.equal([
            "no-fullaccess-managed-policies",
        ]);
    });

    it('flag "*" and "service:*" actions', () => {
        const v = evaluatePolicies([res("aws:iam/rolePolicy:RolePolicy", { policy: doc({ Effect: "Allow", Action: ["s3:*", "sqs:SendMessage"], Resource: "arn:aws:s3:::b" }) })]);
        expect(v.map((x) => x.message)).to.deep.equal(['statement 0 allows the wildcard action "s3:*"']);
    });

    it('flag "*" resources, except for actions IAM grants only on "*"', () => {
        expect(policies([res("aws:iam/rolePolicy:RolePolicy", { policy: doc({ Effect: "Allow", Action: "dynamodb:GetItem", Resource: "*" }) })])).to.deep.equal([
            "no-wildcard-permissions",
        ]);
        expect(policies([res("aws:iam/rolePolicy:RolePolicy", { policy: doc({ Effect: "Allow", Action: "cloudwatch:PutMetricData", Resource: "*" }) })])).to.deep.equal([]);
    });

    it("accept Deny statements with wildcards (e.g. TLS-only queue policies)", () => {
        const tlsOnly = doc({ Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: "arn:aws:sqs:us-east-1:1:q", Condition: { Bool: { "aws:SecureTransport": "false" } } });
        expect(policies([res("aws:sqs/queuePolicy:QueuePolicy", { policy: tlsOnly })])).to.deep.equal([]);
    });

    it("flag a function whose log group is not declared or has no retention", () => {
        const fn = res("aws:lambda/function:Function", { name: "f", loggingConfig: { logGroup: "g" } }, "f");
        expect(findings(functionLogRetention, [fn])).to.have.length(1);
        expect(findings(functionLogRetention, [fn, res("aws:cloudwatch/logGroup:LogGroup", { name: "g" })])).to.deep.equal(['log group "g" has no retention']);
        expect(findings(functionLogRetention, [fn, res("aws:cloudwatch/logGroup:LogGroup", { name: "g", retentionInDays: 7 })])).to.deep.equal([]);
    });

    it("flag unencrypted tables, queues and topics", () => {
        expect(
            policies([res("aws:dynamodb/table:Table", {}), res("aws:sqs/queue:Queue", {}), res("aws:sns/topic:Topic", {}), res("aws:sqs/queue:Queue", { sqsManagedSseEnabled: true }, "ok")]),
        ).to.deep.equal(["encryption-at-rest", "encryption-at-rest", "encryption-at-rest"]);
    });

    it("report nothing for a policy document or function name unknown during a preview", () => {
        expect(policies([res("aws:iam/rolePolicy:RolePolicy", { policy: UNKNOWN }), res("aws:lambda/function:Function", { name: UNKNOWN })])).to.deep.equal([]);
    });

    it("take a KMS key ARN unknown during a preview as a key", () => {
        expect(policies([res("aws:sns/topic:Topic", { kmsMasterKeyId: UNKNOWN }), res("aws:sqs/queue:Queue", { kmsMasterKeyId: UNKNOWN })])).to.deep.equal([]);
    });

    it("still flag a topic with no KMS key at all (not set is not unknown)", () => {
        expect(policies([res("aws:sns/topic:Topic", { kmsMasterKeyId: undefined })])).to.deep.equal(["encryption-at-rest"]);
    });

    it("do not flag a function whose log group name is unknown during a preview", () => {
        expect(findings(functionLogRetention, [res("aws:lambda/function:Function", { name: "f", loggingConfig: { logGroup: UNKNOWN } }, "f")])).to.deep.equal([]);
    });

    describe("alarm coverage", () => {
        const alarm = (name: string, namespace: string, metricName: string, dimensions: Record<string, string>, actions = ["arn:aws:sns:us-east-1:1:t"]) =>
            res("aws:cloudwatch/metricAlarm:MetricAlarm", { namespace, metricName, dimensions, alarmActions: actions }, name);
        const fn = res("aws:lambda/function:Function", { name: "fn-1" }, "fn");

        it("flag a function without Errors and Throttles alarms", () => {
            expect(findings(functionErrorThrottleAlarms, [fn])).to.deep.equal([
                'function "fn-1" has no Errors alarm with an action',
                'function "fn-1" has no Throttles alarm with an action',
            ]);
        });

        it("accept a function whose Errors and Throttles alarms notify someone", () => {
            const alarms = ["Errors", "Throttles"].map((m) => alarm(m, "AWS/Lambda", m, { FunctionName: "fn-1" }));
            expect(findings(functionErrorThrottleAlarms, [fn, ...alarms])).to.deep.equal([]);
        });

        it("do not count an alarm without actions", () => {
            const alarms = ["Errors", "Throttles"].map((m) => alarm(m, "AWS/Lambda", m, { FunctionName: "fn-1" }, []));
            expect(findings(functionErrorThrottleAlarms, [fn, ...alarms])).to.have.length(2);
        });

        const component = res("bellyfed:events:ProcessedQueue", {}, "pq");
        const dlq = { ...res("aws:sqs/queue:Queue", { name: "pq-dlq", tags: { "bellyfed:queue-role": "dlq" } }, "pq-dlq"), parent: component.urn };

        it("flag a ProcessedQueue whose DLQ has no depth alarm", () => {
            expect(findings(processedQueueDlqAlarm, [component, dlq])).to.deep.equal(['DLQ "pq-dlq" has no alarm on ApproximateNumberOfMessagesVisible with an action']);
        });

        it("do not accept NumberOfMessagesSent as a DLQ alarm (redrive moves are not sends)", () => {
            expect(findings(processedQueueDlqAlarm, [component, dlq, alarm("a", "AWS/SQS", "NumberOfMessagesSent", { QueueName: "pq-dlq" })])).to.have.length(1);
        });

        it("accept a DLQ depth alarm whose dimensions and actions a preview does not know yet", () => {
            const pending = res("aws:cloudwatch/metricAlarm:MetricAlarm", { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: UNKNOWN }, alarmActions: UNKNOWN }, "a");
            expect(findings(processedQueueDlqAlarm, [component, dlq, pending])).to.deep.equal([]);
        });

        it("accept a DLQ depth alarm with an action", () => {
            expect(findings(processedQueueDlqAlarm, [component, dlq, alarm("a", "AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: "pq-dlq" })])).to.deep.equal([]);
        });
    });

    describe("managed policies", () => {
        const attachment = (policyArn: string) => res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", { policyArn });

        it("flag every managed policy CallbackFunction's default role attaches, CloudWatchFullAccessV2 and AmazonCognitoPowerUser included", () => {
            const defaults = [
                "AWSLambda_FullAccess",
                "CloudWatchFullAccessV2",
                "CloudWatchEventsFullAccess",
                "AmazonS3FullAccess",
                "AmazonDynamoDBFullAccess",
                "AmazonSQSFullAccess",
                "AmazonKinesisFullAccess",
                "AmazonCognitoPowerUser",
            ].map((name) => `arn:aws:iam::aws:policy/${name}`);
            expect(defaults.filter((arn) => findings(noFullAccessManagedPolicies, [attachment(arn)]).length === 0)).to.deep.equal([]);
        });

        it("flag a broad policy in a RolePolicyAttachmentsExclusive", () => {
            const exclusive = res("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", {
                roleName: "r",
                policyArns: ["arn:aws:iam::123456789012:policy/narrow", "arn:aws:iam::aws:policy/CloudWatchFullAccessV2"],
            });
            expect(findings(noFullAccessManagedPolicies, [exclusive])).to.deep.equal(["attaches the broad managed policy arn:aws:iam::aws:policy/CloudWatchFullAccessV2"]);
        });

        it("accept a customer-managed policy and AWSLambdaBasicExecutionRole", () => {
            expect(findings(noFullAccessManagedPolicies, [attachment("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"), attachment("arn:aws:iam::1:policy/mine")])).to.deep.equal([]);
        });
    });

    it("flag Allow with NotResource or NotAction (everything but a list)", () => {
        const policy = doc(
            { Sid: "AllButOne", Effect: "Allow", Action: "sqs:SendMessage", NotResource: "arn:aws:sqs:us-east-1:1:q" },
            { Sid: "AllButIam", Effect: "Allow", NotAction: "iam:*", Resource: "arn:aws:s3:::b" },
        );
        expect(findings(noWildcardPermissions, [res("aws:iam/rolePolicy:RolePolicy", { policy })])).to.deep.equal([
            "statement AllButOne uses NotResource with Allow",
            "statement AllButIam uses NotAction with Allow",
        ]);
    });

    describe("service principals in resource policies", () => {
        const queuePolicy = (statement: object) => res("aws:sqs/queuePolicy:QueuePolicy", { policy: doc({ Effect: "Allow", Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-1:1:q", ...statement }) });

        it("flag events.amazonaws.com allowed to send without aws:SourceArn or aws:SourceAccount", () => {
            expect(findings(scopedServicePrincipals, [queuePolicy({ Sid: "Any", Principal: { Service: "events.amazonaws.com" } })])).to.deep.equal([
                "statement Any allows the service principal events.amazonaws.com without an aws:SourceArn or aws:SourceAccount condition",
            ]);
        });

        it("flag a condition on something else (TLS) as no scoping", () => {
            const statement = { Principal: { Service: ["events.amazonaws.com"] }, Condition: { Bool: { "aws:SecureTransport": "true" } } };
            expect(findings(scopedServicePrincipals, [queuePolicy(statement)])).to.have.length(1);
        });

        it("accept aws:SourceArn or aws:SourceAccount under any operator", () => {
            const byArn = queuePolicy({ Principal: { Service: "events.amazonaws.com" }, Condition: { ArnEquals: { "aws:SourceArn": "arn:aws:events:us-east-1:1:rule/b/r" } } });
            const byAccount = res("aws:sns/topicPolicy:TopicPolicy", {
                policy: doc({ Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish", Resource: "arn:aws:sns:us-east-1:1:t", Condition: { StringEquals: { "aws:SourceAccount": "1" } } }),
            });
            expect(findings(scopedServicePrincipals, [byArn, byAccount])).to.deep.equal([]);
        });

        it("leave KMS key policies alone (EventBridge's KMS requests carry no source condition)", () => {
            const key = res("aws:kms/key:Key", { policy: doc({ Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: ["kms:GenerateDataKey"], Resource: "*" }) });
            expect(findings(scopedServicePrincipals, [key])).to.deep.equal([]);
        });
    });

    describe("Lambda permissions", () => {
        const permission = (props: object) => res("aws:lambda/permission:Permission", { action: "lambda:InvokeFunction", function: "f", ...props });

        it('flag principal "*"', () => {
            expect(findings(scopedLambdaPermissions, [permission({ principal: "*", sourceArn: "arn:aws:execute-api:us-east-1:1:a/*" })])).to.deep.equal(['lets any principal ("*") invoke the function']);
        });

        it("flag a service principal without sourceArn", () => {
            expect(findings(scopedLambdaPermissions, [permission({ principal: "apigateway.amazonaws.com" })])).to.deep.equal([
                "lets apigateway.amazonaws.com invoke the function with no sourceArn: any of that service's resources, in any account, could",
            ]);
        });

        it("accept a service principal with a sourceArn, known or not yet known", () => {
            const known = permission({ principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:us-east-1:1:a/*/GET/x" });
            const pending = permission({ principal: "apigateway.amazonaws.com", sourceArn: UNKNOWN });
            expect(findings(scopedLambdaPermissions, [known, pending])).to.deep.equal([]);
        });
    });

    describe("encryption keys senders can use", () => {
        const QUEUE_ARN = "arn:aws:sqs:us-east-1:1:q";
        const TOPIC_ARN = "arn:aws:sns:us-east-1:1:t";
        const queue = res("aws:sqs/queue:Queue", { arn: QUEUE_ARN, kmsMasterKeyId: "alias/aws/sqs" }, "q");
        const topic = res("aws:sns/topic:Topic", { arn: TOPIC_ARN, kmsMasterKeyId: "arn:aws:kms:us-east-1:1:alias/aws/sns" }, "t");
        const target = (props: object) => res("aws:cloudwatch/eventTarget:EventTarget", { rule: "r", ...props }, "target");
        const alarm = (props: object) => res("aws:cloudwatch/metricAlarm:MetricAlarm", { metricName: "Errors", ...props }, "alarm");

        it("flag a queue on alias/aws/sqs that an EventBridge rule targets", () => {
            expect(findings(encryptionAtRest, [queue, target({ arn: QUEUE_ARN })])).to.deep.equal([
                "queue is encrypted with alias/aws/sqs, whose key policy cannot let EventBridge (a rule target or DLQ here) encrypt: deliveries fail",
            ]);
        });

        it("flag a queue on alias/aws/sqs that is a rule target's DLQ", () => {
            expect(findings(encryptionAtRest, [queue, target({ arn: "arn:aws:sqs:us-east-1:1:other", deadLetterConfig: { arn: QUEUE_ARN } })])).to.have.length(1);
        });

        it("accept alias/aws/sqs on a queue EventBridge does not deliver to", () => {
            expect(findings(encryptionAtRest, [queue, target({ arn: "arn:aws:sqs:us-east-1:1:other" })])).to.deep.equal([]);
        });

        it("flag a topic on alias/aws/sns that CloudWatch alarms publish to (alarm or OK actions)", () => {
            const expected = ["topic is encrypted with arn:aws:kms:us-east-1:1:alias/aws/sns, which CloudWatch alarms cannot use: their notifications are never delivered"];
            expect(findings(encryptionAtRest, [topic, alarm({ alarmActions: [TOPIC_ARN] })])).to.deep.equal(expected);
            expect(findings(encryptionAtRest, [topic, alarm({ okActions: [TOPIC_ARN] })])).to.deep.equal(expected);
        });

        it("accept alias/aws/sns on a topic no alarm publishes to, and a customer key on one they do", () => {
            const ownKey = res("aws:sns/topic:Topic", { arn: TOPIC_ARN, kmsMasterKeyId: "arn:aws:kms:us-east-1:1:key/0e9f8a7b-1111-2222-3333-444455556666" }, "t");
            expect(findings(encryptionAtRest, [topic])).to.deep.equal([]);
            expect(findings(encryptionAtRest, [ownKey, alarm({ alarmActions: [TOPIC_ARN] })])).to.deep.equal([]);
        });

        it("do not link resources through ARNs a preview does not know yet", () => {
            const pendingQueue = res("aws:sqs/queue:Queue", { arn: UNKNOWN, kmsMasterKeyId: "alias/aws/sqs" }, "q");
            expect(findings(encryptionAtRest, [pendingQueue, target({ arn: UNKNOWN })])).to.deep.equal([]);
        });
    });
});
