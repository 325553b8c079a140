import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { applyTransform, ArgsTransform, ComponentArgumentError } from "./types";

export interface TableArgs {
    /** Partition key attribute name (string-typed). */
    hashKey: string;
    /** Optional sort key attribute name (string-typed). */
    rangeKey?: string;
    /** Point-in-time recovery. Default true (cheap insurance; turn off only for throwaway stacks). */
    pointInTimeRecovery?: pulumi.Input<boolean>;
    /** Deletion protection. Default true. */
    deletionProtection?: pulumi.Input<boolean>;
    /** Attribute holding an epoch-seconds expiry, enables TTL. */
    ttlAttribute?: string;
    /** Customer-managed KMS key ARN; default is the AWS-managed `aws/dynamodb` key (encryption is always on). */
    kmsKeyArn?: pulumi.Input<string>;
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    transforms?: { table?: ArgsTransform<aws.dynamodb.TableArgs> };
}

/** A DynamoDB table with on-demand billing and encryption at rest, PITR and deletion protection on by default. */
export class Table extends pulumi.ComponentResource {
    readonly table: aws.dynamodb.Table;
    readonly name: pulumi.Output<string>;
    readonly arn: pulumi.Output<string>;

    constructor(name: string, args: TableArgs, opts?: pulumi.ComponentResourceOptions) {
        for (const field of ["hashKey", "rangeKey", "ttlAttribute"] as const) {
            const value = args[field];
            if (value !== undefined && !/^[A-Za-z0-9_.-]{1,255}$/.test(value)) {
                throw new ComponentArgumentError("Table", name, field, `must be 1-255 characters of A-Z a-z 0-9 _ . -, got "${value}"`);
            }
        }
        super("bellyfed:data:Table", name, {}, opts);
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
        this.registerOutputs({ name: this.name, arn: this.arn });
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
