import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EventPattern, EventPatternError, validateEventPattern } from "../event-patterns";
import { AlarmCatalog, AlarmSettings, checkAlarmSettings, createAlarm, sqsGauge } from "./alarms";
import { DashboardWidget, metricWidget } from "./dashboard";
import { isAwsManagedSqsKey, PROCESSED_QUEUE_TAG, ProcessedQueue, QUEUE_ROLE_TAG } from "./processedQueue";
import { applyTransform, ArgsTransform, ComponentArgumentError, PolicyStatement, policyDocument, uniqueSid } from "./types";
import { checkKind, checkStringMap, checkTransforms, Fail, shown } from "./valueChecks";

export interface EventBusArgs {
    /** Physical bus name. Default: auto-named from the component name. */
    busName?: pulumi.Input<string>;
    /**
     * Days the archive keeps every event on the bus; 0 or unset means no archive. EventBridge sets no
     * maximum, but a replay only helps while the consumers still accept events that old (the
     * platform's analytics consumer refuses events older than about 30 days).
     */
    archiveRetentionDays?: number;
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    transforms?: {
        bus?: ArgsTransform<aws.cloudwatch.EventBusArgs>;
        archive?: ArgsTransform<aws.cloudwatch.EventArchiveArgs>;
    };
}

/** A custom EventBridge bus, with an optional archive, and helpers to grant publishing on exactly this bus. */
export class EventBus extends pulumi.ComponentResource {
    readonly bus: aws.cloudwatch.EventBus;
    readonly archive?: aws.cloudwatch.EventArchive;
    readonly name: pulumi.Output<string>;
    readonly arn: pulumi.Output<string>;
    /** The routes declared with `route()`, in declaration order. */
    readonly routes: EventRoute[] = [];
    /** The component's logical name (the first half of every route's `bellyfed:rule` tag). */
    readonly logicalName: string;
    /** The tags given to the bus; routes inherit them. */
    readonly tags: EventBusArgs["tags"];

    constructor(name: string, args: EventBusArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        const fail: Fail = (field, message) => {
            throw new ComponentArgumentError("EventBus", name, field, message);
        };
        if (!args || typeof args !== "object") fail("args", `must be the bus's arguments (an object), got ${shown(args)}`);
        const retention = args.archiveRetentionDays ?? 0;
        if (!Number.isInteger(retention) || retention < 0) fail("archiveRetentionDays", `must be a whole number of days >= 0, got ${shown(retention)}`);
        checkKind(fail, "busName", args.busName, "string");
        checkStringMap(fail, "tags", args.tags);
        checkTransforms(fail, "transforms", args.transforms, ["bus", "archive"]);
        super("bellyfed:events:EventBus", name, {}, opts);
        this.logicalName = name;
        this.tags = args.tags;

        this.bus = new aws.cloudwatch.EventBus(
            name,
            applyTransform<aws.cloudwatch.EventBusArgs>({ name: args.busName, tags: args.tags }, args.transforms?.bus),
            { parent: this },
        );
        this.name = this.bus.name;
        this.arn = this.bus.arn;

        if (retention > 0) {
            this.archive = new aws.cloudwatch.EventArchive(
                `${name}-archive`,
                applyTransform<aws.cloudwatch.EventArchiveArgs>(
                    { eventSourceArn: this.bus.arn, retentionDays: retention, description: `All events of ${name}, kept ${retention} days for replay` },
                    args.transforms?.archive,
                ),
                { parent: this },
            );
        }
        this.registerOutputs({ name: this.name, arn: this.arn, archiveArn: this.archive?.arn });
    }

    /**
     * The statement that lets a principal publish to this bus and no other. Its Sid names the bus
     * (`PublishTo<Bus><hash>`), so a function publishing to two buses gets two distinct statements.
     */
    publishStatement(): PolicyStatement {
        return { Sid: uniqueSid("PublishTo", this.logicalName), Effect: "Allow", Action: ["events:PutEvents"], Resource: this.arn };
    }

    /**
     * Routes the events matching `pattern` to a processed queue: a rule on this bus, a target with
     * its own dead-letter queue and retry policy, and the queue-policy statement that lets
     * EventBridge send for this rule only. Everything is validated before anything is registered.
     */
    route(routeName: string, args: EventRouteArgs): EventRoute {
        if (this.routes.some((r) => r.routeName === routeName)) {
            throw new ComponentArgumentError("EventBus", this.logicalName, `routes.${routeName}`, "is declared twice; route names must be unique per bus");
        }
        const route = new EventRoute(`${this.logicalName}-${routeName}`, { ...args, bus: this, routeName }, { parent: this });
        this.routes.push(route);
        return route;
    }
}

