import { expect } from "chai";
import { AlarmTopic } from "../../components";
import { Graph, json, KMS_KEY as KEY, programGraph, TOPIC } from "../support/graph";


describe("AlarmTopic (where processed queues send their alarms)", () => {
    let graph: Graph;
    let topicArn: string;
    before(async () => {
        graph = await programGraph(() => {
            const topic = new AlarmTopic("alarms", { emails: ["ops@bellyfed.com"], httpsEndpoints: ["https://hooks.bellyfed.com/alarms"] });
            new AlarmTopic("silent");
            return { topicArn: topic.topicArn };
        });
        topicArn = graph.run.outputs.topicArn;
    });

    it("is a bellyfed:monitoring:AlarmTopic whose topicArn output is the topic's ARN", () => {
        expect(graph.ofType("bellyfed:monitoring:AlarmTopic").map((c) => c.name)).to.deep.equal(["alarms", "silent"]);
        expect(topicArn).to.equal(graph.get(TOPIC, "alarms").outputs.arn);
    });

    it("encrypts the topic with its own rotating customer-managed key, not alias/aws/sns", () => {
        const key = graph.get(KEY, "alarms-key");
        expect(graph.get(TOPIC, "alarms").inputs.kmsMasterKeyId).to.equal(key.outputs.arn);
        expect(key.inputs.enableKeyRotation).to.equal(true);
    });

    it("lets CloudWatch use the key to encrypt notifications", () => {
        expect(json(graph.get(KEY, "alarms-key").inputs.policy).Statement).to.deep.include({
            Sid: "CloudWatchAlarmsEncryptNotifications",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
            Resource: "*",
        });
    });

    it("keeps the account in control of the key without kms:*", () => {
        const admin = json(graph.get(KEY, "alarms-key").inputs.policy).Statement.find((s: any) => s.Sid === "AccountAdministersKey");
        expect(admin.Principal).to.deep.equal({ AWS: "arn:aws:iam::123456789012:root" });
        expect(admin.Action).to.include("kms:Put*").and.include("kms:ScheduleKeyDeletion").and.not.include("kms:*");
    });

    it("lets CloudWatch publish for alarms of this account only", () => {
        const policy = graph.get("aws:sns/topicPolicy:TopicPolicy", "alarms-policy").inputs;
        expect(policy.arn).to.equal(topicArn);
        expect(json(policy.policy).Statement).to.deep.include({
            Sid: "CloudWatchAlarmsOfThisAccountPublish",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["sns:Publish"],
            Resource: topicArn,
            Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
        });
    });

    it("subscribes the e-mail addresses and HTTPS endpoints given", () => {
        const subscriptions = graph.ofType("aws:sns/topicSubscription:TopicSubscription").map((s) => s.inputs);
        expect(subscriptions.map((s) => [s.protocol, s.endpoint, s.topic])).to.have.deep.members([
            ["email", "ops@bellyfed.com", topicArn],
            ["https", "https://hooks.bellyfed.com/alarms", topicArn],
        ]);
    });

    it("rejects an address that is not an e-mail address, naming it", () => {
        expect(() => new AlarmTopic("bad", { emails: ["ops"] })).to.throw('AlarmTopic "bad": emails[0] must be an e-mail address, got "ops"');
    });

    it("rejects an endpoint that is not https", () => {
        expect(() => new AlarmTopic("bad", { httpsEndpoints: ["http://x.example"] })).to.throw('httpsEndpoints[0] must be an https:// URL, got "http://x.example"');
    });
});
