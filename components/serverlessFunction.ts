import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { AlarmCatalog, AlarmDestination, AlarmSettings, checkAlarmSettings, createAlarm } from "./alarms";
import { LAMBDA_MEMORY_MB } from "./awsLimits";
import { DashboardWidget, metricWidget } from "./dashboard";
import { applyTransform, ArgsTransform, ComponentArgumentError, PolicyStatement, policyDocument } from "./types";
import { checkKind, checkLogRetention, checkStringMap, checkTransforms, Fail, isDeferred, shown } from "./valueChecks";

/** The alarms of one function; created only when `topicArn` is given. */
export interface FunctionAlarmArgs extends AlarmDestination {
    /** Errors (Sum per minute) >= threshold. Default threshold 1, 1 of 1 period. */
    errors?: AlarmSettings;
    /** Throttles (Sum per minute) >= threshold. Default threshold 1, 1 of 1 period. */
    throttles?: AlarmSettings;
    /** Duration p99 >= threshold percent of the timeout. Default 80 (%), 3 of 3 one-minute periods. */
    durationP99PercentOfTimeout?: AlarmSettings;
}

/** The function's alarms by settings key, with the evaluation periods their specs default to. */
export const FUNCTION_ALARMS = {
    errors: { evaluationPeriods: 1 },
    throttles: { evaluationPeriods: 1 },
    durationP99PercentOfTimeout: { evaluationPeriods: 3 },
} satisfies AlarmCatalog;

/** A function returning the Lambda handler; Pulumi serializes it (and what it captures) into the code archive. */
export type CallbackFactory = aws.lambda.CallbackFactory<any, any>;

/**
 * Arguments of {@link ServerlessFunction}.
 *
 * Creates: a log group with retention, an IAM role with one inline least-privilege policy (log
 * delivery to that group plus `policyStatements`; never CallbackFunction's FullAccess defaults),
 * and an `aws.lambda.CallbackFunction` with JSON logs. Outputs: `arn`, `name`, `timeoutSeconds`,
 * and the `function`, `role` and `logGroup` children.
 */
export interface ServerlessFunctionArgs {
    /** Builds the handler once per cold start; SDK clients and schemas are created inside it. */
    callbackFactory: CallbackFactory;
    /** Least-privilege statements for the function's role (log delivery is added automatically). */
    policyStatements?: pulumi.Input<PolicyStatement>[];
    /** Environment variables; resource names reach the code this way. */
    environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Memory in MB (128..10240). Default 256. */
    memorySize?: pulumi.Input<number>;
    /** Timeout in seconds (1..900). Default 10. A number (not an Input): queues derive their visibility timeout from it. */
    timeoutSeconds?: number;
    /** Retention of the function's log group, in days: one of CloudWatch Logs' values (1, 3, 5, 7, 14, 30, ...). Default 14. */
    logRetentionDays?: pulumi.Input<number>;
    /** Lambda runtime. Default `nodejs22.x`. */
    runtime?: string;
    /** CPU architecture. Default `arm64`. */
    architecture?: "arm64" | "x86_64";
    /** Reserved concurrency; unset means the account's unreserved pool. */
    reservedConcurrentExecutions?: pulumi.Input<number>;
    /**
     * More packages to leave out of the uploaded archive, added to the ones always left out: the
     * `@aws-sdk/*` packages of the program's package.json, which the Lambda Node.js runtime already
     * provides, and this library ({@link LIBRARY_PACKAGE_NAME}, deployment-time only). Default none.
     */
    excludePackages?: string[];
    /** Tags on the function, its role and its log group. Default none. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Errors, throttles and duration alarms to an SNS topic. Default: no alarms (no topic). */
    alarms?: FunctionAlarmArgs;
    /** Escape hatches: each receives the args computed for one child and returns the args to use. */
    transforms?: {
        role?: ArgsTransform<aws.iam.RoleArgs>;
        policy?: ArgsTransform<aws.iam.RolePolicyArgs>;
        logGroup?: ArgsTransform<aws.cloudwatch.LogGroupArgs>;
        function?: ArgsTransform<aws.lambda.CallbackFunctionArgs<any, any>>;
    };
}

/**
 * The `@aws-sdk/*` dependencies of the program's package.json (the file Pulumi's code-path
 * computation reads too): the nodejs18.x+ runtimes ship SDK v3, so uploading it only bloats every
 * archive and slows cold starts.
 */
export function runtimeProvidedPackages(packageJsonPath = path.resolve("package.json")): string[] {
    try {
        const pkg = JSON.parse(fs.readFileSync(packageJsonPath, "utf8"));
        return Object.keys(pkg.dependencies ?? {}).filter((name) => name.startsWith("@aws-sdk/"));
    } catch {
        return [];
    }
}

