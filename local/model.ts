/**
 * The platform as the local runtime sees it: built from the resource graph that the real Pulumi
 * program registers under the mock engine (plan/engine.ts). Nothing here knows a resource by its
 * name: resources are found by type, and references between them are followed by matching an
 * input value (a name, ARN, URL, id or invoke ARN) to another resource's outputs, exactly as the
 * values flow on AWS.
 */
import { CapturedResource, ProgramRun } from "../plan/engine";
import { DEFAULT_MOCK_ACCOUNT } from "../plan/mockState";
import { compileEventPattern, CompiledEventPattern, EventPatternError } from "../event-patterns";
import { compareCodePoints } from "../components/codePointOrder";
import { eventBridgeDeliveryDenied } from "./queuePolicy";

export const TYPES = {
    table: "aws:dynamodb/table:Table",
    fn: "aws:lambda/function:Function",
    queue: "aws:sqs/queue:Queue",
    redrivePolicy: "aws:sqs/redrivePolicy:RedrivePolicy",
    queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
    bus: "aws:cloudwatch/eventBus:EventBus",
    rule: "aws:cloudwatch/eventRule:EventRule",
    target: "aws:cloudwatch/eventTarget:EventTarget",
    mapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
    api: "aws:apigatewayv2/api:Api",
    integration: "aws:apigatewayv2/integration:Integration",
    route: "aws:apigatewayv2/route:Route",
} as const;

/** A graph that cannot be run locally: names the resource and what is wrong with it. */
export class LocalModelError extends Error {
    constructor(resource: CapturedResource | string, message: string) {
        super(`${typeof resource === "string" ? resource : `${resource.type} "${resource.name}"`}: ${message}`);
        this.name = "LocalModelError";
    }
}

export interface TableSpec {
    urn: string;
    logicalName: string;
    name: string;
    arn: string;
    hashKey: string;
    rangeKey?: string;
    attributes: { name: string; type: string }[];
    globalSecondaryIndexes: { name: string; hashKey: string; rangeKey?: string; projectionType: string; nonKeyAttributes?: string[] }[];
    localSecondaryIndexes: { name: string; rangeKey: string; projectionType: string; nonKeyAttributes?: string[] }[];
}

export interface FunctionSpec {
    urn: string;
    logicalName: string;
    name: string;
    arn: string;
    /** The `__index.js` CallbackFunction would upload. */
    code: string;
    environment: Record<string, string>;
    timeoutSeconds: number;
    memoryMb: number;
    runtime: string;
    reservedConcurrency?: number;
    logGroup?: string;
}

export interface QueueSpec {
    urn: string;
    logicalName: string;
    name: string;
    arn: string;
    url: string;
    fifo: boolean;
    contentBasedDeduplication: boolean;
    visibilityTimeoutSeconds: number;
    messageRetentionSeconds: number;
    delaySeconds: number;
    /** From the queue's `redrivePolicy` (or a standalone RedrivePolicy resource). */
    redrive?: { deadLetterQueue: string; maxReceiveCount: number };
    /** The queue's resource policies (its `policy` input and QueuePolicy resources), parsed. */
    policies: any[];
    kmsMasterKeyId?: string;
    /** The queue's tags (what ListQueueTags answers). */
    tags: Record<string, string>;
}

export interface BusSpec {
    name: string;
    arn: string;
    logicalName: string;
}

export interface TargetSpec {
    urn: string;
    logicalName: string;
    targetId: string;
    arn: string;
    /** What the target ARN names locally. */
    kind: "queue" | "function" | "unsupported";
    /** Physical name of the queue or function. */
    resource?: string;
    input?: string;
    inputPath?: string;
    inputTransformer?: { inputPaths?: Record<string, string>; inputTemplate: string };
    messageGroupId?: string;
    /** Queue name and ARN of the target's dead-letter queue. */
    deadLetterQueue?: string;
    deadLetterArn?: string;
    retry: { maximumRetryAttempts: number; maximumEventAgeSeconds: number };
    /** Why EventBridge may not send to the target queue (its policy or key), as on AWS. */
    deliveryDenied?: string;
    /** Why EventBridge may not send to the target's DLQ. */
    deadLetterDenied?: string;
}

