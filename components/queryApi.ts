import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ServerlessFunction, ServerlessFunctionArgs } from "./serverlessFunction";
import { applyTransform, ArgsTransform, ComponentArgumentError } from "./types";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
const METHODS: HttpMethod[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

export interface QueryRoute {
    /** HTTP method of the route. */
    method: HttpMethod;
    /** Path with `{param}` segments, e.g. `/restaurant/{id}`. */
    path: string;
    /** The function serving the route: callback factory, permissions, environment, sizing. */
    handler: Omit<ServerlessFunctionArgs, "logRetentionDays" | "tags">;
}

export interface QueryApiArgs {
    /** Routes by logical name (the name prefixes the route's resources, keep it stable). At least one. */
    routes: Record<string, QueryRoute>;
    /** Stage-wide throttling. Default 100 requests/s steady, burst 200. */
    throttling?: { rateLimit?: pulumi.Input<number>; burstLimit?: pulumi.Input<number> };
    /** Allowed CORS origins. Default `["*"]`. Passed to the functions as CORS_ALLOW_ORIGINS too. */
    corsAllowOrigins?: string[];
    /** Retention of the access log group and of every route function's log group. Default 14. */
    logRetentionDays?: pulumi.Input<number>;
    /** Per-route CloudWatch metrics (extra cost). Default false. */
    detailedMetrics?: boolean;
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
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

/** Validates the routes before any resource exists, naming the offending route. */
function checkRoutes(name: string, routes: Record<string, QueryRoute>): void {
    const entries = Object.entries(routes ?? {});
    if (entries.length === 0) throw new ComponentArgumentError("QueryApi", name, "routes", "must declare at least one route");
    const seen = new Map<string, string>();
    for (const [routeName, route] of entries) {
        const field = `routes.${routeName}`;
        if (!/^[a-z][a-zA-Z0-9-]{0,39}$/.test(routeName)) {
            throw new ComponentArgumentError("QueryApi", name, field, "name must start with a lower-case letter and hold at most 40 letters, digits or dashes");
        }
        if (!METHODS.includes(route.method)) {
            throw new ComponentArgumentError("QueryApi", name, `${field}.method`, `must be one of ${METHODS.join(", ")}, got "${route.method}"`);
        }
        if (!/^(\/([A-Za-z0-9._-]+|\{[A-Za-z][A-Za-z0-9_]*\}))+$/.test(route.path ?? "")) {
            throw new ComponentArgumentError("QueryApi", name, `${field}.path`, `must be /segments with {param} placeholders, got "${route.path}"`);
        }
        const key = `${route.method} ${route.path}`;
        if (seen.has(key)) throw new ComponentArgumentError("QueryApi", name, `${field}`, `repeats route key "${key}" of routes.${seen.get(key)}`);
        seen.set(key, routeName);
    }
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

    constructor(name: string, args: QueryApiArgs, opts?: pulumi.ComponentResourceOptions) {
        checkRoutes(name, args.routes);
        const origins = args.corsAllowOrigins ?? ["*"];
        super("bellyfed:api:QueryApi", name, {}, opts);

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
        this.registerOutputs({ url: this.url, apiId: this.apiId, executionArn: this.executionArn });
    }
}
