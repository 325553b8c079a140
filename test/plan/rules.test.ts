import { expect } from "chai";
import { evaluatePolicies, functionErrorThrottleAlarms, functionLogRetention, PolicyResource, PolicyRule, processedQueueDlqAlarm, UNKNOWN } from "../../policy/rules";

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
});