/** Tag on every rule a route creates: `<bus component name>/<route name>` (the ops CLI finds rules by it). */
export const RULE_TAG = "bellyfed:rule";
/** Tag on a route's target DLQ: the same `<bus>/<route>` value. */
export const ROUTE_TAG = "bellyfed:route";

/** A route's alarms by settings key, with the evaluation periods their specs default to. */
export const EVENT_ROUTE_ALARMS = {
    targetDlqMessages: { evaluationPeriods: 1 },
    failedInvocations: { evaluationPeriods: 1 },
    invocationsSentToDlq: { evaluationPeriods: 1 },
    invocationsFailedToBeSentToDlq: { evaluationPeriods: 1 },
} satisfies AlarmCatalog;

/** The settings of one route from a bus to a processed queue. */
export interface EventRouteArgs {
    /**
     * The EventBridge event pattern; validated when the route is declared. Build the pattern of a
     * catalog event from the catalog (`catalogEventPattern`), never from strings typed twice.
     */
    pattern: EventPattern;
    /** The queue receiving the matching events; its message body is the whole EventBridge envelope. */
    queue: ProcessedQueue;
    /** Rule description. Default: names the route and the queue. */
    description?: string;
    /** Whether the rule is enabled. Default true. */
    enabled?: boolean;
    /** Seconds EventBridge keeps retrying a failed delivery (60..86400). Default 86400 (24 h, the maximum). */
    maximumEventAgeSeconds?: number;
    /** Delivery retries before the event goes to the target DLQ (0..185). Default 185 (the maximum). */
    maximumRetryAttempts?: number;
    /** FIFO queues only, and required there: the message group of the delivered events (1..128 characters). */
    messageGroupId?: string;
    /** Seconds the target DLQ keeps undeliverable events (60..1209600). Default 1209600 (14 days). */
    targetDlqRetentionSeconds?: number;
    /**
     * SNS topic for the ALARM and OK notifications of the route's four alarms (target DLQ depth,
     * FailedInvocations, InvocationsSentToDlq, InvocationsFailedToBeSentToDlq; see `alarms`).
     * Without it, the route has no alarms.
     */
    alarmTopicArn?: pulumi.Input<string>;
    /** Thresholds of the route's alarms. Needs `alarmTopicArn`: without it, setting them is an error. */
    alarms?: {
        /**
         * Events EventBridge could not deliver: AWS/SQS ApproximateNumberOfMessagesVisible (Maximum)
         * of the target DLQ >= threshold. Default 1 message, 1 of 1 one-minute period.
         */
        targetDlqMessages?: AlarmSettings;
        /**
         * Deliveries that failed for good (AWS/Events FailedInvocations, dimensions EventBusName +
         * RuleName, Sum per minute) >= threshold. Default 1, 1 of 1 period.
         */
        failedInvocations?: AlarmSettings;
        /**
         * Events sent to the target DLQ (AWS/Events InvocationsSentToDlq, Sum per minute) >= threshold.
         * Default 1, 1 of 1 period: pages at once, where the DLQ-depth alarm confirms the backlog.
         */
        invocationsSentToDlq?: AlarmSettings;
        /**
         * Events EventBridge could deliver neither to the queue nor to the target DLQ (AWS/Events
         * InvocationsFailedToBeSentToDlq, Sum per minute) >= threshold: those events are lost.
         * Default 1, 1 of 1 period.
         */
        invocationsFailedToBeSentToDlq?: AlarmSettings;
    };
    /** Tags of the route's resources. Default: the bus's tags. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    transforms?: {
        rule?: ArgsTransform<aws.cloudwatch.EventRuleArgs>;
        target?: ArgsTransform<aws.cloudwatch.EventTargetArgs>;
        targetDlq?: ArgsTransform<aws.sqs.QueueArgs>;
        targetDlqPolicy?: ArgsTransform<aws.sqs.QueuePolicyArgs>;
    };
}

/** What the stack exports per route (the ops CLI reads it). */
export interface EventRouteDescription {
    /** `<bus component name>/<route name>`, the value of the rule's `bellyfed:rule` tag. */
    name: string;
    ruleName: pulumi.Output<string>;
    ruleArn: pulumi.Output<string>;
    busName: pulumi.Output<string>;
    pattern: EventPattern;
    /** The processed queue (component name) the route delivers to. */
    queue: string;
    targetDlqUrl: pulumi.Output<string>;
    targetDlqArn: pulumi.Output<string>;
    targetDlqName: pulumi.Output<string>;
}

/**
 * The Sid of a route's statements in the processed queue's policy and its target DLQ's policy: one
 * per `<bus>/<route>`, and never the same for two routes (bus `a-b` route `c` and bus `a` route `b-c`
 * share the words but not the hash).
 */
export function eventRouteSid(routeKey: string): string {
    return uniqueSid("EventBridge", routeKey);
}

/**
 * Validates a route before any of its resources exists; messages name `routes.<route>.<field>`.
 * This includes what the queue would refuse once the route's rule exists: a policy already written
 * or a statement id already taken.
 */
function checkRoute(busName: string, routeName: string, args: EventRouteArgs): void {
    const fail: Fail = (field, message) => {
        throw new ComponentArgumentError("EventBus", busName, field ? `routes.${routeName}.${field}` : `routes.${routeName}`, message);
    };
    if (typeof routeName !== "string" || !/^[a-z][a-z0-9-]{0,39}$/.test(routeName)) {
        fail("", "name must start with a lower-case letter and hold at most 40 lower-case letters, digits or dashes");
    }
    if (!args || typeof args !== "object") fail("", `must be the route's arguments ({ pattern, queue, ... }), got ${shown(args)}`);
    checkAlarmSettings("EventBus", busName, args.alarms, { alarms: EVENT_ROUTE_ALARMS, topicBeside: { field: `routes.${routeName}.alarmTopicArn`, value: args.alarmTopicArn } }, `routes.${routeName}.alarms`);
    checkKind(fail, "enabled", args.enabled, "boolean", false);
    checkKind(fail, "description", args.description, "string", false);
    checkStringMap(fail, "tags", args.tags);
    checkTransforms(fail, "transforms", args.transforms, ["rule", "target", "targetDlq", "targetDlqPolicy"]);
    try {
        validateEventPattern(args.pattern);
    } catch (error) {
        if (error instanceof EventPatternError) fail("pattern", `is invalid: ${error.message}`);
        throw error;
    }
    const queue = args.queue;
    // Duck-typed rather than instanceof: a program may load two copies of the library.
    const isQueue = (q: Partial<ProcessedQueue> | undefined) =>
        !!q && typeof q.allowEventBridgeRule === "function" && typeof q.senderStatementProblem === "function" && !!q.encryption;
    if (!isQueue(queue)) fail("queue", "must be a ProcessedQueue");
    const range = (field: keyof EventRouteArgs, min: number, max: number) => {
        const v = args[field];
        if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)) fail(field, `must be an integer from ${min} to ${max}, got ${shown(v)}`);
    };
    range("maximumEventAgeSeconds", 60, 86400);
    range("maximumRetryAttempts", 0, 185);
    range("targetDlqRetentionSeconds", 60, 1209600);
    if (queue.fifo) {
        if (typeof args.messageGroupId !== "string" || args.messageGroupId.length < 1 || args.messageGroupId.length > 128) {
            fail("messageGroupId", `is required for the FIFO queue "${queue.logicalName}" (1..128 characters)`);
        }
        if (!queue.contentBasedDeduplication) {
            fail("queue", `"${queue.logicalName}" is FIFO without content-based deduplication, which EventBridge requires of FIFO targets`);
        }
    } else if (args.messageGroupId !== undefined) {
        fail("messageGroupId", `applies to FIFO queues only; "${queue.logicalName}" is a standard queue`);
    }
    if (queue.encryption.type === "kms" && isAwsManagedSqsKey(queue.encryption.keyArn)) {
        fail("queue", `"${queue.logicalName}" is encrypted with the AWS-managed key alias/aws/sqs, which EventBridge cannot use; use SSE-SQS or a customer-managed key`);
    }
    const problem = queue.senderStatementProblem(eventRouteSid(`${busName}/${routeName}`));
    if (problem) fail("queue", `"${queue.logicalName}": its policy ${problem}`);
}