/**
 * The npm name of this library (test/reuse/pack.test.ts checks it against package.json). The library
 * is needed at deployment time only, so no function of a consumer's program uploads it. Its
 * package.json says so (`"pulumi": { "runtimeDependencies": {} }`), but Pulumi reads the installed
 * tree through npm's hidden lockfile (`node_modules/.package-lock.json`), which drops that field: the
 * package would then be uploaded with every dependency it has (~35 MB per function). Naming it in
 * `codePathOptions.extraExcludePackages` is what Pulumi always honours: its walk
 * (@pulumi/pulumi runtime/closure/codePaths.js, addPackageAndDependenciesToSet) stops at an excluded
 * package before recursing, so the library's own dependencies are uploaded only when the program's
 * package.json lists them itself (or another uploaded package needs them). In this repository the
 * program is the library (the root package, which Pulumi reads directly, never excludes), so its own
 * handlers' dependencies are still uploaded.
 */
export const LIBRARY_PACKAGE_NAME = "@bellyfed/platform";

/**
 * What a function's archive leaves out: the runtime-provided `@aws-sdk/*` packages of the program's
 * package.json, this library, and the caller's `excludePackages`.
 */
export function excludedPackages(extra: string[] = [], packageJsonPath?: string): string[] {
    return [...new Set([...runtimeProvidedPackages(packageJsonPath), LIBRARY_PACKAGE_NAME, ...extra])];
}

/** The settings of a function that other components derive values from, after defaults. */
export interface CheckedFunctionArgs {
    timeoutSeconds: number;
}

/** The children of a ServerlessFunction that `transforms` can change. */
export const FUNCTION_TRANSFORMS = ["role", "policy", "logGroup", "function"] as const;

/**
 * Fields of a function's arguments that a component building the function sets itself (QueryApi per
 * route, ProcessedQueue's consumer), each with where the caller sets it instead. Given anyway (plain
 * JavaScript has no type to omit them), they would be overwritten without a word: they are rejected.
 */
export type ComponentOwnedFields = Partial<Record<keyof ServerlessFunctionArgs, string>>;

/**
 * Checks a function's arguments before anything is registered, for ServerlessFunction and for the
 * components that build one (QueryApi per route, ProcessedQueue's consumer), which pass their own
 * component name and the field prefix (`routes.<route>.handler`, `consumer`) so the error names the
 * argument the caller wrote, and the fields they set themselves (`owned`). Plain values are checked
 * for their type too (a `"512"` where a number belongs fails, naming the field); values that are
 * Outputs are checked by AWS at deploy time instead.
 */
export function checkFunctionArgs(
    component: string,
    name: string,
    args: Partial<ServerlessFunctionArgs> | undefined,
    prefix = "",
    owned: ComponentOwnedFields = {},
): CheckedFunctionArgs {
    const fail: Fail = (field, message) => {
        throw new ComponentArgumentError(component, name, prefix ? `${prefix}.${field}` : field, message);
    };
    if (!args || typeof args !== "object" || Array.isArray(args)) {
        throw new ComponentArgumentError(component, name, prefix || "args", `must be the function's arguments (an object with a callbackFactory), got ${shown(args)}`);
    }
    for (const [field, instead] of Object.entries(owned) as [keyof ServerlessFunctionArgs, string][]) {
        if (args[field] !== undefined) fail(field, instead);
    }
    if (typeof args.callbackFactory !== "function") {
        fail("callbackFactory", `must be a callback factory function${args.callbackFactory === undefined ? "" : `, got ${shown(args.callbackFactory)}`}`);
    }
    const timeoutSeconds = args.timeoutSeconds ?? 10;
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 900) fail("timeoutSeconds", `must be an integer from 1 to 900, got ${shown(timeoutSeconds)}`);
    const memory = args.memorySize as number;
    if (checkKind(fail, "memorySize", memory, "number") && !(Number.isInteger(memory) && memory >= LAMBDA_MEMORY_MB.min && memory <= LAMBDA_MEMORY_MB.max)) {
        fail("memorySize", `must be an integer from ${LAMBDA_MEMORY_MB.min} to ${LAMBDA_MEMORY_MB.max} (MB), got ${shown(memory)}`);
    }
    checkLogRetention(fail, "logRetentionDays", args.logRetentionDays);
    // A CallbackFunction is serialized JavaScript: only a Node.js runtime can run it.
    if (checkKind(fail, "runtime", args.runtime, "string", false) && !/^nodejs\d+\.x$/.test(args.runtime!)) {
        fail("runtime", `must be a Lambda Node.js runtime (nodejs<version>.x, e.g. "nodejs22.x"), got ${shown(args.runtime)}`);
    }
    if (args.architecture !== undefined && args.architecture !== "arm64" && args.architecture !== "x86_64") {
        fail("architecture", `must be "arm64" or "x86_64", got ${shown(args.architecture)}`);
    }
    const reserved = args.reservedConcurrentExecutions;
    if (checkKind(fail, "reservedConcurrentExecutions", reserved, "number") && !(Number.isInteger(reserved) && (reserved as number) >= -1)) {
        fail("reservedConcurrentExecutions", `must be a whole number of executions >= 0 (or -1: no reservation), got ${shown(reserved)}`);
    }
    checkStringMap(fail, "environment", args.environment);
    checkStringMap(fail, "tags", args.tags);
    if (checkKind(fail, "policyStatements", args.policyStatements, "array", false)) {
        args.policyStatements!.forEach((statement, i) => {
            if (!isDeferred(statement) && (typeof statement !== "object" || statement === null || Array.isArray(statement))) {
                fail(`policyStatements[${i}]`, `must be an IAM statement ({ Effect, Action, Resource }), got ${shown(statement)}`);
            }
        });
    }
    if (checkKind(fail, "excludePackages", args.excludePackages, "array", false)) {
        args.excludePackages!.forEach((pkg, i) => {
            if (typeof pkg !== "string" || pkg === "") fail(`excludePackages[${i}]`, `must be a package name, got ${shown(pkg)}`);
        });
    }
    checkTransforms(fail, "transforms", args.transforms, FUNCTION_TRANSFORMS);
    checkAlarmSettings(component, name, args.alarms, { alarms: FUNCTION_ALARMS, topicArn: true }, prefix ? `${prefix}.alarms` : "alarms");
    return { timeoutSeconds };
}

