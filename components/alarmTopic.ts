import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { applyTransform, ArgsTransform, ComponentArgumentError, PolicyStatement, policyDocument } from "./types";
import { checkKind, checkStringMap, checkTransforms, Fail, shown } from "./valueChecks";

export interface AlarmTopicArgs {
    /** E-mail addresses subscribed to the topic (each recipient must confirm). Default none. */
    emails?: string[];
    /** HTTPS endpoints subscribed to the topic (they must confirm the subscription). Default none. */
    httpsEndpoints?: string[];
    /** Days KMS waits before deleting the key once it is scheduled for deletion (7..30). Default 30. */
    keyDeletionWindowDays?: number;
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    transforms?: {
        key?: ArgsTransform<aws.kms.KeyArgs>;
        topic?: ArgsTransform<aws.sns.TopicArgs>;
        topicPolicy?: ArgsTransform<aws.sns.TopicPolicyArgs>;
        subscription?: (endpoint: string, args: aws.sns.TopicSubscriptionArgs) => aws.sns.TopicSubscriptionArgs;
    };
}

/**
 * Administration of a key by the account, without `kms:*`: everything an operator needs to manage,
 * rotate and retire the key, but no cryptographic use (that is granted per principal).
 */
export const KMS_KEY_ADMIN_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
];

/** The key-policy statement that keeps the account in control of a key (no lock-out). */
export function keyAdministrationStatement(accountId: pulumi.Input<string>): PolicyStatement {
    return {
        Sid: "AccountAdministersKey",
        Effect: "Allow",
        Principal: { AWS: pulumi.interpolate`arn:aws:iam::${accountId}:root` },
        Action: KMS_KEY_ADMIN_ACTIONS,
        // In a key policy "*" means "this key".
        Resource: "*",
    };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * The SNS topic every alarm of the platform notifies (ALARM and OK), encrypted with a customer-managed
 * KMS key. CloudWatch cannot publish to a topic encrypted with the AWS-managed `alias/aws/sns` key
 * (its policy cannot be changed to let cloudwatch.amazonaws.com use it), so the component creates its
 * own key, with rotation, whose policy lets CloudWatch encrypt the notifications. The topic policy
 * lets CloudWatch publish on behalf of this account's alarms only (`aws:SourceAccount`).
 */
export class AlarmTopic extends pulumi.ComponentResource {
    readonly key: aws.kms.Key;
    readonly topic: aws.sns.Topic;
    readonly topicPolicy: aws.sns.TopicPolicy;
    readonly subscriptions: aws.sns.TopicSubscription[] = [];
    readonly topicArn: pulumi.Output<string>;

    constructor(name: string, args: AlarmTopicArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        const fail: Fail = (field, message) => {
            throw new ComponentArgumentError("AlarmTopic", name, field, message);
        };
        if (!args || typeof args !== "object") fail("args", `must be the topic's arguments (an object), got ${shown(args)}`);
        checkKind(fail, "emails", args.emails, "array", false);
        checkKind(fail, "httpsEndpoints", args.httpsEndpoints, "array", false);
        const emails = args.emails ?? [];
        const endpoints = args.httpsEndpoints ?? [];
        emails.forEach((email, i) => {
            if (typeof email !== "string" || !EMAIL.test(email)) fail(`emails[${i}]`, `must be an e-mail address, got ${shown(email)}`);
        });
        endpoints.forEach((url, i) => {
            if (typeof url !== "string" || !/^https:\/\/[^/\s]+/.test(url)) fail(`httpsEndpoints[${i}]`, `must be an https:// URL, got ${shown(url)}`);
        });
        const window = args.keyDeletionWindowDays ?? 30;
        if (!Number.isInteger(window) || window < 7 || window > 30) fail("keyDeletionWindowDays", `must be a whole number of days from 7 to 30, got ${shown(window)}`);
        checkStringMap(fail, "tags", args.tags);
        checkTransforms(fail, "transforms", args.transforms, ["key", "topic", "topicPolicy", "subscription"]);
        const duplicate = [...emails, ...endpoints].find((e, i, all) => all.indexOf(e) !== i);
        if (duplicate) fail("emails/httpsEndpoints", `list "${duplicate}" twice`);
        super("bellyfed:monitoring:AlarmTopic", name, {}, opts);

        const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;

        this.key = new aws.kms.Key(
            `${name}-key`,
            applyTransform<aws.kms.KeyArgs>(
                {
                    description: `Encrypts the ${name} alarm notifications (SNS); CloudWatch may use it`,
                    enableKeyRotation: true,
                    deletionWindowInDays: window,
                    policy: policyDocument([
                        keyAdministrationStatement(accountId),
                        {
                            // AWS's documented statement for CloudWatch alarms publishing to an encrypted topic.
                            // The key serves this topic only; the topic policy narrows publishing to this account.
                            Sid: "CloudWatchAlarmsEncryptNotifications",
                            Effect: "Allow",
                            Principal: { Service: "cloudwatch.amazonaws.com" },
                            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
                            Resource: "*",
                        },
                    ]),
                    tags: args.tags,
                },
                args.transforms?.key,
            ),
            { parent: this },
        );

        this.topic = new aws.sns.Topic(
            name,
            applyTransform<aws.sns.TopicArgs>({ kmsMasterKeyId: this.key.arn, tags: args.tags }, args.transforms?.topic),
            { parent: this },
        );
        this.topicArn = this.topic.arn;

        this.topicPolicy = new aws.sns.TopicPolicy(
            `${name}-policy`,
            applyTransform<aws.sns.TopicPolicyArgs>(
                {
                    arn: this.topic.arn,
                    policy: policyDocument([
                        {
                            Sid: "CloudWatchAlarmsOfThisAccountPublish",
                            Effect: "Allow",
                            Principal: { Service: "cloudwatch.amazonaws.com" },
                            Action: ["sns:Publish"],
                            Resource: this.topic.arn,
                            Condition: { StringEquals: { "aws:SourceAccount": accountId } },
                        },
                        {
                            Sid: "DenyInsecureTransport",
                            Effect: "Deny",
                            Principal: "*",
                            Action: ["sns:Publish"],
                            Resource: this.topic.arn,
                            Condition: { Bool: { "aws:SecureTransport": "false" } },
                        },
                    ]),
                },
                args.transforms?.topicPolicy,
            ),
            { parent: this },
        );

        // Named after the endpoint (not its position), so reordering the list replaces nothing.
        const subscribe = (protocol: "email" | "https", endpoint: string) =>
            new aws.sns.TopicSubscription(
                `${name}-${protocol}-${createHash("sha1").update(endpoint).digest("hex").slice(0, 8)}`,
                (args.transforms?.subscription ?? ((_, a) => a))(endpoint, { topic: this.topic.arn, protocol, endpoint }),
                { parent: this },
            );
        for (const email of emails) this.subscriptions.push(subscribe("email", email));
        for (const url of endpoints) this.subscriptions.push(subscribe("https", url));

        this.registerOutputs({ topicArn: this.topicArn, keyArn: this.key.arn });
    }
}