/**
 * One route from a bus to a processed queue (created by `EventBus.route`): the rule on the bus, the
 * SQS target with `eventBusName`, a retry policy and a dead-letter queue of its own for events
 * EventBridge could not deliver, and the queue-policy statement on the processed queue that lets
 * `events.amazonaws.com` send only when `aws:SourceArn` is this rule's ARN.
 */
export class EventRoute extends pulumi.ComponentResource {
    readonly rule: aws.cloudwatch.EventRule;
    readonly target: aws.cloudwatch.EventTarget;
    readonly targetDlq: aws.sqs.Queue;
    readonly targetDlqPolicy: aws.sqs.QueuePolicy;
    readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
    readonly routeName: string;
    /** `<bus component name>/<route name>`. */
    readonly routeKey: string;
    readonly pattern: EventPattern;
    readonly queue: ProcessedQueue;
    private readonly busName: pulumi.Output<string>;

    constructor(name: string, args: EventRouteArgs & { bus: EventBus; routeName: string }, opts?: pulumi.ComponentResourceOptions) {
        checkRoute(args.bus.logicalName, args.routeName, args);
        super("bellyfed:events:EventRoute", name, {}, opts);
        const { bus, queue } = args;
        this.routeName = args.routeName;
        this.routeKey = `${bus.logicalName}/${args.routeName}`;
        this.pattern = args.pattern;
        this.queue = queue;
        this.busName = bus.name;
        const tags = args.tags ?? bus.tags;
        const tagged = (extra: Record<string, string>) => pulumi.output(tags ?? {}).apply((t) => ({ ...t, ...extra }));

        this.rule = new aws.cloudwatch.EventRule(
            name,
            applyTransform<aws.cloudwatch.EventRuleArgs>(
                {
                    eventBusName: bus.name,
                    eventPattern: JSON.stringify(args.pattern),
                    description: args.description ?? `Route ${this.routeKey}: matching events go to the ${queue.logicalName} queue`,
                    state: args.enabled === false ? "DISABLED" : "ENABLED",
                    tags: tagged({ [RULE_TAG]: this.routeKey }),
                },
                args.transforms?.rule,
            ),
            { parent: this },
        );

        // EventBridge target DLQs must be standard queues (never FIFO). SSE-SQS: EventBridge needs no key grant.
        this.targetDlq = new aws.sqs.Queue(
            `${name}-target-dlq`,
            applyTransform<aws.sqs.QueueArgs>(
                {
                    sqsManagedSseEnabled: true,
                    messageRetentionSeconds: args.targetDlqRetentionSeconds ?? 1209600,
                    // Grouped with the processed queue it feeds (the ops CLI lists them together).
                    tags: tagged({ [PROCESSED_QUEUE_TAG]: queue.logicalName, [QUEUE_ROLE_TAG]: "target-dlq", [ROUTE_TAG]: this.routeKey }),
                },
                args.transforms?.targetDlq,
            ),
            { parent: this },
        );
        const sid = eventRouteSid(this.routeKey);
        const sendForThisRule = (queueArn: pulumi.Input<string>): PolicyStatement => ({
            Sid: sid,
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: queueArn,
            // On a custom bus the rule ARN is rule/<bus>/<rule>: taken from the rule, never rebuilt.
            Condition: { ArnEquals: { "aws:SourceArn": this.rule.arn } },
        });
        this.targetDlqPolicy = new aws.sqs.QueuePolicy(
            `${name}-target-dlq-policy`,
            applyTransform<aws.sqs.QueuePolicyArgs>(
                {
                    queueUrl: this.targetDlq.url,
                    policy: policyDocument([
                        {
                            Sid: "DenyInsecureTransport",
                            Effect: "Deny",
                            Principal: "*",
                            Action: "sqs:*",
                            Resource: this.targetDlq.arn,
                            Condition: { Bool: { "aws:SecureTransport": "false" } },
                        },
                        sendForThisRule(this.targetDlq.arn),
                    ]),
                },
                args.transforms?.targetDlqPolicy,
            ),
            { parent: this },
        );

        // Cannot fail: checkRoute asked the queue before anything was registered.
        queue.allowEventBridgeRule(sid, this.rule.arn);

        this.target = new aws.cloudwatch.EventTarget(
            name,
            applyTransform<aws.cloudwatch.EventTargetArgs>(
                {
                    rule: this.rule.name,
                    eventBusName: bus.name,
                    arn: queue.queueArn,
                    deadLetterConfig: { arn: this.targetDlq.arn },
                    retryPolicy: {
                        maximumEventAgeInSeconds: args.maximumEventAgeSeconds ?? 86400,
                        maximumRetryAttempts: args.maximumRetryAttempts ?? 185,
                    },
                    sqsTarget: queue.fifo ? { messageGroupId: args.messageGroupId } : undefined,
                },
                args.transforms?.target,
            ),
            // Deliveries start as soon as the target exists: both queue policies first.
            { parent: this, dependsOn: [this.targetDlqPolicy, queue.queuePolicy] },
        );

        if (args.alarmTopicArn) this.alarms.push(...this.createAlarms(name, args, args.alarmTopicArn, args.tags ?? bus.tags));

        this.registerOutputs({ ruleName: this.rule.name, ruleArn: this.rule.arn, targetDlqUrl: this.targetDlq.url });
    }

