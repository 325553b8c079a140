import { PlanDocument } from "./plan";

/** Settings worth a glance in the human plan, by resource type. */
const KEY_SETTINGS: Record<string, string[]> = {
    "aws:lambda/function:Function": ["runtime", "memorySize", "timeout", "architectures", "loggingConfig.logFormat"],
    "aws:dynamodb/table:Table": ["billingMode", "hashKey", "rangeKey", "pointInTimeRecovery.enabled", "deletionProtectionEnabled", "serverSideEncryption.enabled"],
    "aws:apigatewayv2/route:Route": ["routeKey"],
    "aws:apigatewayv2/stage:Stage": ["name", "defaultRouteSettings.throttlingRateLimit", "defaultRouteSettings.throttlingBurstLimit"],
    "aws:apigatewayv2/api:Api": ["protocolType", "corsConfiguration.allowOrigins"],
    "aws:cloudwatch/logGroup:LogGroup": ["retentionInDays"],
    "aws:cloudwatch/eventArchive:EventArchive": ["retentionDays"],
    "aws:cloudwatch/eventRule:EventRule": ["eventPattern", "state"],
    "aws:cloudwatch/eventTarget:EventTarget": ["retryPolicy.maximumRetryAttempts", "retryPolicy.maximumEventAgeInSeconds"],
    "aws:sqs/queue:Queue": ["fifoQueue", "visibilityTimeoutSeconds", "messageRetentionSeconds", "sqsManagedSseEnabled", "kmsMasterKeyId", "redrivePolicy"],
    "aws:lambda/eventSourceMapping:EventSourceMapping": ["batchSize", "maximumBatchingWindowInSeconds", "functionResponseTypes", "scalingConfig.maximumConcurrency"],
    "aws:lambda/permission:Permission": ["principal", "sourceArn"],
    "aws:cloudwatch/metricAlarm:MetricAlarm": ["namespace", "metricName", "statistic", "extendedStatistic", "comparisonOperator", "threshold", "treatMissingData"],
};

function pick(obj: Record<string, any>, dotted: string): unknown {
    return dotted.split(".").reduce<any>((v, k) => (v === undefined || v === null ? undefined : Array.isArray(v) ? v[0]?.[k] ?? v[Number(k)] : v[k]), obj);
}

function settings(type: string, inputs: Record<string, any>): string {
    const parts = (KEY_SETTINGS[type] ?? [])
        .map((key) => [key, pick(inputs, key)] as const)
        .filter(([, v]) => v !== undefined && v !== null)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
    return parts.length ? `  ${parts.join(" ")}` : "";
}

/** The resource tree as text: one line per resource, indented under its parent. */
export function renderPlan(plan: PlanDocument): string {
    const children = new Map<string | null, PlanDocument["resources"]>();
    for (const r of plan.resources) {
        const list = children.get(r.parent) ?? [];
        list.push(r);
        children.set(r.parent, list);
    }
    const lines = [`Plan for ${plan.project}/${plan.stack}: ${plan.resources.length} resources (offline, mock engine)`];
    const walk = (parent: string | null, depth: number) => {
        for (const r of children.get(parent) ?? []) {
            lines.push(`${"  ".repeat(depth)}+ ${r.type}  ${r.name}${settings(r.type, r.inputs)}`);
            walk(r.urn, depth + 1);
        }
    };
    walk(null, 1);
    lines.push("", "Outputs:");
    for (const [k, v] of Object.entries(plan.outputs)) lines.push(`  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    lines.push("");
    if (plan.violations.length === 0) lines.push("Policy checks: no violations");
    else {
        lines.push(`Policy checks: ${plan.violations.length} violation(s)`);
        for (const v of plan.violations) lines.push(`  [${v.policy}] ${v.urn}: ${v.message}`);
    }
    return lines.join("\n");
}