export interface RuleSpec {
    urn: string;
    logicalName: string;
    name: string;
    arn: string;
    busName: string;
    enabled: boolean;
    patternText?: string;
    pattern?: CompiledEventPattern;
    scheduleExpression?: string;
    targets: TargetSpec[];
    /** The rule's tags (what ListTagsForResource answers). */
    tags: Record<string, string>;
}

export interface MappingSpec {
    urn: string;
    logicalName: string;
    queue: string;
    functionName: string;
    batchSize: number;
    batchingWindowSeconds: number;
    maximumConcurrency?: number;
    reportBatchItemFailures: boolean;
    enabled: boolean;
}

export interface RouteSpec {
    urn: string;
    logicalName: string;
    routeKey: string;
    /** Upper-case method or `ANY`; `$default` routes have method and path undefined. */
    method?: string;
    path?: string;
    functionName: string;
    payloadFormatVersion: string;
}

export interface CorsSpec {
    allowOrigins: string[];
    allowMethods: string[];
    allowHeaders: string[];
    exposeHeaders: string[];
    allowCredentials: boolean;
    maxAge?: number;
}

export interface ApiSpec {
    urn: string;
    logicalName: string;
    id: string;
    cors?: CorsSpec;
    routes: RouteSpec[];
}

export interface LocalModel {
    project: string;
    stack: string;
    region: string;
    accountId: string;
    tables: TableSpec[];
    functions: FunctionSpec[];
    queues: QueueSpec[];
    buses: BusSpec[];
    rules: RuleSpec[];
    mappings: MappingSpec[];
    apis: ApiSpec[];
    /** Things that work on AWS but not (or differently) here, for the banner. */
    warnings: string[];
}

const REFERENCE_KEYS = ["arn", "name", "url", "id", "invokeArn", "qualifiedArn"] as const;

/** Finds resources by the values other resources hold for them. */
export class GraphIndex {
    private readonly custom: CapturedResource[];

    constructor(readonly resources: CapturedResource[]) {
        this.custom = resources.filter((r) => r.custom);
    }

    ofType(type: string): CapturedResource[] {
        return this.custom.filter((r) => r.type === type);
    }

    /** The resource of `type` whose arn/name/url/id/invokeArn equals `value` (a Lambda ARN may carry a qualifier). */
    find(type: string, value: unknown): CapturedResource | undefined {
        if (typeof value !== "string" || value === "") return undefined;
        const candidates = this.ofType(type);
        const exact = candidates.find((r) => REFERENCE_KEYS.some((k) => r.outputs[k] === value));
        if (exact) return exact;
        if (type === TYPES.fn) {
            // arn:aws:lambda:region:account:function:name:qualifier
            const unqualified = value.split(":").slice(0, 7).join(":");
            return candidates.find((r) => r.outputs.arn === unqualified);
        }
        return undefined;
    }

    /** Like find, but a missing reference is an error naming who refers to what. */
    require(type: string, value: unknown, from: CapturedResource, field: string): CapturedResource {
        const found = this.find(type, value);
        if (!found) {
            throw new LocalModelError(from, `${field} ${JSON.stringify(value)} names no ${type} of this stack`);
        }
        return found;
    }
}

function str(value: unknown): string | undefined {
    return typeof value === "string" && value !== "" ? value : undefined;
}

function tagsOf(resource: CapturedResource): Record<string, string> {
    const tags = resource.inputs.tags;
    if (tags === null || typeof tags !== "object" || Array.isArray(tags)) return {};
    return Object.fromEntries(Object.entries(tags).filter(([, v]) => typeof v === "string")) as Record<string, string>;
}

