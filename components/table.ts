import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AlarmDestination, AlarmSettings, checkAlarmSettings, createAlarm } from "./alarms";
import { DashboardWidget, metricWidget } from "./dashboard";
import { applyTransform, ArgsTransform, ComponentArgumentError } from "./types";
import { checkKind, checkStringMap, checkTransforms, Fail, shown } from "./valueChecks";

/** Operations whose SystemErrors the table's alarm sums (a metric-math alarm holds at most 10 metrics). */
export const TABLE_ALARM_OPERATIONS = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "TransactWriteItems", "BatchGetItem", "BatchWriteItem"];

/** The table's alarms by settings key, with the evaluation periods their specs default to. */
export const TABLE_ALARMS = {
    throttledRequests: { evaluationPeriods: 3 },
    systemErrors: { evaluationPeriods: 1 },
};

/** The table's alarms; created only when `topicArn` is given. */
export interface TableAlarmArgs extends AlarmDestination {
    /** Read + write throttle events (Sum per minute) >= threshold. Default 1, 2 of 3 periods. */
    throttledRequests?: AlarmSettings;
    /** DynamoDB system errors (5xx on AWS's side, Sum per minute over the main operations) >= threshold. Default 1. */
    systemErrors?: AlarmSettings;
}

/**
 * Arguments of {@link Table}.
 *
 * Creates one DynamoDB table: on-demand billing, server-side encryption always on (AWS-managed key
 * or `kmsKeyArn`), string-typed keys. Outputs: `name`, `arn`; `readStatement()` and
 * `readWriteStatement()` give least-privilege IAM statements on exactly this table.
 */
export interface TableArgs {
    /** Partition key attribute name (string-typed). Required. */
    hashKey: string;
    /** Optional sort key attribute name (string-typed), different from `hashKey`. */
    rangeKey?: string;
    /** Point-in-time recovery. Default true (cheap insurance; turn off only for throwaway stacks). */
    pointInTimeRecovery?: pulumi.Input<boolean>;
    /** Deletion protection. Default true. */
    deletionProtection?: pulumi.Input<boolean>;
    /** Attribute holding an epoch-seconds expiry, enables TTL. */
    ttlAttribute?: string;
    /** Customer-managed KMS key ARN; default is the AWS-managed `aws/dynamodb` key (encryption is always on). */
    kmsKeyArn?: pulumi.Input<string>;
    /** Throttling and system-error alarms to an SNS topic. Default: no alarms. */
    alarms?: TableAlarmArgs;
    /** Tags on the table. Default none. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Escape hatch: receives the table's computed args and returns the args to use. */
    transforms?: { table?: ArgsTransform<aws.dynamodb.TableArgs> };
}

/** A DynamoDB table with on-demand billing and encryption at rest, PITR and deletion protection on by default. */
export class Table extends pulumi.ComponentResource {
    readonly table: aws.dynamodb.Table;
    readonly name: pulumi.Output<string>;
    readonly arn: pulumi.Output<string>;
    /** The table's alarms (empty without `alarms`). */
    readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
    private readonly logicalName: string;

    constructor(name: string, args: TableArgs, opts?: pulumi.ComponentResourceOptions) {
        const fail: Fail = (field, message) => {
            throw new ComponentArgumentError("Table", name, field, message);
        };
        if (args?.hashKey === undefined || args.hashKey === "") fail("hashKey", "is required: the partition key attribute name");
        for (const field of ["hashKey", "rangeKey", "ttlAttribute"] as const) {
            const value = args[field];
            if (value !== undefined && (typeof value !== "string" || !/^[A-Za-z0-9_.-]{1,255}$/.test(value))) {
                fail(field, `must be 1-255 characters of A-Z a-z 0-9 _ . -, got ${shown(value)}`);
            }
        }
        checkKind(fail, "pointInTimeRecovery", args.pointInTimeRecovery, "boolean");
        checkKind(fail, "deletionProtection", args.deletionProtection, "boolean");
        checkKind(fail, "kmsKeyArn", args.kmsKeyArn, "string");
        checkStringMap(fail, "tags", args.tags);
        checkTransforms(fail, "transforms", args.transforms, ["table"]);
        if (args.rangeKey !== undefined && args.rangeKey === args.hashKey) {
            fail("rangeKey", `must differ from hashKey ("${args.hashKey}"): a key attribute is declared once`);
        }
        checkAlarmSettings("Table", name, args.alarms, { alarms: TABLE_ALARMS, topicArn: true });
        super("bellyfed:data:Table", name, {}, opts);
        this.logicalName = name;
        const attributes = [{ name: args.hashKey, type: "S" }];
        if (args.rangeKey) attributes.push({ name: args.rangeKey, type: "S" });
        this.table = new aws.dynamodb.Table(
            name,
            applyTransform<aws.dynamodb.TableArgs>(
                {
                    billingMode: "PAY_PER_REQUEST",
                    hashKey: args.hashKey,
                    rangeKey: args.rangeKey,
                    attributes,
                    serverSideEncryption: { enabled: true, kmsKeyArn: args.kmsKeyArn },
                    pointInTimeRecovery: { enabled: args.pointInTimeRecovery ?? true },
                    deletionProtectionEnabled: args.deletionProtection ?? true,
                    ttl: args.ttlAttribute ? { attributeName: args.ttlAttribute, enabled: true } : undefined,
                    tags: args.tags,
                },
                args.transforms?.table,
            ),
            { parent: this },
        );
        this.name = this.table.name;
        this.arn = this.table.arn;
        if (args.alarms) this.alarms = this.createAlarms(name, args.alarms, args.tags);
        this.registerOutputs({ name: this.name, arn: this.arn });
    }

