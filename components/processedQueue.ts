import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AlarmSettings, checkAlarmSettings, createAlarm, sqsGauge } from "./alarms";
import { keyAdministrationStatement } from "./alarmTopic";
import { DashboardWidget, metricWidget } from "./dashboard";
import { chainFunctionTransforms, checkFunctionArgs, ComponentOwnedFields, FUNCTION_ALARMS, FUNCTION_TRANSFORMS, ServerlessFunction, ServerlessFunctionArgs } from "./serverlessFunction";
import { applyTransform, ArgsTransform, ComponentArgumentError, PolicyStatement, policyDocument } from "./types";
import { checkKind, checkLogRetention, checkStringMap, checkTransforms, Fail, isDeferred, shown } from "./valueChecks";

/** Tag keys the ops CLI finds processed queues by (see README, "Tagging contract"). */
export const PROCESSED_QUEUE_TAG = "bellyfed:processed-queue";
export const QUEUE_ROLE_TAG = "bellyfed:queue-role";

/** How the queue and its DLQ are encrypted at rest. */
export type QueueEncryption =
    /** SSE-SQS: keys owned and managed by SQS; EventBridge can deliver without any key policy. */
    | { type: "sqs-managed" }
    /**
     * A customer-managed KMS key. Without `keyArn` the component creates one (rotation on) whose
     * policy lets EventBridge encrypt and the consumer decrypt. A given `keyArn` must be a key ARN
     * (IAM grants on aliases do not authorize kms:Decrypt) and its policy must already allow
     * events.amazonaws.com kms:GenerateDataKey + kms:Decrypt.
     *
     * The AWS-managed key `alias/aws/sqs` is rejected, on every queue, routed or not: EventBridge
     * cannot send to a queue encrypted with it (its key policy cannot be changed to let
     * events.amazonaws.com use it), a ProcessedQueue exists to be routed to (a route added later
     * would fail at delivery, not at `pulumi up`), and `{ type: "sqs-managed" }` gives the same
     * "AWS manages the key" encryption without that limit.
     */
    | { type: "kms"; keyArn?: pulumi.Input<string>; dataKeyReuseSeconds?: number };

/** The queue's alarms; created only when `alarmTopicArn` is given. Each one can be tuned or turned off. */
export interface ProcessedQueueAlarms {
    /**
     * Messages waiting in the DLQ: AWS/SQS ApproximateNumberOfMessagesVisible (Maximum) of the DLQ
     * >= threshold. Default 1 message, 1 of 1 one-minute period. Not NumberOfMessagesSent: messages
     * moved by a redrive policy are not counted as sent.
     */
    dlqMessages?: AlarmSettings;
    /**
     * Backlog: AWS/SQS ApproximateAgeOfOldestMessage (Maximum) of the queue >= threshold seconds.
     * Default: maxReceiveCount x visibility timeout + 300 s (a failing message legitimately ages that
     * long before it moves to the DLQ), 3 of 3 one-minute periods.
     */
    oldestMessageAgeSeconds?: AlarmSettings;
    /**
     * Queue depth: AWS/SQS ApproximateNumberOfMessagesVisible (Maximum) of the queue >= threshold
     * messages. Default 1000, 5 of 5 one-minute periods (a burst that drains is no page).
     */
    queueDepth?: AlarmSettings;
    /** Consumer Errors (AWS/Lambda, Sum per minute) >= threshold. Default 1, 1 of 1 period. */
    consumerErrors?: AlarmSettings;
    /** Consumer Throttles (AWS/Lambda, Sum per minute) >= threshold. Default 1, 1 of 1 period. */
    consumerThrottles?: AlarmSettings;
    /** Consumer duration p99 >= threshold percent of its timeout. Default 80 (%), 3 of 3 periods. */
    consumerDurationP99PercentOfTimeout?: AlarmSettings;
}

/** The queue's alarms by settings key, with the evaluation periods their specs default to. */
export const PROCESSED_QUEUE_ALARMS = {
    dlqMessages: { evaluationPeriods: 1 },
    oldestMessageAgeSeconds: { evaluationPeriods: 3 },
    queueDepth: { evaluationPeriods: 5 },
    consumerErrors: FUNCTION_ALARMS.errors,
    consumerThrottles: FUNCTION_ALARMS.throttles,
    consumerDurationP99PercentOfTimeout: FUNCTION_ALARMS.durationP99PercentOfTimeout,
};

