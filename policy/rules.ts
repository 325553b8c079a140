/**
 * The platform's policy rules, defined once and used by both the offline plan (`violations`) and the
 * CrossGuard policy pack (`pulumi preview --policy-pack policy/pack`). Rules read resources in a
 * neutral shape: a type, a URN and `props` (inputs merged with whatever state is known).
 * A value a preview does not know yet (an ARN of a resource not created yet, say) is `UNKNOWN`, not
 * `undefined`: "not set" and "not known yet" are different answers, and a rule never reports what
 * it cannot see.
 */

/** Stands for a value that is set but not known until the deployment runs (CrossGuard previews). */
export const UNKNOWN: unique symbol = Symbol.for("bellyfed.policy.unknown");

export const isUnknown = (v: unknown): v is typeof UNKNOWN => v === UNKNOWN;

export interface PolicyResource {
    urn: string;
    type: string;
    name: string;
    parent?: string;
    props: Record<string, any>;
}

export interface Violation {
    policy: string;
    urn: string;
    message: string;
}

export interface PolicyRule {
    name: string;
    description: string;
    check(resources: PolicyResource[]): { urn: string; message: string }[];
}

/** Actions that IAM only grants on `Resource: "*"` (they have no resource-level permissions). */
export const ACTIONS_WITHOUT_RESOURCE_LEVEL = ["cloudwatch:PutMetricData", "xray:PutTraceSegments", "xray:PutTelemetryRecords", "sqs:ListQueues", "events:ListRules"];

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function parseDocument(doc: unknown): { Statement?: any } | undefined {
    if (typeof doc === "string") {
        try {
            return JSON.parse(doc);
        } catch {
            return undefined;
        }
    }
    return doc && typeof doc === "object" ? (doc as any) : undefined;
}

/** Every policy document a resource carries, with whether it is an identity policy or a resource policy. */
function policyDocuments(r: PolicyResource): { doc: any; kind: "identity" | "resource" | "key" }[] {
    const docs: { doc: any; kind: "identity" | "resource" | "key" }[] = [];
    const add = (raw: unknown, kind: "identity" | "resource" | "key") => {
        const doc = parseDocument(raw);
        if (doc) docs.push({ doc, kind });
    };
    switch (r.type) {
        case "aws:iam/policy:Policy":
        case "aws:iam/rolePolicy:RolePolicy":
        case "aws:iam/userPolicy:UserPolicy":
        case "aws:iam/groupPolicy:GroupPolicy":
            add(r.props.policy, "identity");
            break;
        case "aws:iam/role:Role":
            for (const inline of asArray<any>(r.props.inlinePolicies)) add(inline?.policy, "identity");
            break;
        case "aws:sqs/queuePolicy:QueuePolicy":
        case "aws:sns/topicPolicy:TopicPolicy":
        case "aws:cloudwatch/eventBusPolicy:EventBusPolicy":
            add(r.props.policy, "resource");
            break;
        case "aws:sqs/queue:Queue":
        case "aws:sns/topic:Topic":
            add(r.props.policy, "resource");
            break;
        case "aws:kms/key:Key":
            add(r.props.policy, "key");
            break;
    }
    return docs;
}

const wildcardAction = (a: unknown) => a === "*" || (typeof a === "string" && /:\*$/.test(a));

/**
 * AWS managed policies that grant a whole service or more: `*FullAccess` (and versioned names such as
 * `CloudWatchFullAccessV2`), `AdministratorAccess`, `PowerUserAccess` and `*PowerUser` (e.g.
 * `AmazonCognitoPowerUser`). CallbackFunction's default role attaches nine of these.
 */
export function isBroadManagedPolicy(arn: unknown): boolean {
    return typeof arn === "string" && /(FullAccess(V\d+)?|AdministratorAccess|PowerUserAccess|PowerUser)$/.test(arn);
}

export const noFullAccessManagedPolicies: PolicyRule = {
    name: "no-fullaccess-managed-policies",
    description: "No role gets an AWS FullAccess, PowerUser or AdministratorAccess managed policy; grant least privilege inline.",
    check(resources) {
        const out: { urn: string; message: string }[] = [];
        for (const r of resources) {
            const arns =
                r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment" || r.type === "aws:iam/policyAttachment:PolicyAttachment"
                    ? [r.props.policyArn]
                    : r.type === "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
                      ? asArray(r.props.policyArns)
                      : r.type === "aws:iam/role:Role"
                        ? asArray(r.props.managedPolicyArns)
                        : [];
            for (const arn of arns.filter(isBroadManagedPolicy)) out.push({ urn: r.urn, message: `attaches the broad managed policy ${arn}` });
        }
        return out;
    },
};