    private createAlarms(name: string, alarms: TableAlarmArgs, tags: TableArgs["tags"]): aws.cloudwatch.MetricAlarm[] {
        const metric = (id: string, metricName: string, dimensions: Record<string, pulumi.Input<string>>) => ({
            id,
            metric: { namespace: "AWS/DynamoDB", metricName, dimensions, period: 60, stat: "Sum" },
            returnData: false,
        });
        const created = [
            createAlarm(this, `${name}-throttles`, alarms, {
                metricQueries: [
                    metric("reads", "ReadThrottleEvents", { TableName: this.table.name }),
                    metric("writes", "WriteThrottleEvents", { TableName: this.table.name }),
                    // FILL: a series with no datapoint in a minute (no throttles of that kind) must
                    // count as 0, not blank out the sum.
                    { id: "throttles", expression: "FILL(reads, 0) + FILL(writes, 0)", label: "throttle events", returnData: true },
                ],
                description: `${name}: requests are throttled. On-demand tables throttle when traffic more than doubles its previous peak within 30 minutes, or on a hot partition key.`,
                threshold: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                evaluationPeriods: TABLE_ALARMS.throttledRequests.evaluationPeriods,
                datapointsToAlarm: 2,
                treatMissingData: "notBreaching",
            }, alarms.throttledRequests, tags),
            createAlarm(this, `${name}-system-errors`, alarms, {
                metricQueries: [
                    ...TABLE_ALARM_OPERATIONS.map((op, i) => metric(`op${i}`, "SystemErrors", { TableName: this.table.name, Operation: op })),
                    // Most operations are never called, so most series are empty: FILL each with 0.
                    { id: "errors", expression: TABLE_ALARM_OPERATIONS.map((_, i) => `FILL(op${i}, 0)`).join(" + "), label: "system errors", returnData: true },
                ],
                description: `${name}: DynamoDB returned 5xx errors (AWS side). The SDK retries them; check the AWS Health Dashboard if it persists.`,
                threshold: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                evaluationPeriods: TABLE_ALARMS.systemErrors.evaluationPeriods,
                treatMissingData: "notBreaching",
            }, alarms.systemErrors, tags),
        ];
        return created.filter((a): a is aws.cloudwatch.MetricAlarm => a !== undefined);
    }

    /** Consumed capacity and throttles. */
    dashboardWidgets(region: string): pulumi.Output<DashboardWidget>[] {
        const dimensions = { TableName: this.table.name };
        const line = (metricName: string, stat: string) => ({ namespace: "AWS/DynamoDB", metricName, dimensions, stat });
        return [
            metricWidget(`${this.logicalName}: consumed capacity`, [line("ConsumedReadCapacityUnits", "Sum"), line("ConsumedWriteCapacityUnits", "Sum")], region),
            metricWidget(`${this.logicalName}: throttles`, [line("ReadThrottleEvents", "Sum"), line("WriteThrottleEvents", "Sum")], region),
        ];
    }

    /** Read-only access to this table's items. */
    readStatement(): { Effect: "Allow"; Action: string[]; Resource: pulumi.Output<string> } {
        return { Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"], Resource: this.arn };
    }

    /** Read and write access to this table's items (no table administration). */
    readWriteStatement(): { Effect: "Allow"; Action: string[]; Resource: pulumi.Output<string> } {
        return {
            Effect: "Allow",
            Action: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"],
            Resource: this.arn,
        };
    }
}
