import { expect } from "chai";
import { evaluatePolicies, PolicyResource } from "../../policy/rules";

const res = (type: string, props: Record<string, any>, name = "r"): PolicyResource => ({ urn: `urn:pulumi:s::p::${type}::${name}`, type, name, props });
const doc = (...Statement: any[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const policies = (resources: PolicyResource[]) => evaluatePolicies(resources).map((v) => v.policy);

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
        expect(policies([fn])).to.deep.equal(["function-log-retention"]);
        expect(policies([fn, res("aws:cloudwatch/logGroup:LogGroup", { name: "g" })])).to.deep.equal(["function-log-retention"]);
        expect(policies([fn, res("aws:cloudwatch/logGroup:LogGroup", { name: "g", retentionInDays: 7 })])).to.deep.equal([]);
    });

    it("flag unencrypted tables, queues and topics", () => {
        expect(
            policies([res("aws:dynamodb/table:Table", {}), res("aws:sqs/queue:Queue", {}), res("aws:sns/topic:Topic", {}), res("aws:sqs/queue:Queue", { sqsManagedSseEnabled: true }, "ok")]),
        ).to.deep.equal(["encryption-at-rest", "encryption-at-rest", "encryption-at-rest"]);
    });

    it("report nothing for values unknown during a preview", () => {
        expect(policies([res("aws:iam/rolePolicy:RolePolicy", { policy: undefined }), res("aws:lambda/function:Function", {})])).to.deep.equal([]);
    });
});