/**
 * Both transforms of each child, `first` then `second`: a component passes its caller's transforms of
 * the function it builds this way when they come from two places (ProcessedQueue: `consumer.transforms`
 * and `transforms.consumer`), so neither is lost.
 */
export function chainFunctionTransforms(
    first: ServerlessFunctionArgs["transforms"],
    second: ServerlessFunctionArgs["transforms"],
): ServerlessFunctionArgs["transforms"] {
    if (!first) return second;
    if (!second) return first;
    const chained: Record<string, (args: any) => any> = {};
    for (const key of FUNCTION_TRANSFORMS) {
        const a = first[key] as ((args: any) => any) | undefined;
        const b = second[key] as ((args: any) => any) | undefined;
        if (a && b) chained[key] = (args) => b(a(args));
        else if (a || b) chained[key] = (a ?? b)!;
    }
    return chained as ServerlessFunctionArgs["transforms"];
}

/**
 * A Lambda function built from a callback factory, with its own role (inline least-privilege policy,
 * never the FullAccess defaults of CallbackFunction), its own log group with retention, and JSON
 * log format.
 */
export class ServerlessFunction extends pulumi.ComponentResource {
    readonly function: aws.lambda.CallbackFunction<any, any>;
    readonly role: aws.iam.Role;
    readonly logGroup: aws.cloudwatch.LogGroup;
    readonly arn: pulumi.Output<string>;
    readonly name: pulumi.Output<string>;
    /** The timeout the function was given, in seconds. */
    readonly timeoutSeconds: number;
    /** The component's logical name, used in alarm descriptions and dashboard titles. */
    readonly logicalName: string;
    /** The alarms created for the function (empty without `alarms`). */
    readonly alarms: aws.cloudwatch.MetricAlarm[] = [];

