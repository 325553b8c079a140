import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AlarmDestination, AlarmSettings, checkAlarmSettings, createAlarm } from "./alarms";
import { CORS_ORIGIN_RULE, isCorsOrigin } from "./awsLimits";
import { DashboardWidget, metricWidget } from "./dashboard";
import { checkFunctionArgs, ComponentOwnedFields, FUNCTION_ALARMS, FunctionAlarmArgs, ServerlessFunction, ServerlessFunctionArgs } from "./serverlessFunction";
import { applyTransform, ArgsTransform, ComponentArgumentError } from "./types";
import { checkKind, checkLogRetention, checkStringMap, checkTransforms, Fail, shown } from "./valueChecks";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
const METHODS: HttpMethod[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/** One route of a QueryApi: `method path` served by its own Lambda function. */
export interface QueryRoute {
    /** HTTP method of the route. */
    method: HttpMethod;
    /**
     * Path with `{param}` segments, e.g. `/restaurant/{id}`; the last segment may be a greedy
     * `{name+}` (e.g. `/files/{proxy+}`), which matches the rest of the path, as HTTP APIs allow.
     */
    path: string;
    /**
     * The function serving the route: callback factory, permissions, environment, sizing. Log
     * retention, tags and alarms are the API's (`logRetentionDays`, `tags`, `alarms.functions`) and
     * apply to every route's function: setting them here is an error, never silently overwritten.
     */
    handler: Omit<ServerlessFunctionArgs, "logRetentionDays" | "tags" | "alarms">;
}

/** What a route's handler may not set itself, and where the caller sets it instead. */
const ROUTE_OWNED_FIELDS: ComponentOwnedFields = {
    alarms: "is not taken per route: the API's alarms.functions (with alarms.topicArn) set the alarms of every route's function",
    logRetentionDays: "is not taken per route: the API's logRetentionDays sets the retention of every route's log group",
    tags: "is not taken per route: the API's tags are put on every route's function, role and log group",
};

/**
 * A route path as HTTP APIs take it: `/`-separated segments, each literal or a `{param}`, and the
 * last one may be a greedy `{param+}` (API Gateway: "The greedy path variable must be at the end of
 * the resource path").
 */
export const ROUTE_PATH = /^(\/([A-Za-z0-9._-]+|\{[A-Za-z][A-Za-z0-9_]*\}))*(\/\{[A-Za-z][A-Za-z0-9_]*\+\})?$/;

/** Whether a route path is one HTTP APIs accept (see ROUTE_PATH), with at least one segment. */
export function isRoutePath(path: unknown): boolean {
    return typeof path === "string" && path.length > 1 && ROUTE_PATH.test(path);
}

/** The API's own alarms by settings key, with the evaluation periods their specs default to. */
export const QUERY_API_ALARMS = {
    serverErrors: { evaluationPeriods: 5 },
    clientErrorRatePercent: { evaluationPeriods: 5 },
    latencyP99Ms: { evaluationPeriods: 5 },
};

/** The API's alarms (HTTP API metrics, dimension ApiId); created only when `topicArn` is given. */
export interface QueryApiAlarmArgs extends AlarmDestination {
    /** 5xx responses (Sum per minute) >= threshold. Default 5, 3 of 5 periods. */
    serverErrors?: AlarmSettings;
    /** 4xx responses as a percentage of requests >= threshold. Default 20 (%), 5 of 5 periods. */
    clientErrorRatePercent?: AlarmSettings;
    /** Latency p99 in milliseconds >= threshold. Default 2000 ms, 5 of 5 periods. */
    latencyP99Ms?: AlarmSettings;
    /** Alarms of every route's function (errors, throttles, duration). */
    functions?: Omit<FunctionAlarmArgs, "topicArn">;
}

/**
 * Arguments of {@link QueryApi}.
 *
 * Creates: an HTTP API (API Gateway v2) with CORS, a `$default` stage (auto-deploy, throttling,
 * JSON access logs to its own log group), and per route a {@link ServerlessFunction}, a Lambda
 * proxy integration (payload 2.0), the route and an invoke permission scoped to that route.
 * Outputs: `url` (stage URL ending in `/`), `apiId`, `executionArn`, `functions` by route name.
 */
export interface QueryApiArgs {
    /** Routes by logical name (the name prefixes the route's resources, keep it stable). At least one. */
    routes: Record<string, QueryRoute>;
    /**
     * Stage-wide throttling: `rateLimit` requests per second (a number >= 0) and `burstLimit` (a whole
     * number >= 0). Default 100 requests/s steady, burst 200. API Gateway caps both at the account's
     * per-Region quota (10,000 / 5,000 by default, adjustable), so no fixed maximum is checked here.
     */
    throttling?: { rateLimit?: pulumi.Input<number>; burstLimit?: pulumi.Input<number> };
    /**
     * Allowed CORS origins: `"*"` or `scheme://host[:port]` (no path, no trailing `/`). Default
     * `["*"]`. Passed to the functions as CORS_ALLOW_ORIGINS too.
     */
    corsAllowOrigins?: string[];
    /** Retention of the access log group and of every route function's log group: a CloudWatch Logs value. Default 14. */
    logRetentionDays?: pulumi.Input<number>;
    /** Per-route CloudWatch metrics (extra cost). Default false. */
    detailedMetrics?: boolean;
    /** API and function alarms to an SNS topic. Default: no alarms. */
    alarms?: QueryApiAlarmArgs;
    /** Tags on every taggable child: API, stage, log groups, functions and roles. Default none. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * Escape hatches: each receives the args the component computed for one child (per route for
     * integration, route and permission) and returns the args to use. Runs before registration.
     */
    transforms?: {
        api?: ArgsTransform<aws.apigatewayv2.ApiArgs>;
        stage?: ArgsTransform<aws.apigatewayv2.StageArgs>;
        accessLogGroup?: ArgsTransform<aws.cloudwatch.LogGroupArgs>;
        integration?: (routeName: string, args: aws.apigatewayv2.IntegrationArgs) => aws.apigatewayv2.IntegrationArgs;
        route?: (routeName: string, args: aws.apigatewayv2.RouteArgs) => aws.apigatewayv2.RouteArgs;
        permission?: (routeName: string, args: aws.lambda.PermissionArgs) => aws.lambda.PermissionArgs;
    };
}

/** The JSON access-log line of the stage: one object per request. */
export const ACCESS_LOG_FORMAT = JSON.stringify({
    requestId: "$context.requestId",
    ip: "$context.identity.sourceIp",
    requestTime: "$context.requestTime",
    method: "$context.httpMethod",
    routeKey: "$context.routeKey",
    path: "$context.path",
    status: "$context.status",
    protocol: "$context.protocol",
    responseLength: "$context.responseLength",
    latencyMs: "$context.responseLatency",
    integrationLatencyMs: "$context.integrationLatency",
    integrationError: "$context.integrationErrorMessage",
});

/** Validates the routes, their handlers included, before any resource exists, naming the offending route. */
function checkRoutes(name: string, routes: Record<string, QueryRoute>): void {
    if (routes !== undefined && (routes === null || typeof routes !== "object" || Array.isArray(routes))) {
        throw new ComponentArgumentError("QueryApi", name, "routes", `must be an object of routes by name ({ <name>: { method, path, handler } }), got ${shown(routes)}`);
    }
    const entries = Object.entries(routes ?? {});
    if (entries.length === 0) throw new ComponentArgumentError("QueryApi", name, "routes", "must declare at least one route");
    const seen = new Map<string, string>();
    for (const [routeName, route] of entries) {
        const field = `routes.${routeName}`;
        if (!/^[a-z][a-zA-Z0-9-]{0,39}$/.test(routeName)) {
            throw new ComponentArgumentError("QueryApi", name, field, "name must start with a lower-case letter and hold at most 40 letters, digits or dashes");
        }
        if (!route || typeof route !== "object" || Array.isArray(route)) throw new ComponentArgumentError("QueryApi", name, field, `must be a route ({ method, path, handler }), got ${shown(route)}`);
        if (!METHODS.includes(route.method)) {
            throw new ComponentArgumentError("QueryApi", name, `${field}.method`, `must be one of ${METHODS.join(", ")}, got ${shown(route.method)}`);
        }
        if (!isRoutePath(route.path)) {
            throw new ComponentArgumentError(
                "QueryApi",
                name,
                `${field}.path`,
                `must be /segments, each literal or a {param} placeholder, with an optional greedy {param+} as the last one, got ${shown(route.path)}`,
            );
        }
        const key = `${route.method} ${route.path}`;
        if (seen.has(key)) throw new ComponentArgumentError("QueryApi", name, `${field}`, `repeats route key "${key}" of routes.${seen.get(key)}`);
        seen.set(key, routeName);
        checkFunctionArgs("QueryApi", name, route.handler, `${field}.handler`, ROUTE_OWNED_FIELDS);
    }
}

/** Validates the stage and API settings (throttling, CORS, log retention) before any resource exists. */
function checkApiSettings(name: string, args: QueryApiArgs): void {
    const fail: Fail = (field, message) => {
        throw new ComponentArgumentError("QueryApi", name, field, message);
    };
    checkKind(fail, "throttling", args.throttling, "object", false);
    const rate = args.throttling?.rateLimit as number;
    if (checkKind(fail, "throttling.rateLimit", rate, "number") && !(Number.isFinite(rate) && rate >= 0)) fail("throttling.rateLimit", `must be a number of requests per second >= 0, got ${shown(rate)}`);
    const burst = args.throttling?.burstLimit as number;
    if (checkKind(fail, "throttling.burstLimit", burst, "number") && !(Number.isInteger(burst) && burst >= 0)) fail("throttling.burstLimit", `must be a whole number of requests >= 0, got ${shown(burst)}`);
    checkLogRetention(fail, "logRetentionDays", args.logRetentionDays);
    checkKind(fail, "detailedMetrics", args.detailedMetrics, "boolean", false);
    checkStringMap(fail, "tags", args.tags);
    checkTransforms(fail, "transforms", args.transforms, ["api", "stage", "accessLogGroup", "integration", "route", "permission"]);
    if (args.corsAllowOrigins !== undefined && !Array.isArray(args.corsAllowOrigins)) fail("corsAllowOrigins", `must be a list of origins, got ${JSON.stringify(args.corsAllowOrigins)}`);
    (args.corsAllowOrigins ?? []).forEach((origin, i) => {
        if (!isCorsOrigin(origin)) fail(`corsAllowOrigins[${i}]`, `${CORS_ORIGIN_RULE}, got ${JSON.stringify(origin)}`);
    });
}

/** The execute-api source ARN suffix of a route: path parameters become wildcards. */
export function routeSourceArnSuffix(route: Pick<QueryRoute, "method" | "path">): string {
    return `/*/${route.method}${route.path.replace(/\{[^}]+\}/g, "*")}`;
}

/**
 * An HTTP API (API Gateway v2) whose routes are Lambda proxy integrations (payload format 2.0), on a
 * `$default` stage with throttling, JSON access logs and CORS. Each route's function may be invoked
 * by this API's route only (permission scoped to the execute-api ARN of the method and path).
 */
export class QueryApi extends pulumi.ComponentResource {
    readonly api: aws.apigatewayv2.Api;
    readonly stage: aws.apigatewayv2.Stage;
    readonly accessLogGroup: aws.cloudwatch.LogGroup;
    /** The functions by route name. */
    readonly functions: Record<string, ServerlessFunction> = {};
    /** Base URL of the stage, ending in `/`. */
    readonly url: pulumi.Output<string>;
    readonly apiId: pulumi.Output<string>;
    readonly executionArn: pulumi.Output<string>;
    /** The API-level alarms (function alarms live on each function). */
    readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
    private readonly logicalName: string;

    constructor(name: string, args: QueryApiArgs, opts?: pulumi.ComponentResourceOptions) {
        if (!args || typeof args !== "object") throw new ComponentArgumentError("QueryApi", name, "args", `must be the API's arguments (an object with routes), got ${shown(args)}`);
        checkRoutes(name, args.routes);
        checkApiSettings(name, args);
        checkAlarmSettings("QueryApi", name, args.alarms, { alarms: QUERY_API_ALARMS, topicArn: true, nested: { functions: FUNCTION_ALARMS } });
        const origins = args.corsAllowOrigins ?? ["*"];
        super("bellyfed:api:QueryApi", name, {}, opts);
        this.logicalName = name;

        const methods = [...new Set(Object.values(args.routes).map((r) => r.method)), "OPTIONS"];
        this.api = new aws.apigatewayv2.Api(
            name,
            applyTransform<aws.apigatewayv2.ApiArgs>(
                {
                    protocolType: "HTTP",
                    description: `Bellyfed query API (${name})`,
                    corsConfiguration: {
                        allowOrigins: origins,
                        allowMethods: methods,
                        allowHeaders: ["content-type", "authorization"],
                        maxAge: 3600,
                    },
                    tags: args.tags,
                },
                args.transforms?.api,
            ),
            { parent: this },
        );
        this.apiId = this.api.id;
        this.executionArn = this.api.executionArn;

        this.accessLogGroup = new aws.cloudwatch.LogGroup(
            `${name}-access-logs`,
            applyTransform<aws.cloudwatch.LogGroupArgs>({ retentionInDays: args.logRetentionDays ?? 14, tags: args.tags }, args.transforms?.accessLogGroup),
            { parent: this },
        );

        const routes: aws.apigatewayv2.Route[] = [];
        for (const [routeName, route] of Object.entries(args.routes)) {
            const fn = new ServerlessFunction(
                `${name}-${routeName}`,
                {
                    ...route.handler,
                    environment: pulumi.output(route.handler.environment ?? {}).apply((env) => ({ CORS_ALLOW_ORIGINS: origins.join(","), ...env })),
                    logRetentionDays: args.logRetentionDays,
                    alarms: args.alarms ? { topicArn: args.alarms.topicArn, ...args.alarms.functions } : undefined,
                    tags: args.tags,
                },
                { parent: this },
            );
            this.functions[routeName] = fn;
            const integration = new aws.apigatewayv2.Integration(
                `${name}-${routeName}`,
                (args.transforms?.integration ?? ((_, a) => a))(routeName, {
                    apiId: this.api.id,
                    integrationType: "AWS_PROXY",
                    integrationUri: fn.function.invokeArn,
                    integrationMethod: "POST",
                    payloadFormatVersion: "2.0",
                    timeoutMilliseconds: Math.min(30000, fn.timeoutSeconds * 1000 + 1000),
                }),
                { parent: this },
            );
            routes.push(
                new aws.apigatewayv2.Route(
                    `${name}-${routeName}`,
                    (args.transforms?.route ?? ((_, a) => a))(routeName, {
                        apiId: this.api.id,
                        routeKey: `${route.method} ${route.path}`,
                        target: pulumi.interpolate`integrations/${integration.id}`,
                    }),
                    { parent: this },
                ),
            );
            new aws.lambda.Permission(
                `${name}-${routeName}`,
                (args.transforms?.permission ?? ((_, a) => a))(routeName, {
                    action: "lambda:InvokeFunction",
                    function: fn.function.name,
                    principal: "apigateway.amazonaws.com",
                    sourceArn: pulumi.interpolate`${this.api.executionArn}${routeSourceArnSuffix(route)}`,
                }),
                { parent: this },
            );
        }

        this.stage = new aws.apigatewayv2.Stage(
            `${name}-default`,
            applyTransform<aws.apigatewayv2.StageArgs>(
                {
                    apiId: this.api.id,
                    name: "$default",
                    autoDeploy: true,
                    defaultRouteSettings: {
                        throttlingRateLimit: args.throttling?.rateLimit ?? 100,
                        throttlingBurstLimit: args.throttling?.burstLimit ?? 200,
                        detailedMetricsEnabled: args.detailedMetrics ?? false,
                    },
                    accessLogSettings: { destinationArn: this.accessLogGroup.arn, format: ACCESS_LOG_FORMAT },
                    tags: args.tags,
                },
                args.transforms?.stage,
            ),
            { parent: this, dependsOn: routes },
        );
        this.url = this.stage.invokeUrl;
        if (args.alarms) this.alarms = this.createAlarms(name, args.alarms, args.tags);
        this.registerOutputs({ url: this.url, apiId: this.apiId, executionArn: this.executionArn });
    }

    private createAlarms(name: string, alarms: QueryApiAlarmArgs, tags: QueryApiArgs["tags"]): aws.cloudwatch.MetricAlarm[] {
        const dimensions = { ApiId: this.api.id };
        const apiMetric = (metricName: string) => ({ namespace: "AWS/ApiGateway", metricName, dimensions, periodSeconds: 60 });
        const clientPercent = alarms.clientErrorRatePercent?.threshold ?? 20;
        const created = [
            createAlarm(this, `${name}-5xx`, alarms, {
                ...apiMetric("5xx"),
                description: `${name}: the API answers 5xx (function errors, timeouts or integration failures). Check the access log's integrationError and the functions' logs.`,
                threshold: 5,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                evaluationPeriods: QUERY_API_ALARMS.serverErrors.evaluationPeriods,
                datapointsToAlarm: 3,
                // No traffic means no server errors.
                treatMissingData: "notBreaching",
            }, alarms.serverErrors, tags),
            createAlarm(this, `${name}-4xx-rate`, alarms, {
                metricQueries: [
                    { id: "errors", metric: { namespace: "AWS/ApiGateway", metricName: "4xx", dimensions, period: 60, stat: "Sum" }, returnData: false },
                    { id: "requests", metric: { namespace: "AWS/ApiGateway", metricName: "Count", dimensions, period: 60, stat: "Sum" }, returnData: false },
                    { id: "rate", expression: "IF(requests > 0, 100 * errors / requests, 0)", label: "4xx rate (%)", returnData: true },
                ],
                description: `${name}: ${clientPercent}% or more of requests get 4xx (bad ids, unknown routes, throttling 429s). A client release or a scraper is the usual cause.`,
                threshold: clientPercent,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                evaluationPeriods: QUERY_API_ALARMS.clientErrorRatePercent.evaluationPeriods,
                treatMissingData: "notBreaching",
            }, alarms.clientErrorRatePercent, tags),
            createAlarm(this, `${name}-latency-p99`, alarms, {
                ...apiMetric("Latency"),
                extendedStatistic: "p99",
                description: `${name}: p99 latency is high; check the functions' duration and DynamoDB latency.`,
                threshold: 2000,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                evaluationPeriods: QUERY_API_ALARMS.latencyP99Ms.evaluationPeriods,
                // A latency percentile: minutes without requests are left out of the evaluation rather than
                // counted as fast, so slow responses alarm under sparse traffic too. A range with no request
                // at all moves it to INSUFFICIENT_DATA, which notifies nobody (actions are on ALARM and OK).
                treatMissingData: "missing",
            }, alarms.latencyP99Ms, tags),
        ];
        return created.filter((a): a is aws.cloudwatch.MetricAlarm => a !== undefined);
    }

    /** Requests and errors, latency; then every route function's widgets. */
    dashboardWidgets(region: string): pulumi.Output<DashboardWidget>[] {
        const dimensions = { ApiId: this.api.id };
        const line = (metricName: string, stat: string, label?: string) => ({ namespace: "AWS/ApiGateway", metricName, dimensions, stat, label });
        return [
            metricWidget(`${this.logicalName}: requests and errors`, [line("Count", "Sum", "requests"), line("4xx", "Sum", "4xx"), line("5xx", "Sum", "5xx")], region),
            metricWidget(`${this.logicalName}: latency`, [line("Latency", "p50", "p50"), line("Latency", "p99", "p99"), line("IntegrationLatency", "p99", "integration p99")], region),
            ...Object.values(this.functions).flatMap((fn) => fn.dashboardWidgets(region)),
        ];
    }
}