export const noWildcardPermissions: PolicyRule = {
    name: "no-wildcard-permissions",
    description: 'Allow statements name actions and resources: no "*" or "service:*" actions, no NotAction or NotResource, no "*" resources (except actions IAM only grants on "*", and KMS key policies where "*" means the key itself), no anonymous principals without a condition.',
    check(resources) {
        const out: { urn: string; message: string }[] = [];
        for (const r of resources) {
            for (const { doc, kind } of policyDocuments(r)) {
                asArray<any>(doc.Statement).forEach((s, i) => {
                    if (s?.Effect !== "Allow") return;
                    const where = `statement ${s.Sid ?? i}`;
                    const actions = asArray<string>(s.Action);
                    for (const a of actions.filter(wildcardAction)) out.push({ urn: r.urn, message: `${where} allows the wildcard action "${a}"` });
                    // Allow + NotAction / NotResource grant everything except a list: never least privilege.
                    if (s.NotAction !== undefined) out.push({ urn: r.urn, message: `${where} uses NotAction with Allow` });
                    if (s.NotResource !== undefined) out.push({ urn: r.urn, message: `${where} uses NotResource with Allow` });
                    if (kind !== "key" && asArray(s.Resource).includes("*") && !actions.every((a) => ACTIONS_WITHOUT_RESOURCE_LEVEL.includes(a))) {
                        out.push({ urn: r.urn, message: `${where} allows ${actions.join(", ")} on every resource ("*")` });
                    }
                    const principals = s.Principal === "*" ? ["*"] : asArray(s.Principal?.AWS);
                    if (kind !== "identity" && principals.includes("*") && !s.Condition) {
                        out.push({ urn: r.urn, message: `${where} allows any principal ("*") without a condition` });
                    }
                });
            }
        }
        return out;
    },
};