export interface ProcessedQueueArgs {
    /**
     * The consuming function: callback factory, its own permissions (queue access is added), sizing.
     * Its log retention, tags and alarms are the queue's (`logRetentionDays`, `tags`, `alarms.consumer*`
     * with `alarmTopicArn`): setting them here is an error. Its `transforms` are applied first, then
     * `transforms.consumer`.
     */
    consumer: Omit<ServerlessFunctionArgs, "logRetentionDays" | "tags" | "alarms">;
    /** FIFO queue and FIFO DLQ (names end in `.fifo`). Default false (standard). */
    fifo?: boolean;
    /** FIFO only: deduplicate by body hash. Default true for FIFO (EventBridge requires it of FIFO targets). */
    contentBasedDeduplication?: boolean;
    /** Receives before a message moves to the DLQ (1..1000). Default 5. */
    maxReceiveCount?: number;
    /**
     * Visibility timeout in seconds (0..43200). Default: 6 x the consumer timeout + the batching
     * window, AWS's recommendation for SQS event sources: when Lambda's poller gets throttled
     * invoking the function it keeps retrying the batch it already received, and that time counts
     * against the visibility timeout, so the extra time keeps the messages hidden until the retries
     * are over (a message that reappears early is received again, and each receive counts towards
     * `maxReceiveCount`). A value below the consumer timeout is rejected: messages would reappear while
     * still being processed. A value from 1 x to 6 x the timeout is allowed, for consumers that are
     * never throttled (e.g. reserved concurrency above `maxConcurrency`), at the cost of early
     * redeliveries and DLQ moves if they are.
     */
    visibilityTimeoutSeconds?: number;
    /** Seconds the queue keeps a message (60..1209600). Default 345600 (4 days). */
    retentionSeconds?: number;
    /**
     * Seconds the DLQ keeps a message (60..1209600), must exceed `retentionSeconds`: a standard
     * queue's message keeps its original enqueue time when it moves, so a shorter DLQ retention
     * would expire it early. Default 1209600 (14 days).
     */
    dlqRetentionSeconds?: number;
    /** Records per invocation: 1..10000 standard, 1..10 FIFO. Default 10. Above 10 needs a batching window. */
    batchSize?: number;
    /** Seconds the mapping waits to fill a batch (0..300; FIFO: 0). Default 0. */
    batchingWindowSeconds?: number;
    /** Concurrent invocations the mapping may start (2..1000). Default: no cap (the account's pool). */
    maxConcurrency?: number;
    /** Encryption at rest of the queue and the DLQ. Default `{ type: "sqs-managed" }`. */
    encryption?: QueueEncryption;
    /** SNS topic for the alarms' ALARM and OK notifications. Without it, no alarms are created. */
    alarmTopicArn?: pulumi.Input<string>;
    /** Thresholds of the alarms (see ProcessedQueueAlarms for the defaults). Needs `alarmTopicArn`: without it, setting them is an error. */
    alarms?: ProcessedQueueAlarms;
    /** Retention of the consumer's log group, in days: one of CloudWatch Logs' values (1, 3, 5, 7, 14, 30, ...). Default 14. */
    logRetentionDays?: pulumi.Input<number>;
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * Escape hatches: each receives the args computed for one child and returns the args to use.
     * `consumer` holds the consumer function's transforms, applied after `consumer.transforms`.
     */
    transforms?: {
        queue?: ArgsTransform<aws.sqs.QueueArgs>;
        dlq?: ArgsTransform<aws.sqs.QueueArgs>;
        queuePolicy?: ArgsTransform<aws.sqs.QueuePolicyArgs>;
        dlqPolicy?: ArgsTransform<aws.sqs.QueuePolicyArgs>;
        redriveAllowPolicy?: ArgsTransform<aws.sqs.RedriveAllowPolicyArgs>;
        key?: ArgsTransform<aws.kms.KeyArgs>;
        eventSourceMapping?: ArgsTransform<aws.lambda.EventSourceMappingArgs>;
        consumer?: ServerlessFunctionArgs["transforms"];
    };
}

/** The children of a ProcessedQueue that `transforms` can change (plus `consumer`, the function's). */
const QUEUE_TRANSFORMS = ["queue", "dlq", "queuePolicy", "dlqPolicy", "redriveAllowPolicy", "key", "eventSourceMapping"] as const;

