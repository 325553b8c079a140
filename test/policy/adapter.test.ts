import { unknownCheckingProxy } from "@pulumi/policy";
import { expect } from "chai";
import { knownValues, policies, stackPolicy, toRuleResource } from "../../policy/pack/policies";
import { PolicyRule, UNKNOWN } from "../../policy/rules";

// The wire sentinels CrossGuard puts where a preview does not know a value yet.
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const UNKNOWN_ARRAY = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2";

const urn = (type: string, name: string) => `urn:pulumi:dev::bellyfed::${type}::${name}`;

describe("CrossGuard adapter (policy/pack/policies.ts)", () => {
    it("gives the rules the parent's URN, not the parent resource", () => {
        const parent = { urn: urn("bellyfed:api:QueryApi", "api"), type: "bellyfed:api:QueryApi", name: "api", props: {} };
        const child = { urn: urn("aws:sqs/queue:Queue", "q"), type: "aws:sqs/queue:Queue", name: "q", props: { sqsManagedSseEnabled: true }, parent };
        expect(toRuleResource(child)).to.deep.equal({ urn: child.urn, type: child.type, name: "q", parent: parent.urn, props: { sqsManagedSseEnabled: true } });
    });

    it("leaves the parent undefined for a resource at the root", () => {
        expect(toRuleResource({ urn: urn("aws:sqs/queue:Queue", "q"), type: "aws:sqs/queue:Queue", name: "q", props: {} }).parent).to.equal(undefined);
    });

    it("turns values a preview does not know yet into UNKNOWN (set, not missing) instead of throwing", () => {
        const props = unknownCheckingProxy({ name: "f", loggingConfig: { logGroup: UNKNOWN_STRING, logFormat: "JSON" }, architectures: UNKNOWN_ARRAY, layers: ["a", UNKNOWN_STRING] });
        expect(() => props.loggingConfig.logGroup).to.throw(/can't be known during preview/);
        expect(knownValues(props)).to.deep.equal({ name: "f", loggingConfig: { logGroup: UNKNOWN, logFormat: "JSON" }, architectures: UNKNOWN, layers: ["a", UNKNOWN] });
    });

    it("does not report a topic or queue whose KMS key ARN a preview does not know yet", async () => {
        const reported: string[] = [];
        const topic = { urn: urn("aws:sns/topic:Topic", "t"), type: "aws:sns/topic:Topic", name: "t", props: unknownCheckingProxy({ name: "t", kmsMasterKeyId: UNKNOWN_STRING }) };
        const queue = { urn: urn("aws:sqs/queue:Queue", "q"), type: "aws:sqs/queue:Queue", name: "q", props: unknownCheckingProxy({ name: "q", kmsMasterKeyId: UNKNOWN_STRING }) };
        for (const p of policies) await p.validateStack({ resources: [topic, queue] } as any, (m) => reported.push(m));
        expect(reported).to.deep.equal([]);
    });

    it("keeps plain values as they are", () => {
        expect(knownValues({ a: [1, { b: null }], c: "x", d: false })).to.deep.equal({ a: [1, { b: null }], c: "x", d: false });
    });

    it("reports each finding of a rule against the resource's URN, with the rule's message", () => {
        const rule: PolicyRule = {
            name: "no-queues",
            description: "No queues.",
            check: (resources) => resources.filter((r) => r.type === "aws:sqs/queue:Queue").map((r) => ({ urn: r.urn, message: `queue ${r.name}` })),
        };
        const reported: [string, string | undefined][] = [];
        const queue = { urn: urn("aws:sqs/queue:Queue", "q"), type: "aws:sqs/queue:Queue", name: "q", props: {} };
        const table = { urn: urn("aws:dynamodb/table:Table", "t"), type: "aws:dynamodb/table:Table", name: "t", props: {} };
        stackPolicy(rule).validateStack({ resources: [queue, table] } as any, (message, at) => reported.push([message, at]));
        expect(reported).to.deep.equal([["queue q", queue.urn]]);
    });

    it("lets a rule skip a policy document a preview does not know yet", async () => {
        const reported: string[] = [];
        const rolePolicy = { urn: urn("aws:iam/rolePolicy:RolePolicy", "p"), type: "aws:iam/rolePolicy:RolePolicy", name: "p", props: unknownCheckingProxy({ role: "r", policy: UNKNOWN_STRING }) };
        for (const p of policies) await p.validateStack({ resources: [rolePolicy] } as any, (m) => reported.push(m));
        expect(reported).to.deep.equal([]);
    });
});