/** Sorted by a text key: the graph's registration order varies between runs, the banner and the state must not. */
function byKey<T>(items: T[], key: (item: T) => string): T[] {
    return items
        .map((item) => ({ item, key: key(item) }))
        .sort((a, b) => compareCodePoints(a.key, b.key))
        .map(({ item }) => item);
}

function num(value: unknown, fallback: number): number {
    if (typeof value === "number" && Number.isFinite(value)) return value;
    if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
    return fallback;
}

function parseJsonInput(resource: CapturedResource, field: string, value: unknown): any {
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value !== "string") return value;
    try {
        return JSON.parse(value);
    } catch (error) {
        throw new LocalModelError(resource, `${field} is not valid JSON: ${(error as Error).message}`);
    }
}

function arnRegionAccount(arn: string | undefined): { region?: string; accountId?: string } {
    const parts = (arn ?? "").split(":");
    return parts.length >= 5 ? { region: parts[3] || undefined, accountId: parts[4] || undefined } : {};
}

/** Builds the local model of a captured program run. Throws LocalModelError for graphs it cannot run. */
export function buildLocalModel(run: ProgramRun<unknown>): LocalModel {
    const index = new GraphIndex(run.resources);
    const warnings: string[] = [];

    const tables: TableSpec[] = index.ofType(TYPES.table).map((r) => {
        const hashKey = str(r.inputs.hashKey);
        if (!hashKey) throw new LocalModelError(r, "has no hashKey");
        if (r.inputs.streamEnabled) warnings.push(`table ${r.outputs.name}: DynamoDB streams are not emulated locally`);
        if (r.inputs.ttl?.enabled) warnings.push(`table ${r.outputs.name}: TTL expiry is not emulated locally (items stay)`);
        return {
            urn: r.urn,
            logicalName: r.name,
            name: r.outputs.name,
            arn: r.outputs.arn,
            hashKey,
            rangeKey: str(r.inputs.rangeKey),
            attributes: (r.inputs.attributes ?? []).map((a: any) => ({ name: a.name, type: a.type })),
            globalSecondaryIndexes: (r.inputs.globalSecondaryIndexes ?? []).map((g: any) => ({
                name: g.name,
                hashKey: g.hashKey,
                rangeKey: str(g.rangeKey),
                projectionType: g.projectionType ?? "ALL",
                nonKeyAttributes: g.nonKeyAttributes,
            })),
            localSecondaryIndexes: (r.inputs.localSecondaryIndexes ?? []).map((l: any) => ({
                name: l.name,
                rangeKey: l.rangeKey,
                projectionType: l.projectionType ?? "ALL",
                nonKeyAttributes: l.nonKeyAttributes,
            })),
        };
    });

    const functions: FunctionSpec[] = index.ofType(TYPES.fn).map((r) => {
        const code = run.functionCode.get(r.urn);
        if (code === undefined) throw new LocalModelError(r, "has no serialized code (only CallbackFunction code archives can run locally)");
        const environment: Record<string, string> = {};
        for (const [key, value] of Object.entries<any>(r.inputs.environment?.variables ?? {})) {
            if (value === "[secret]") warnings.push(`function ${r.outputs.name}: environment variable ${key} is a secret and has no value locally`);
            environment[key] = typeof value === "string" ? value : JSON.stringify(value);
        }
        return {
            urn: r.urn,
            logicalName: r.name,
            name: r.outputs.name,
            arn: r.outputs.arn,
            code,
            environment,
            timeoutSeconds: num(r.inputs.timeout, 3),
            memoryMb: num(r.inputs.memorySize, 128),
            runtime: str(r.inputs.runtime) ?? "nodejs22.x",
            reservedConcurrency: r.inputs.reservedConcurrentExecutions === undefined ? undefined : num(r.inputs.reservedConcurrentExecutions, -1),
            logGroup: str(r.inputs.loggingConfig?.logGroup),
        };
    });

    const redriveResources = index.ofType(TYPES.redrivePolicy);
    const policyResources = index.ofType(TYPES.queuePolicy);
    const queues: QueueSpec[] = index.ofType(TYPES.queue).map((r) => {
        const standalone = redriveResources.find((p) => p.inputs.queueUrl === r.outputs.url);
        const redriveJson = parseJsonInput(standalone ?? r, "redrivePolicy", standalone ? standalone.inputs.redrivePolicy : r.inputs.redrivePolicy);
        let redrive: QueueSpec["redrive"];
        if (redriveJson) {
            const dlq = index.require(TYPES.queue, redriveJson.deadLetterTargetArn, r, "redrivePolicy.deadLetterTargetArn");
            const maxReceiveCount = num(redriveJson.maxReceiveCount, NaN);
            if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1) {
                throw new LocalModelError(r, `redrivePolicy.maxReceiveCount must be a whole number >= 1, got ${JSON.stringify(redriveJson.maxReceiveCount)}`);
            }
            redrive = { deadLetterQueue: dlq.outputs.name, maxReceiveCount };
        }
        return {
            urn: r.urn,
            logicalName: r.name,
            name: r.outputs.name,
            arn: r.outputs.arn,
            url: r.outputs.url,
            fifo: Boolean(r.inputs.fifoQueue),
            contentBasedDeduplication: Boolean(r.inputs.contentBasedDeduplication),
            visibilityTimeoutSeconds: num(r.inputs.visibilityTimeoutSeconds, 30),
            messageRetentionSeconds: num(r.inputs.messageRetentionSeconds, 345600),
            delaySeconds: num(r.inputs.delaySeconds, 0),
            redrive,
            policies: [
                ...(r.inputs.policy ? [parseJsonInput(r, "policy", r.inputs.policy)] : []),
                ...policyResources.filter((p) => p.inputs.queueUrl === r.outputs.url).map((p) => parseJsonInput(p, "policy", p.inputs.policy)),
            ],
            kmsMasterKeyId: str(r.inputs.kmsMasterKeyId),
            tags: tagsOf(r),
        };
    });

    const region = arnRegionAccount(functions[0]?.arn ?? queues[0]?.arn).region ?? DEFAULT_MOCK_ACCOUNT.region;
    const accountId = arnRegionAccount(functions[0]?.arn ?? queues[0]?.arn).accountId ?? DEFAULT_MOCK_ACCOUNT.accountId;

    const buses: BusSpec[] = [
        { name: "default", arn: `arn:aws:events:${region}:${accountId}:event-bus/default`, logicalName: "default" },
        ...index.ofType(TYPES.bus).map((r) => ({ name: r.outputs.name as string, arn: r.outputs.arn as string, logicalName: r.name })),
    ];
    const busByRef = (value: unknown): BusSpec | undefined =>
        value === undefined || value === null || value === "" ? buses[0] : buses.find((b) => b.name === value || b.arn === value);

    const targetsOf = (rule: CapturedResource, busName: string): TargetSpec[] =>
        index
            .ofType(TYPES.target)
            .filter((t) => t.inputs.rule === rule.outputs.name && (busByRef(t.inputs.eventBusName)?.name ?? t.inputs.eventBusName) === busName)
            .map((t) => {
                const arn = str(t.inputs.arn);
                if (!arn) throw new LocalModelError(t, "has no arn");
                const queue = index.find(TYPES.queue, arn);
                const fn = index.find(TYPES.fn, arn);
                let deadLetterQueue: string | undefined;
                if (t.inputs.deadLetterConfig?.arn) {
                    deadLetterQueue = index.require(TYPES.queue, t.inputs.deadLetterConfig.arn, t, "deadLetterConfig.arn").outputs.name;
                }
                if (!queue && !fn) warnings.push(`rule ${rule.outputs.name}: target ${arn} is not a queue or function of this stack; events to it fail locally`);
                const denied = (q: CapturedResource | undefined) => {
                    const spec = q && queues.find((x) => x.urn === q.urn);
                    return spec ? eventBridgeDeliveryDenied(spec.policies, spec.kmsMasterKeyId, { queueArn: spec.arn, ruleArn: rule.outputs.arn, accountId }) : undefined;
                };
                const deliveryDenied = denied(queue);
                const deadLetterDenied = t.inputs.deadLetterConfig?.arn ? denied(index.find(TYPES.queue, t.inputs.deadLetterConfig.arn)) : undefined;
                if (deliveryDenied) warnings.push(`rule ${rule.outputs.name}: EventBridge may not send to ${queue!.outputs.name}: ${deliveryDenied}; its events fail (as on AWS)`);
                if (deadLetterDenied) warnings.push(`rule ${rule.outputs.name}: EventBridge may not send to the target DLQ: ${deadLetterDenied}`);
                return {
                    urn: t.urn,
                    logicalName: t.name,
                    targetId: t.outputs.targetId ?? t.name,
                    arn,
                    kind: queue ? "queue" : fn ? "function" : "unsupported",
                    resource: queue?.outputs.name ?? fn?.outputs.name,
                    input: str(t.inputs.input),
                    inputPath: str(t.inputs.inputPath),
                    inputTransformer: t.inputs.inputTransformer
                        ? { inputPaths: t.inputs.inputTransformer.inputPaths, inputTemplate: t.inputs.inputTransformer.inputTemplate }
                        : undefined,
                    messageGroupId: str(t.inputs.sqsTarget?.messageGroupId),
                    deadLetterQueue,
                    deadLetterArn: deadLetterQueue ? str(t.inputs.deadLetterConfig.arn) : undefined,
                    retry: {
                        maximumRetryAttempts: num(t.inputs.retryPolicy?.maximumRetryAttempts, 185),
                        maximumEventAgeSeconds: num(t.inputs.retryPolicy?.maximumEventAgeInSeconds, 86400),
                    },
                    deliveryDenied,
                    deadLetterDenied,
                };
            });

    const rules: RuleSpec[] = index.ofType(TYPES.rule).map((r) => {
        const bus = busByRef(r.inputs.eventBusName);
        if (!bus) throw new LocalModelError(r, `eventBusName ${JSON.stringify(r.inputs.eventBusName)} names no event bus of this stack`);
        const patternText = str(r.inputs.eventPattern);
        let pattern: CompiledEventPattern | undefined;
        if (patternText) {
            try {
                pattern = compileEventPattern(JSON.parse(patternText));
            } catch (error) {
                const reason = error instanceof EventPatternError ? error.message : `invalid JSON: ${(error as Error).message}`;
                throw new LocalModelError(r, `eventPattern: ${reason}`);
            }
        }
        const state = str(r.inputs.state);
        const enabled = state ? state !== "DISABLED" : r.inputs.isEnabled !== false;
        const scheduleExpression = str(r.inputs.scheduleExpression);
        if (scheduleExpression) warnings.push(`rule ${r.outputs.name}: schedule ${scheduleExpression} does not fire locally`);
        return {
            urn: r.urn,
            logicalName: r.name,
            name: r.outputs.name,
            arn: r.outputs.arn,
            busName: bus.name,
            enabled,
            patternText,
            pattern,
            scheduleExpression,
            targets: targetsOf(r, bus.name),
            tags: tagsOf(r),
        };
    });

    const mappings: MappingSpec[] = [];
    for (const r of index.ofType(TYPES.mapping)) {
        const source = index.find(TYPES.queue, r.inputs.eventSourceArn);
        if (!source) {
            warnings.push(`event source mapping ${r.name}: source ${r.inputs.eventSourceArn} is not an SQS queue of this stack; not polled locally`);
            continue;
        }
        const fn = index.require(TYPES.fn, r.inputs.functionName, r, "functionName");
        const types: string[] = r.inputs.functionResponseTypes ?? [];
        const maxConcurrency = r.inputs.scalingConfig?.maximumConcurrency;
        mappings.push({
            urn: r.urn,
            logicalName: r.name,
            queue: source.outputs.name,
            functionName: fn.outputs.name,
            batchSize: num(r.inputs.batchSize, 10),
            batchingWindowSeconds: num(r.inputs.maximumBatchingWindowInSeconds, 0),
            maximumConcurrency: maxConcurrency === undefined ? undefined : num(maxConcurrency, 2),
            reportBatchItemFailures: types.includes("ReportBatchItemFailures"),
            enabled: r.inputs.enabled !== false,
        });
    }

    const apis: ApiSpec[] = index.ofType(TYPES.api).map((api) => {
        if (api.inputs.protocolType && api.inputs.protocolType !== "HTTP") {
            warnings.push(`API ${api.name}: protocol ${api.inputs.protocolType} is not served locally`);
        }
        const routes: RouteSpec[] = index
            .ofType(TYPES.route)
            .filter((route) => route.inputs.apiId === api.outputs.id)
            .map((route) => {
                const routeKey = str(route.inputs.routeKey);
                if (!routeKey) throw new LocalModelError(route, "has no routeKey");
                const target = str(route.inputs.target);
                const integrationId = target?.startsWith("integrations/") ? target.slice("integrations/".length) : undefined;
                if (!integrationId) throw new LocalModelError(route, `target ${JSON.stringify(target)} is not "integrations/<id>"`);
                const integration = index.require(TYPES.integration, integrationId, route, "target");
                if (integration.inputs.integrationType !== "AWS_PROXY") {
                    throw new LocalModelError(integration, `integrationType ${integration.inputs.integrationType} is not served locally (only AWS_PROXY to Lambda)`);
                }
                const fn = index.require(TYPES.fn, integration.inputs.integrationUri, integration, "integrationUri");
                const payloadFormatVersion = str(integration.inputs.payloadFormatVersion) ?? "1.0";
                if (payloadFormatVersion !== "2.0") {
                    warnings.push(`route ${routeKey}: payload format ${payloadFormatVersion} is served with 2.0 events locally`);
                }
                let method: string | undefined;
                let path: string | undefined;
                if (routeKey !== "$default") {
                    const match = /^([A-Z]+) (\/\S*)$/.exec(routeKey);
                    if (!match) throw new LocalModelError(route, `routeKey "${routeKey}" is not "METHOD /path" or "$default"`);
                    [, method, path] = match;
                }
                return {
                    urn: route.urn,
                    logicalName: route.name,
                    routeKey,
                    method,
                    path,
                    functionName: fn.outputs.name,
                    payloadFormatVersion,
                };
            });
        const c = api.inputs.corsConfiguration;
        const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
        return {
            urn: api.urn,
            logicalName: api.name,
            id: api.outputs.id,
            cors: c
                ? {
                      allowOrigins: list(c.allowOrigins),
                      allowMethods: list(c.allowMethods),
                      allowHeaders: list(c.allowHeaders),
                      exposeHeaders: list(c.exposeHeaders),
                      allowCredentials: Boolean(c.allowCredentials),
                      maxAge: c.maxAge === undefined ? undefined : num(c.maxAge, 0),
                  }
                : undefined,
            routes,
        };
    });

    return {
        project: run.project,
        stack: run.stack,
        region,
        accountId,
        tables: byKey(tables, (t) => t.logicalName),
        functions: byKey(functions, (f) => f.logicalName),
        queues: byKey(queues, (q) => q.logicalName),
        buses,
        rules: byKey(rules, (r) => r.logicalName),
        mappings: byKey(mappings, (m) => m.logicalName),
        apis: byKey(apis, (a) => a.logicalName).map((a) => ({ ...a, routes: byKey(a.routes, (r) => `${r.path ?? "~"} ${r.method ?? ""}`) })),
        warnings,
    };
}