/** What the consumer may not set itself, and where the caller sets it instead. */
const CONSUMER_OWNED_FIELDS: ComponentOwnedFields = {
    alarms: "is not taken on the consumer: the queue's alarms (consumerErrors, consumerThrottles, consumerDurationP99PercentOfTimeout) with alarmTopicArn set the consumer's alarms",
    logRetentionDays: "is not taken on the consumer: the queue's logRetentionDays sets the retention of the consumer's log group",
    tags: "is not taken on the consumer: the queue's tags are put on the consumer's function, role and log group",
};

/** What the stack exports per processed queue (the ops CLI reads it). */
export interface ProcessedQueueDescription {
    name: string;
    queueUrl: pulumi.Output<string>;
    queueArn: pulumi.Output<string>;
    queueName: pulumi.Output<string>;
    dlqUrl: pulumi.Output<string>;
    dlqArn: pulumi.Output<string>;
    dlqName: pulumi.Output<string>;
}

/** The consumer's timeout when the args leave it unset (ServerlessFunction's default). */
const DEFAULT_CONSUMER_TIMEOUT_SECONDS = 10;

/** `alias/aws/sqs`, as an alias name or an alias ARN: the AWS-managed SQS key. */
export function isAwsManagedSqsKey(keyArn: unknown): boolean {
    return typeof keyArn === "string" && /(^|:)alias\/aws\/sqs$/.test(keyArn.trim());
}

/** The settings after defaults and validation; computed before any resource exists. */
interface QueueSettings {
    fifo: boolean;
    contentBasedDeduplication: boolean;
    maxReceiveCount: number;
    consumerTimeoutSeconds: number;
    visibilityTimeoutSeconds: number;
    retentionSeconds: number;
    dlqRetentionSeconds: number;
    batchSize: number;
    batchingWindowSeconds: number;
    maxConcurrency?: number;
    encryption: QueueEncryption;
}