export const functionLogRetention: PolicyRule = {
    name: "function-log-retention",
    description: "Every Lambda function logs to a log group the stack declares, with a retention period.",
    check(resources) {
        const groups = new Map(resources.filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup").map((g) => [g.props.name, g]));
        const out: { urn: string; message: string }[] = [];
        for (const fn of resources.filter((r) => r.type === "aws:lambda/function:Function")) {
            const groupName = fn.props.loggingConfig?.logGroup ?? (typeof fn.props.name === "string" ? `/aws/lambda/${fn.props.name}` : undefined);
            if (typeof groupName !== "string") continue;
            const group = groups.get(groupName);
            if (!group && groups.has(UNKNOWN)) continue; // it may be the group whose name is not known yet
            if (!group) out.push({ urn: fn.urn, message: `logs to "${groupName}", which the stack does not declare (it would keep logs forever)` });
            else if (!isUnknown(group.props.retentionInDays) && !(group.props.retentionInDays > 0)) out.push({ urn: group.urn, message: `log group "${groupName}" has no retention` });
        }
        return out;
    },
};

export const encryptionAtRest: PolicyRule = {
    name: "encryption-at-rest",
    description:
        "Tables, queues and topics are encrypted at rest (SSE on DynamoDB, SSE-SQS or KMS on SQS, KMS on SNS), with a key their senders can use: not alias/aws/sqs on a queue EventBridge delivers to, not alias/aws/sns on a topic CloudWatch alarms publish to (AWS-managed key policies cannot admit those services).",
    check(resources) {
        const out: { urn: string; message: string }[] = [];
        const fromEventBridge = eventBridgeDestinations(resources);
        const fromAlarms = alarmDestinations(resources);
        for (const r of resources) {
            const sse = r.props.serverSideEncryption;
            if (r.type === "aws:dynamodb/table:Table" && !isUnknown(sse) && !isUnknown(sse?.enabled) && sse?.enabled !== true) {
                out.push({ urn: r.urn, message: "table does not enable server-side encryption with KMS" });
            }
            if (r.type === "aws:sqs/queue:Queue" && r.props.sqsManagedSseEnabled !== true && !isUnknown(r.props.sqsManagedSseEnabled) && !r.props.kmsMasterKeyId) {
                out.push({ urn: r.urn, message: "queue has neither SSE-SQS (sqsManagedSseEnabled) nor a KMS key" });
            }
            if (r.type === "aws:sns/topic:Topic" && !r.props.kmsMasterKeyId) {
                out.push({ urn: r.urn, message: "topic has no KMS key (kmsMasterKeyId)" });
            }
            const key = r.props.kmsMasterKeyId;
            const arn = r.props.arn;
            if (r.type === "aws:sqs/queue:Queue" && typeof key === "string" && AWS_MANAGED_SQS_KEY.test(key) && fromEventBridge.has(arn)) {
                out.push({ urn: r.urn, message: `queue is encrypted with ${key}, whose key policy cannot let EventBridge (a rule target or DLQ here) encrypt: deliveries fail` });
            }
            if (r.type === "aws:sns/topic:Topic" && typeof key === "string" && AWS_MANAGED_SNS_KEY.test(key) && fromAlarms.has(arn)) {
                out.push({ urn: r.urn, message: `topic is encrypted with ${key}, which CloudWatch alarms cannot use: their notifications are never delivered` });
            }
        }
        return out;
    },
};

/** The service principals (`events.amazonaws.com`, ...) a statement allows. */
function servicePrincipals(statement: any): string[] {
    return asArray<unknown>(statement?.Principal?.Service).filter((p): p is string => typeof p === "string");
}

/** Whether a statement's condition names `aws:SourceArn` or `aws:SourceAccount`, under any operator. */
function hasSourceCondition(statement: any): boolean {
    if (isUnknown(statement?.Condition)) return true;
    return Object.values<any>(statement?.Condition ?? {}).some(
        (block) => isUnknown(block) || Object.keys(block ?? {}).some((key) => /^aws:Source(Arn|Account)$/i.test(key)),
    );
}

export const scopedServicePrincipals: PolicyRule = {
    name: "scoped-service-principals",
    description:
        "Resource policies (SQS queues, SNS topics, event buses) that allow an AWS service principal (events.amazonaws.com, ...) restrict it with an aws:SourceArn or aws:SourceAccount condition, so no other account's rule or alarm can use the grant (confused deputy).",
    check(resources) {
        const out: { urn: string; message: string }[] = [];
        for (const r of resources) {
            for (const { doc, kind } of policyDocuments(r)) {
                if (kind !== "resource") continue;
                asArray<any>(doc.Statement).forEach((s, i) => {
                    if (s?.Effect !== "Allow" || hasSourceCondition(s)) return;
                    for (const service of servicePrincipals(s)) {
                        out.push({ urn: r.urn, message: `statement ${s.Sid ?? i} allows the service principal ${service} without an aws:SourceArn or aws:SourceAccount condition` });
                    }
                });
            }
        }
        return out;
    },
};

export const scopedLambdaPermissions: PolicyRule = {
    name: "scoped-lambda-permissions",
    description: 'Every Lambda permission names its principal (never "*"), and one granted to an AWS service names the sourceArn that may invoke (e.g. the API route\'s execute-api ARN).',
    check(resources) {
        const out: { urn: string; message: string }[] = [];
        for (const p of resources.filter((r) => r.type === "aws:lambda/permission:Permission")) {
            const principal = p.props.principal;
            if (principal === "*") out.push({ urn: p.urn, message: 'lets any principal ("*") invoke the function' });
            else if (typeof principal === "string" && principal.endsWith(".amazonaws.com") && (p.props.sourceArn === undefined || p.props.sourceArn === "")) {
                out.push({ urn: p.urn, message: `lets ${principal} invoke the function with no sourceArn: any of that service's resources, in any account, could` });
            }
        }
        return out;
    },
};

/** The AWS-managed SQS key, as an alias name or alias ARN. */
const AWS_MANAGED_SQS_KEY = /(^|:)alias\/aws\/sqs$/;
/** The AWS-managed SNS key, as an alias name or alias ARN. */
const AWS_MANAGED_SNS_KEY = /(^|:)alias\/aws\/sns$/;

/** The known ARN strings among `values` (a preview's unknown ARN links nothing). */
const knownArns = (values: unknown[]): string[] => values.filter((v): v is string => typeof v === "string" && v !== "");

/** Queues EventBridge delivers to: the ARN of a target or of a target's dead-letter queue. */
function eventBridgeDestinations(resources: PolicyResource[]): Set<string> {
    const targets = resources.filter((r) => r.type === "aws:cloudwatch/eventTarget:EventTarget");
    return new Set(knownArns(targets.flatMap((t) => [t.props.arn, t.props.deadLetterConfig?.arn])));
}

/** Topics CloudWatch alarms publish to: every ARN in an alarm's alarm, OK or insufficient-data actions. */
function alarmDestinations(resources: PolicyResource[]): Set<string> {
    const alarms = resources.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm");
    return new Set(knownArns(alarms.flatMap((a) => ["alarmActions", "okActions", "insufficientDataActions"].flatMap((key) => asArray<unknown>(a.props[key])))));
}

/**
 * Alarms of the graph that watch `metricName` in `namespace` with a dimension equal to `value`. An
 * alarm whose dimensions are not known yet may be that alarm, so it counts.
 */
function alarmsOn(resources: PolicyResource[], namespace: string, metricName: string, dimension: string, value: unknown): PolicyResource[] {
    const watches = (metric: any) =>
        metric?.namespace === namespace &&
        metric.metricName === metricName &&
        (isUnknown(metric.dimensions) || metric.dimensions?.[dimension] === value || isUnknown(metric.dimensions?.[dimension]));
    return resources.filter((a) => {
        if (a.type !== "aws:cloudwatch/metricAlarm:MetricAlarm") return false;
        const direct = watches(a.props);
        const inMath = isUnknown(a.props.metricQueries) || asArray<any>(a.props.metricQueries).some((q) => watches(q?.metric));
        return direct || inMath;
    });
}

/** Alarms with somewhere to send their notifications. */
const notifies = (alarm: PolicyResource) => asArray(alarm.props.alarmActions).length > 0;

export const processedQueueDlqAlarm: PolicyRule = {
    name: "processed-queue-dlq-alarm",
    description: "Every ProcessedQueue's dead-letter queue has an alarm with actions on ApproximateNumberOfMessagesVisible (AWS/SQS), so no failed event goes unnoticed.",
    check(resources) {
        const out: { urn: string; message: string }[] = [];
        for (const component of resources.filter((r) => r.type === "bellyfed:events:ProcessedQueue")) {
            const dlqs = resources.filter(
                (q) => q.parent === component.urn && q.type === "aws:sqs/queue:Queue" && q.props.tags?.["bellyfed:queue-role"] === "dlq",
            );
            for (const dlq of dlqs) {
                if (typeof dlq.props.name !== "string") continue;
                if (!alarmsOn(resources, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dlq.props.name).some(notifies)) {
                    out.push({ urn: component.urn, message: `DLQ "${dlq.props.name}" has no alarm on ApproximateNumberOfMessagesVisible with an action` });
                }
            }
        }
        return out;
    },
};

export const functionErrorThrottleAlarms: PolicyRule = {
    name: "function-error-throttle-alarms",
    description: "Every Lambda function has alarms with actions on its Errors and Throttles (AWS/Lambda, FunctionName).",
    check(resources) {
        const out: { urn: string; message: string }[] = [];
        for (const fn of resources.filter((r) => r.type === "aws:lambda/function:Function")) {
            if (typeof fn.props.name !== "string") continue;
            for (const metricName of ["Errors", "Throttles"]) {
                if (!alarmsOn(resources, "AWS/Lambda", metricName, "FunctionName", fn.props.name).some(notifies)) {
                    out.push({ urn: fn.urn, message: `function "${fn.props.name}" has no ${metricName} alarm with an action` });
                }
            }
        }
        return out;
    },
};

/** Every rule, in report order. */
export const POLICY_RULES: PolicyRule[] = [
    noFullAccessManagedPolicies,
    noWildcardPermissions,
    scopedServicePrincipals,
    scopedLambdaPermissions,
    functionLogRetention,
    encryptionAtRest,
    processedQueueDlqAlarm,
    functionErrorThrottleAlarms,
];

/** Runs every rule over a resource graph. */
export function evaluatePolicies(resources: PolicyResource[], rules: PolicyRule[] = POLICY_RULES): Violation[] {
    return rules.flatMap((rule) => rule.check(resources).map((v) => ({ policy: rule.name, ...v })));
}