    private createAlarms(
        name: string,
        args: EventRouteArgs,
        topicArn: pulumi.Input<string>,
        tags: EventRouteArgs["tags"],
    ): aws.cloudwatch.MetricAlarm[] {
        const queue = this.queue.logicalName;
        const ruleDimensions = { EventBusName: this.busName, RuleName: this.rule.name };
        const eventsMetric = (metricName: string) => ({ namespace: "AWS/Events", metricName, dimensions: ruleDimensions, periodSeconds: 60, statistic: "Sum" as const });
        const created = [
            createAlarm(this, `${name}-target-dlq-messages`, { topicArn }, {
                ...sqsGauge("ApproximateNumberOfMessagesVisible", this.targetDlq.name),
                description: `${this.routeKey}: EventBridge could not deliver events to ${queue} (after its retries); they wait in the target DLQ.`,
                threshold: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                evaluationPeriods: EVENT_ROUTE_ALARMS.targetDlqMessages.evaluationPeriods,
                treatMissingData: "notBreaching",
            }, args.alarms?.targetDlqMessages, tags),
            createAlarm(this, `${name}-failed-invocations`, { topicArn }, {
                ...eventsMetric("FailedInvocations"),
                description: `${this.routeKey}: EventBridge failed to deliver matched events to ${queue} for good (queue policy, KMS key or deleted queue). They went to the target DLQ unless the failed-to-dlq alarm fires too.`,
                threshold: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                evaluationPeriods: EVENT_ROUTE_ALARMS.failedInvocations.evaluationPeriods,
                // No matched events means no failures.
                treatMissingData: "notBreaching",
            }, args.alarms?.failedInvocations, tags),
            createAlarm(this, `${name}-sent-to-dlq`, { topicArn }, {
                ...eventsMetric("InvocationsSentToDlq"),
                description: `${this.routeKey}: events were sent to the rule's target DLQ instead of ${queue}.`,
                threshold: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                evaluationPeriods: EVENT_ROUTE_ALARMS.invocationsSentToDlq.evaluationPeriods,
                treatMissingData: "notBreaching",
            }, args.alarms?.invocationsSentToDlq, tags),
            createAlarm(this, `${name}-failed-to-dlq`, { topicArn }, {
                ...eventsMetric("InvocationsFailedToBeSentToDlq"),
                description: `${this.routeKey}: EventBridge could deliver events neither to ${queue} nor to the target DLQ (its policy, key or the DLQ itself): those events are lost.`,
                threshold: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                evaluationPeriods: EVENT_ROUTE_ALARMS.invocationsFailedToBeSentToDlq.evaluationPeriods,
                treatMissingData: "notBreaching",
            }, args.alarms?.invocationsFailedToBeSentToDlq, tags),
        ];
        return created.filter((a): a is aws.cloudwatch.MetricAlarm => a !== undefined);
    }