function checkArgs(name: string, args: ProcessedQueueArgs): QueueSettings {
    const fail: Fail = (field, message) => {
        throw new ComponentArgumentError("ProcessedQueue", name, field, message);
    };
    const integer = (field: string, value: number | undefined, fallback: number, min: number, max: number): number => {
        const v = value ?? fallback;
        if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) fail(field, `must be an integer from ${min} to ${max}, got ${shown(v)}`);
        return v;
    };
    if (!args || typeof args !== "object") throw new ComponentArgumentError("ProcessedQueue", name, "args", `must be the queue's arguments (an object with a consumer), got ${shown(args)}`);
    // The consumer is checked here, with the names the caller wrote (consumer.memorySize, ...), not
    // by the ServerlessFunction once the queue component is registered.
    checkFunctionArgs("ProcessedQueue", name, args.consumer, "consumer", CONSUMER_OWNED_FIELDS);
    checkLogRetention(fail, "logRetentionDays", args.logRetentionDays);
    checkKind(fail, "fifo", args.fifo, "boolean", false);
    checkKind(fail, "contentBasedDeduplication", args.contentBasedDeduplication, "boolean", false);
    checkStringMap(fail, "tags", args.tags);
    checkTransforms(fail, "transforms", args.transforms, QUEUE_TRANSFORMS, { consumer: FUNCTION_TRANSFORMS });

    const fifo = args.fifo ?? false;
    if (args.contentBasedDeduplication !== undefined && !fifo) fail("contentBasedDeduplication", "applies to FIFO queues only (set fifo: true)");
    const consumerTimeoutSeconds = integer("consumer.timeoutSeconds", args.consumer.timeoutSeconds, DEFAULT_CONSUMER_TIMEOUT_SECONDS, 1, 900);
    const maxReceiveCount = integer("maxReceiveCount", args.maxReceiveCount, 5, 1, 1000);
    const batchingWindowSeconds = integer("batchingWindowSeconds", args.batchingWindowSeconds, 0, 0, 300);
    if (fifo && batchingWindowSeconds > 0) fail("batchingWindowSeconds", `must be 0 for a FIFO queue (Lambda has no batching window for FIFO), got ${batchingWindowSeconds}`);
    const batchSize = integer("batchSize", args.batchSize, 10, 1, fifo ? 10 : 10000);
    if (batchSize > 10 && batchingWindowSeconds < 1) {
        fail("batchSize", `of ${batchSize} (above 10) needs batchingWindowSeconds of at least 1, got ${batchingWindowSeconds}`);
    }
    const maxConcurrency = args.maxConcurrency === undefined ? undefined : integer("maxConcurrency", args.maxConcurrency, 2, 2, 1000);

    const derived = 6 * consumerTimeoutSeconds + batchingWindowSeconds;
    const visibilityTimeoutSeconds = integer("visibilityTimeoutSeconds", args.visibilityTimeoutSeconds, Math.min(derived, 43200), 0, 43200);
    if (visibilityTimeoutSeconds < consumerTimeoutSeconds) {
        fail(
            "visibilityTimeoutSeconds",
            `(${visibilityTimeoutSeconds} s) must be at least the consumer timeout (${consumerTimeoutSeconds} s), or messages reappear while still being processed; leave it unset to derive ${derived} s`,
        );
    }
    const retentionSeconds = integer("retentionSeconds", args.retentionSeconds, 345600, 60, 1209600);
    const dlqRetentionSeconds = integer("dlqRetentionSeconds", args.dlqRetentionSeconds, 1209600, 60, 1209600);
    if (dlqRetentionSeconds <= retentionSeconds) {
        fail("dlqRetentionSeconds", `(${dlqRetentionSeconds} s) must be longer than retentionSeconds (${retentionSeconds} s): a moved message keeps its original enqueue time`);
    }

    checkKind(fail, "encryption", args.encryption, "object", false);
    const encryption: QueueEncryption = args.encryption ?? { type: "sqs-managed" };
    if (encryption.type !== "sqs-managed" && encryption.type !== "kms") fail("encryption.type", `must be "sqs-managed" or "kms", got ${shown((encryption as any).type)}`);
    if (encryption.type === "kms") {
        const key = encryption.keyArn;
        if (key !== undefined && !isDeferred(key) && typeof key !== "string") fail("encryption.keyArn", `must be a KMS key ARN, got ${shown(key)}`);
        if (isAwsManagedSqsKey(key)) {
            fail(
                "encryption.keyArn",
                `"${key}" is the AWS-managed SQS key: EventBridge cannot send to a queue encrypted with it (its key policy cannot grant events.amazonaws.com kms:GenerateDataKey), and a ProcessedQueue is meant to be routed to from EventBridge. Use { type: "sqs-managed" } (keys managed by SQS, no key policy) or a customer-managed key`,
            );
        }
        if (typeof key === "string" && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(key)) {
            fail("encryption.keyArn", `must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>; not an alias: IAM grants on aliases do not authorize kms:Decrypt), got "${key}"`);
        }
        if (encryption.dataKeyReuseSeconds !== undefined) integer("encryption.dataKeyReuseSeconds", encryption.dataKeyReuseSeconds, 300, 60, 86400);
    }

    checkAlarmSettings("ProcessedQueue", name, args.alarms, { alarms: PROCESSED_QUEUE_ALARMS, topicBeside: { field: "alarmTopicArn", value: args.alarmTopicArn } });
    return {
        fifo,
        contentBasedDeduplication: fifo ? (args.contentBasedDeduplication ?? true) : false,
        maxReceiveCount,
        consumerTimeoutSeconds,
        visibilityTimeoutSeconds,
        retentionSeconds,
        dlqRetentionSeconds,
        batchSize,
        batchingWindowSeconds,
        maxConcurrency,
        encryption,
    };
}

/** Adds tags to a tag map that may be an Output. */
function withTags(tags: ProcessedQueueArgs["tags"], extra: Record<string, string>): pulumi.Output<Record<string, string>> {
    return pulumi.output(tags ?? {}).apply((t) => ({ ...t, ...extra }));
}

