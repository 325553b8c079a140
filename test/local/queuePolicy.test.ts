import { expect } from "chai";
import { eventBridgeDeliveryDenied } from "../../local/queuePolicy";

const QUEUE = "arn:aws:sqs:us-east-1:123456789012:analytics";
const RULE = "arn:aws:events:us-east-1:123456789012:rule/platform/views";
const REQUEST = { queueArn: QUEUE, ruleArn: RULE, accountId: "123456789012" };

const allow = (extra: object = {}) => ({
    Effect: "Allow",
    Principal: { Service: "events.amazonaws.com" },
    Action: "sqs:SendMessage",
    Resource: QUEUE,
    Condition: { ArnEquals: { "aws:SourceArn": RULE } },
    ...extra,
});
const tlsOnly = { Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: QUEUE, Condition: { Bool: { "aws:SecureTransport": "false" } } };
const policy = (...statements: object[]) => [{ Version: "2012-10-17", Statement: statements }];

describe("EventBridge -> SQS delivery check (queue policy and key)", () => {
    it("allows a statement for events.amazonaws.com scoped to the rule's ARN, next to a TLS-only deny", () => {
        expect(eventBridgeDeliveryDenied(policy(tlsOnly, allow()), undefined, REQUEST)).to.equal(undefined);
    });

    it("allows wildcards in actions, resources and ArnLike source ARNs", () => {
        const statement = allow({ Action: ["sqs:Send*"], Resource: "arn:aws:sqs:us-east-1:123456789012:*", Condition: { ArnLike: { "aws:SourceArn": "arn:aws:events:us-east-1:123456789012:rule/platform/*" } } });
        expect(eventBridgeDeliveryDenied(policy(statement), undefined, REQUEST)).to.equal(undefined);
    });

    const denied: [string, object[], RegExp][] = [
        ["no policy at all", [], /no statement of the queue policy allows events\.amazonaws\.com/],
        ["a policy scoped to another rule", policy(allow({ Condition: { ArnEquals: { "aws:SourceArn": `${RULE}-other` } } })), /no statement .* for aws:SourceArn arn:aws:events:us-east-1:123456789012:rule\/platform\/views/],
        ["a policy for another principal", policy(allow({ Principal: { Service: "sns.amazonaws.com" } })), /no statement/],
        ["a policy for another queue", policy(allow({ Resource: `${QUEUE}-dlq` })), /no statement/],
        ["a deny that matches", policy(allow(), { Effect: "Deny", Principal: "*", Action: "sqs:SendMessage", Resource: QUEUE }), /a Deny statement of the queue policy matches/],
    ];
    for (const [title, policies, message] of denied) {
        it(`refuses ${title}`, () => expect(eventBridgeDeliveryDenied(policies, undefined, REQUEST)).to.match(message));
    }

    it("refuses a queue encrypted with the AWS-managed alias/aws/sqs key, whatever the policy", () => {
        expect(eventBridgeDeliveryDenied(policy(allow()), "alias/aws/sqs", REQUEST)).to.match(/AWS-managed key alias\/aws\/sqs, which EventBridge cannot use/);
    });
});