    /** Matched, delivered and failed events of the rule; its target DLQ's depth. */
    dashboardWidgets(region: string): pulumi.Output<DashboardWidget>[] {
        const dimensions = { EventBusName: this.busName, RuleName: this.rule.name };
        const line = (metricName: string) => ({ namespace: "AWS/Events", metricName, dimensions, stat: "Sum", label: metricName });
        return [
            metricWidget(
                `${this.routeKey}: matched, delivered, failed`,
                [line("MatchedEvents"), line("Invocations"), line("FailedInvocations"), line("InvocationsSentToDlq"), line("InvocationsFailedToBeSentToDlq")],
                region,
            ),
            metricWidget(
                `${this.routeKey}: target DLQ`,
                [{ namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: this.targetDlq.name }, stat: "Maximum", label: "undeliverable events" }],
                region,
            ),
        ];
    }

    /** The entry of the stack's `rules` output. */
    describe(): EventRouteDescription {
        return {
            name: this.routeKey,
            ruleName: this.rule.name,
            ruleArn: this.rule.arn,
            busName: this.busName,
            pattern: this.pattern,
            queue: this.queue.logicalName,
            targetDlqUrl: this.targetDlq.url,
            targetDlqArn: this.targetDlq.arn,
            targetDlqName: this.targetDlq.name,
        };
    }
}