/** The statement that refuses every request not made over TLS. */
function tlsOnlyStatement(queueArn: pulumi.Input<string>): PolicyStatement {
    return {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "sqs:*",
        Resource: queueArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
}

/**
 * One processed queue: an SQS queue, its dead-letter queue (same type, longer retention, redrive
 * after `maxReceiveCount` receives, redrive-allow naming the source), TLS-only queue policies,
 * encryption at rest, the consumer Lambda with an event source mapping that reports partial batch
 * failures, and alarms on the DLQ depth, the backlog age and the consumer's errors and throttles.
 *
 * Senders are granted through the queue's one policy: `allowEventBridgeRule` (called by
 * `EventBus.route`) adds a statement. SQS keeps a single policy per queue, so statements are
 * collected while the program declares routes, and the policy is written (sealed) at a fixed point:
 * at the end of the synchronous code that created the queue (a microtask the constructor queues,
 * which runs before any `await`, timer or I/O callback of the program resumes), or earlier at
 * `sealPolicy()`. Declare every route to a queue right after creating it, before the program's next
 * `await`; a route declared later is rejected before any of its resources is registered.
 */
export class ProcessedQueue extends pulumi.ComponentResource {
    readonly queue: aws.sqs.Queue;
    readonly dlq: aws.sqs.Queue;
    readonly queuePolicy: aws.sqs.QueuePolicy;
    readonly dlqPolicy: aws.sqs.QueuePolicy;
    readonly redriveAllowPolicy: aws.sqs.RedriveAllowPolicy;
    /** The customer-managed key the component created (kms encryption without a keyArn). */
    readonly key?: aws.kms.Key;
    readonly consumer: ServerlessFunction;
    readonly eventSourceMapping: aws.lambda.EventSourceMapping;
    /** Every alarm of the queue, the consumer's included (empty without `alarmTopicArn`). */
    readonly alarms: aws.cloudwatch.MetricAlarm[] = [];

    readonly queueUrl: pulumi.Output<string>;
    readonly queueArn: pulumi.Output<string>;
    readonly queueName: pulumi.Output<string>;
    readonly dlqUrl: pulumi.Output<string>;
    readonly dlqArn: pulumi.Output<string>;
    readonly dlqName: pulumi.Output<string>;
    /** ARN of the KMS key encrypting the queues (kms encryption only). */
    readonly kmsKeyArn?: pulumi.Output<string>;

    readonly logicalName: string;
    readonly fifo: boolean;
    readonly contentBasedDeduplication: boolean;
    readonly encryption: QueueEncryption;
    readonly maxReceiveCount: number;
    readonly visibilityTimeoutSeconds: number;

    private readonly senderStatements: PolicyStatement[] = [];
    private readonly resolvePolicyStatements: (source: pulumi.Output<PolicyStatement[]>) => void;
    private sealed = false;

    constructor(name: string, args: ProcessedQueueArgs, opts?: pulumi.ComponentResourceOptions) {
        const settings = checkArgs(name, args);
        super("bellyfed:events:ProcessedQueue", name, {}, opts);
        this.logicalName = name;
        this.fifo = settings.fifo;
        this.contentBasedDeduplication = settings.contentBasedDeduplication;
        this.encryption = settings.encryption;
        this.maxReceiveCount = settings.maxReceiveCount;
        this.visibilityTimeoutSeconds = settings.visibilityTimeoutSeconds;

        // The consumer's role must name the queue, and a created key's policy must name the role:
        // the queue ARN is wired in once the queue exists.
        const [queueArn, setQueueArn] = pulumi.deferredOutput<string>();
        const encryption = settings.encryption;
        const givenKeyArn = encryption.type === "kms" ? encryption.keyArn : undefined;
        const [keyArnForRole, setKeyArnForRole] = pulumi.deferredOutput<string>();

        const consumerStatements: pulumi.Input<PolicyStatement>[] = [
            ...(args.consumer.policyStatements ?? []),
            {
                Sid: "ConsumeQueue",
                Effect: "Allow",
                Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                Resource: queueArn,
            },
        ];
        if (encryption.type === "kms") {
            consumerStatements.push({ Sid: "DecryptQueueMessages", Effect: "Allow", Action: ["kms:Decrypt"], Resource: keyArnForRole });
        }
        const alarmTopicArn = args.alarmTopicArn;
        const alarmSettings = args.alarms ?? {};
        this.consumer = new ServerlessFunction(
            `${name}-consumer`,
            {
                ...args.consumer,
                timeoutSeconds: settings.consumerTimeoutSeconds,
                policyStatements: consumerStatements,
                logRetentionDays: args.logRetentionDays,
                alarms: alarmTopicArn
                    ? {
                          topicArn: alarmTopicArn,
                          errors: alarmSettings.consumerErrors,
                          throttles: alarmSettings.consumerThrottles,
                          durationP99PercentOfTimeout: alarmSettings.consumerDurationP99PercentOfTimeout,
                      }
                    : undefined,
                tags: args.tags,
                // Both, never one silently: the consumer's own transforms, then the queue's transforms.consumer.
                transforms: chainFunctionTransforms(args.consumer.transforms, args.transforms?.consumer),
            },
            { parent: this },
        );

        let kmsKeyArn: pulumi.Output<string> | undefined;
        if (encryption.type === "kms" && givenKeyArn === undefined) {
            const identity = aws.getCallerIdentityOutput({}, { parent: this });
            const region = aws.getRegionOutput({}, { parent: this });
            this.key = new aws.kms.Key(
                `${name}-key`,
                applyTransform<aws.kms.KeyArgs>(
                    {
                        description: `Encrypts the messages of the ${name} queue and its DLQ`,
                        enableKeyRotation: true,
                        deletionWindowInDays: 30,
                        policy: policyDocument([
                            keyAdministrationStatement(identity.accountId),
                            {
                                // EventBridge encrypts what it delivers. KMS requests EventBridge makes for a
                                // target carry no aws:SourceArn/aws:SourceAccount, so no condition is possible here;
                                // the queue policy is what restricts delivery to the rule.
                                Sid: "EventBridgeEncryptsDeliveries",
                                Effect: "Allow",
                                Principal: { Service: "events.amazonaws.com" },
                                Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                                Resource: "*",
                            },
                            {
                                Sid: "ConsumerDecryptsMessages",
                                Effect: "Allow",
                                Principal: { AWS: this.consumer.role.arn },
                                Action: ["kms:Decrypt"],
                                Resource: "*",
                            },
                            {
                                // Operators (the ops CLI reading or redriving the DLQ) use the key through SQS only,
                                // as far as their own IAM policies allow.
                                Sid: "AccountUsesKeyThroughSqs",
                                Effect: "Allow",
                                Principal: { AWS: pulumi.interpolate`arn:aws:iam::${identity.accountId}:root` },
                                Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                                Resource: "*",
                                Condition: {
                                    StringEquals: {
                                        "kms:ViaService": pulumi.interpolate`sqs.${region.region}.amazonaws.com`,
                                        "kms:CallerAccount": identity.accountId,
                                    },
                                },
                            },
                        ]),
                        tags: args.tags,
                    },
                    args.transforms?.key,
                ),
                { parent: this },
            );
            kmsKeyArn = this.key.arn;
        } else if (encryption.type === "kms") {
            kmsKeyArn = pulumi.output(givenKeyArn!);
        }
        if (kmsKeyArn) setKeyArnForRole(kmsKeyArn);
        this.kmsKeyArn = kmsKeyArn;

        const atRest = (): Partial<aws.sqs.QueueArgs> =>
            encryption.type === "kms"
                ? { kmsMasterKeyId: kmsKeyArn, kmsDataKeyReusePeriodSeconds: encryption.dataKeyReuseSeconds ?? 300 }
                : { sqsManagedSseEnabled: true };
        const fifoArgs = (): Partial<aws.sqs.QueueArgs> =>
            settings.fifo ? { fifoQueue: true, contentBasedDeduplication: settings.contentBasedDeduplication } : {};

        this.dlq = new aws.sqs.Queue(
            `${name}-dlq`,
            applyTransform<aws.sqs.QueueArgs>(
                {
                    ...fifoArgs(),
                    ...atRest(),
                    messageRetentionSeconds: settings.dlqRetentionSeconds,
                    tags: withTags(args.tags, { [PROCESSED_QUEUE_TAG]: name, [QUEUE_ROLE_TAG]: "dlq" }),
                },
                args.transforms?.dlq,
            ),
            { parent: this },
        );

        this.queue = new aws.sqs.Queue(
            name,
            applyTransform<aws.sqs.QueueArgs>(
                {
                    ...fifoArgs(),
                    ...atRest(),
                    visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
                    messageRetentionSeconds: settings.retentionSeconds,
                    redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: this.dlq.arn, maxReceiveCount: settings.maxReceiveCount }),
                    tags: withTags(args.tags, { [PROCESSED_QUEUE_TAG]: name, [QUEUE_ROLE_TAG]: "source" }),
                },
                args.transforms?.queue,
            ),
            { parent: this },
        );
        setQueueArn(this.queue.arn);

        // Only this queue may use the DLQ as its dead-letter queue.
        this.redriveAllowPolicy = new aws.sqs.RedriveAllowPolicy(
            `${name}-dlq-redrive-allow`,
            applyTransform<aws.sqs.RedriveAllowPolicyArgs>(
                {
                    queueUrl: this.dlq.url,
                    redriveAllowPolicy: pulumi.jsonStringify({ redrivePermission: "byQueue", sourceQueueArns: [this.queue.arn] }),
                },
                args.transforms?.redriveAllowPolicy,
            ),
            { parent: this },
        );

        const [senders, resolveSenders] = pulumi.deferredOutput<PolicyStatement[]>();
        this.resolvePolicyStatements = resolveSenders;
        this.queuePolicy = new aws.sqs.QueuePolicy(
            `${name}-policy`,
            applyTransform<aws.sqs.QueuePolicyArgs>(
                {
                    queueUrl: this.queue.url,
                    policy: senders.apply((statements) => policyDocument([tlsOnlyStatement(this.queue.arn), ...statements])),
                },
                args.transforms?.queuePolicy,
            ),
            { parent: this },
        );
        this.dlqPolicy = new aws.sqs.QueuePolicy(
            `${name}-dlq-policy`,
            applyTransform<aws.sqs.QueuePolicyArgs>(
                { queueUrl: this.dlq.url, policy: policyDocument([tlsOnlyStatement(this.dlq.arn)]) },
                args.transforms?.dlqPolicy,
            ),
            { parent: this },
        );
        // Routes are declared right after the queue, in the same synchronous run of the program. A
        // microtask runs when that run ends and before anything the program awaits resumes, so which
        // routes make it into the policy never depends on timers or event-loop phases.
        queueMicrotask(() => this.sealPolicy());

        this.eventSourceMapping = new aws.lambda.EventSourceMapping(
            `${name}-consumer`,
            applyTransform<aws.lambda.EventSourceMappingArgs>(
                {
                    eventSourceArn: this.queue.arn,
                    functionName: this.consumer.function.arn,
                    enabled: true,
                    batchSize: settings.batchSize,
                    maximumBatchingWindowInSeconds: settings.fifo ? undefined : settings.batchingWindowSeconds,
                    // The consumer returns { batchItemFailures }: only the failed records are retried.
                    functionResponseTypes: ["ReportBatchItemFailures"],
                    scalingConfig: settings.maxConcurrency ? { maximumConcurrency: settings.maxConcurrency } : undefined,
                    tags: args.tags,
                },
                args.transforms?.eventSourceMapping,
            ),
            // The role must be able to receive (and decrypt) before Lambda validates the mapping.
            { parent: this, dependsOn: [this.consumer] },
        );

        this.queueUrl = this.queue.url;
        this.queueArn = this.queue.arn;
        this.queueName = this.queue.name;
        this.dlqUrl = this.dlq.url;
        this.dlqArn = this.dlq.arn;
        this.dlqName = this.dlq.name;

        if (alarmTopicArn) {
            this.alarms.push(...this.createAlarms(name, settings, alarmTopicArn, alarmSettings, args.tags), ...this.consumer.alarms);
        }

        this.registerOutputs({
            ...this.describe(),
            functionName: this.consumer.name,
            functionArn: this.consumer.arn,
            alarmArns: this.alarms.map((a) => a.arn),
        });
    }

    /**
     * Lets one EventBridge rule send to the queue: `events.amazonaws.com` may call sqs:SendMessage
     * only when `aws:SourceArn` equals the rule's ARN. Called by EventBus.route.
     */
    allowEventBridgeRule(sid: string, ruleArn: pulumi.Input<string>): void {
        this.addSenderStatement({
            Sid: sid,
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: this.queue.arn,
            Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
        });
    }

    /**
     * Why a sender statement with this Sid cannot be added now, or undefined when it can: the policy
     * is sealed, or the Sid is taken. EventBus.route asks before registering any of a route's resources.
     */
    senderStatementProblem(sid: string | undefined): string | undefined {
        if (this.sealed) {
            return "is already written (at the end of the synchronous code that created the queue); declare every route to the queue before the program's next await";
        }
        if (sid && this.senderStatements.some((s) => s.Sid === sid)) return `already has a statement "${sid}"`;
        return undefined;
    }

    /** Adds a statement to the queue policy; only before the policy is sealed. */
    addSenderStatement(statement: PolicyStatement): void {
        const problem = this.senderStatementProblem(statement.Sid);
        if (problem) throw new ComponentArgumentError("ProcessedQueue", this.logicalName, "policy", `${problem} (statement ${statement.Sid ?? "without Sid"})`);
        this.senderStatements.push(statement);
    }

    /** Writes the queue policy with the statements added so far; later additions are errors. Idempotent. */
    sealPolicy(): void {
        if (this.sealed) return;
        this.sealed = true;
        this.resolvePolicyStatements(pulumi.output(this.senderStatements) as pulumi.Output<PolicyStatement[]>);
    }

    /** The entry of the stack's `queues` output. */
    describe(): ProcessedQueueDescription {
        return {
            name: this.logicalName,
            queueUrl: this.queueUrl,
            queueArn: this.queueArn,
            queueName: this.queueName,
            dlqUrl: this.dlqUrl,
            dlqArn: this.dlqArn,
            dlqName: this.dlqName,
        };
    }

    /** Queue depth and age, DLQ depth; then the consumer's widgets. */
    dashboardWidgets(region: string): pulumi.Output<DashboardWidget>[] {
        const sqs = (queueName: pulumi.Output<string>, metricName: string, label: string) => ({
            namespace: "AWS/SQS",
            metricName,
            dimensions: { QueueName: queueName },
            stat: "Maximum",
            label,
        });
        return [
            metricWidget(
                `${this.logicalName}: backlog`,
                [sqs(this.queueName, "ApproximateNumberOfMessagesVisible", "visible"), sqs(this.queueName, "ApproximateAgeOfOldestMessage", "oldest (s)")],
                region,
            ),
            metricWidget(`${this.logicalName}: dead letters`, [sqs(this.dlqName, "ApproximateNumberOfMessagesVisible", "in DLQ")], region),
            ...this.consumer.dashboardWidgets(region),
        ];
    }

    private createAlarms(
        name: string,
        settings: QueueSettings,
        topicArn: pulumi.Input<string>,
        alarms: ProcessedQueueAlarms,
        tags: ProcessedQueueArgs["tags"],
    ): aws.cloudwatch.MetricAlarm[] {
        const backlogSeconds = settings.maxReceiveCount * settings.visibilityTimeoutSeconds + 300;
        const created = [
            createAlarm(
                this,
                `${name}-dlq-messages`,
                { topicArn },
                {
                    ...sqsGauge("ApproximateNumberOfMessagesVisible", this.dlq.name),
                    description: `${name}: messages failed ${settings.maxReceiveCount} times and wait in the DLQ. Inspect them with the ops CLI, fix the cause, then redrive.`,
                    threshold: 1,
                    comparisonOperator: "GreaterThanOrEqualToThreshold",
                    evaluationPeriods: PROCESSED_QUEUE_ALARMS.dlqMessages.evaluationPeriods,
                    // An empty DLQ reports nothing for a while: no data means no dead letters.
                    treatMissingData: "notBreaching",
                },
                alarms.dlqMessages,
                tags,
            ),
            createAlarm(
                this,
                `${name}-oldest-message-age`,
                { topicArn },
                {
                    ...sqsGauge("ApproximateAgeOfOldestMessage", this.queue.name),
                    description: `${name}: the oldest message is older than retries alone explain; the consumer is falling behind or stopped (check its errors, throttles and the mapping's state).`,
                    threshold: backlogSeconds,
                    comparisonOperator: "GreaterThanOrEqualToThreshold",
                    evaluationPeriods: PROCESSED_QUEUE_ALARMS.oldestMessageAgeSeconds.evaluationPeriods,
                    treatMissingData: "notBreaching",
                },
                alarms.oldestMessageAgeSeconds,
                tags,
            ),
            createAlarm(
                this,
                `${name}-queue-depth`,
                { topicArn },
                {
                    ...sqsGauge("ApproximateNumberOfMessagesVisible", this.queue.name),
                    description: `${name}: the backlog keeps growing; the consumer cannot keep up (raise maxConcurrency or batch size) or is failing.`,
                    threshold: 1000,
                    comparisonOperator: "GreaterThanOrEqualToThreshold",
                    evaluationPeriods: PROCESSED_QUEUE_ALARMS.queueDepth.evaluationPeriods,
                    treatMissingData: "notBreaching",
                },
                alarms.queueDepth,
                tags,
            ),
        ];
        return created.filter((a): a is aws.cloudwatch.MetricAlarm => a !== undefined);
    }
}
