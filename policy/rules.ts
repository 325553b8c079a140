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

export const noFullAccessManagedPolicies: PolicyRule = {
    name: "no-fullaccess-managed-policies",
    description: "No role gets an AWS FullAccess or AdministratorAccess managed policy; grant least privilege inline.",
    check(resources) {
        const broad = (arn: unknown) => typeof arn === "string" && /(FullAccess|AdministratorAccess|PowerUserAccess)$/.test(arn);
        const out: { urn: string; message: string }[] = [];
        for (const r of resources) {
            const arns =
                r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment" || r.type === "aws:iam/policyAttachment:PolicyAttachment"
                    ? [r.props.policyArn]
                    : r.type === "aws:iam/role:Role"
                      ? asArray(r.props.managedPolicyArns)
                      : [];
            for (const arn of arns.filter(broad)) out.push({ urn: r.urn, message: `attaches the broad managed policy ${arn}` });
        }
        return out;
    },
};

export const noWildcardPermissions: PolicyRule = {
    name: "no-wildcard-permissions",
    description: 'Allow statements name actions and resources: no "*" or "service:*" actions, no "*" resources (except actions IAM only grants on "*", and KMS key policies where "*" means the key itself), no anonymous principals without a condition.',
    check(resources) {
        const out: { urn: string; message: string }[] = [];
        for (const r of resources) {
            for (const { doc, kind } of policyDocuments(r)) {
                asArray<any>(doc.Statement).forEach((s, i) => {
                    if (s?.Effect !== "Allow") return;
                    const where = `statement ${s.Sid ?? i}`;
                    const actions = asArray<string>(s.Action);
                    for (const a of actions.filter(wildcardAction)) out.push({ urn: r.urn, message: `${where} allows the wildcard action "${a}"` });
                    if (s.NotAction !== undefined) out.push({ urn: r.urn, message: `${where} uses NotAction with Allow` });
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
    description: "Tables, queues and topics are encrypted at rest (SSE on DynamoDB, SSE-SQS or KMS on SQS, KMS on SNS).",
    check(resources) {
        const out: { urn: string; message: string }[] = [];
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
        }
        return out;
    },
};

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
    functionLogRetention,
    encryptionAtRest,
    processedQueueDlqAlarm,
    functionErrorThrottleAlarms,
];

/** Runs every rule over a resource graph. */
export function evaluatePolicies(resources: PolicyResource[], rules: PolicyRule[] = POLICY_RULES): Violation[] {
    return rules.flatMap((rule) => rule.check(resources).map((v) => ({ policy: rule.name, ...v })));
}