    constructor(name: string, args: ServerlessFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
        const { timeoutSeconds } = checkFunctionArgs("ServerlessFunction", name, args);
        super("bellyfed:compute:ServerlessFunction", name, {}, opts);
        this.timeoutSeconds = timeoutSeconds;
        this.logicalName = name;

        this.logGroup = new aws.cloudwatch.LogGroup(
            `${name}-logs`,
            applyTransform<aws.cloudwatch.LogGroupArgs>(
                { retentionInDays: args.logRetentionDays ?? 14, tags: args.tags },
                args.transforms?.logGroup,
            ),
            { parent: this },
        );

        this.role = new aws.iam.Role(
            `${name}-role`,
            applyTransform<aws.iam.RoleArgs>(
                {
                    assumeRolePolicy: JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
                    }),
                    tags: args.tags,
                },
                args.transforms?.role,
            ),
            { parent: this },
        );

        const logDelivery: PolicyStatement = {
            Sid: "WriteOwnLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: pulumi.interpolate`${this.logGroup.arn}:*`,
        };
        const policy = new aws.iam.RolePolicy(
            `${name}-policy`,
            applyTransform<aws.iam.RolePolicyArgs>(
                { role: this.role.name, policy: policyDocument([logDelivery, ...(args.policyStatements ?? [])]) },
                args.transforms?.policy,
            ),
            { parent: this },
        );

        this.function = new aws.lambda.CallbackFunction(
            `${name}-fn`,
            applyTransform<aws.lambda.CallbackFunctionArgs<any, any>>(
                {
                    callbackFactory: args.callbackFactory,
                    role: this.role.arn,
                    runtime: args.runtime ?? "nodejs22.x",
                    architectures: [args.architecture ?? "arm64"],
                    memorySize: args.memorySize ?? 256,
                    timeout: timeoutSeconds,
                    reservedConcurrentExecutions: args.reservedConcurrentExecutions,
                    environment: { variables: args.environment ?? {} },
                    // System logs at INFO: Lambda's START/REPORT platform lines (duration, billed duration, max
                    // memory, init duration) are INFO; WARN would drop them.
                    loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name, applicationLogLevel: "INFO", systemLogLevel: "INFO" },
                    codePathOptions: { extraExcludePackages: excludedPackages(args.excludePackages) },
                    tags: args.tags,
                },
                args.transforms?.function,
            ),
            // The policy must exist before the first invocation can write logs or call AWS.
            { parent: this, dependsOn: [policy] },
        );

        this.arn = this.function.arn;
        this.name = this.function.name;
        if (args.alarms) this.alarms = this.createAlarms(name, args.alarms, args.tags);
        this.registerOutputs({ arn: this.arn, name: this.name, roleArn: this.role.arn, logGroupName: this.logGroup.name });
    }

    private createAlarms(name: string, alarms: FunctionAlarmArgs, tags: ServerlessFunctionArgs["tags"]): aws.cloudwatch.MetricAlarm[] {
        const dimensions = { FunctionName: this.function.name };
        const lambdaMetric = (metricName: string) => ({ namespace: "AWS/Lambda", metricName, dimensions, periodSeconds: 60 });
        const durationPercent = alarms.durationP99PercentOfTimeout?.threshold ?? 80;
        const created = [
            createAlarm(this, `${name}-errors`, alarms, {
                ...lambdaMetric("Errors"),
                description: `${name}: the function threw or timed out. Check its log group for the request ids.`,
                threshold: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                evaluationPeriods: FUNCTION_ALARMS.errors.evaluationPeriods,
                // No invocations means no errors.
                treatMissingData: "notBreaching",
            }, alarms.errors, tags),
            createAlarm(this, `${name}-throttles`, alarms, {
                ...lambdaMetric("Throttles"),
                description: `${name}: invocations were throttled (concurrency limit reached); events wait or are retried.`,
                threshold: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                evaluationPeriods: FUNCTION_ALARMS.throttles.evaluationPeriods,
                treatMissingData: "notBreaching",
            }, alarms.throttles, tags),
            createAlarm(this, `${name}-duration-p99`, alarms, {
                ...lambdaMetric("Duration"),
                extendedStatistic: "p99",
                description: `${name}: p99 duration is at ${durationPercent}% of the ${this.timeoutSeconds}s timeout; timeouts are next.`,
                threshold: Math.round(this.timeoutSeconds * 1000 * (durationPercent / 100)),
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                evaluationPeriods: FUNCTION_ALARMS.durationP99PercentOfTimeout.evaluationPeriods,
                // A latency percentile: minutes without invocations are left out of the evaluation rather
                // than counted as fast, so slow invocations alarm under sparse traffic too (as notBreaching,
                // any quiet minute among the 3 would keep it OK). A range with no invocation at all moves it
                // to INSUFFICIENT_DATA, which notifies nobody (actions are on ALARM and OK).
                treatMissingData: "missing",
            }, { ...alarms.durationP99PercentOfTimeout, threshold: undefined }, tags),
        ];
        return created.filter((a): a is aws.cloudwatch.MetricAlarm => a !== undefined);
    }

    /** Invocations, errors and throttles; duration p50/p99 against the timeout. */
    dashboardWidgets(region: string): pulumi.Output<DashboardWidget>[] {
        const dimensions = { FunctionName: this.function.name };
        const line = (metricName: string, stat: string, label?: string) => ({ namespace: "AWS/Lambda", metricName, dimensions, stat, label });
        return [
            metricWidget(`${this.logicalName}: invocations, errors, throttles`, [line("Invocations", "Sum"), line("Errors", "Sum"), line("Throttles", "Sum")], region),
            metricWidget(`${this.logicalName}: duration (timeout ${this.timeoutSeconds}s)`, [line("Duration", "p50", "p50"), line("Duration", "p99", "p99")], region),
        ];
    }
}
