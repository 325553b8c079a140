import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { applyTransform, ArgsTransform, ComponentArgumentError, PolicyStatement } from "./types";

export interface EventBusArgs {
    /** Physical bus name. Default: auto-named from the component name. */
    busName?: pulumi.Input<string>;
    /** Days the archive keeps every event on the bus; 0 or unset means no archive. */
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

    constructor(name: string, args: EventBusArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        const retention = args.archiveRetentionDays ?? 0;
        if (!Number.isInteger(retention) || retention < 0) {
            throw new ComponentArgumentError("EventBus", name, "archiveRetentionDays", `must be a whole number of days >= 0, got ${retention}`);
        }
        super("bellyfed:events:EventBus", name, {}, opts);

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

    /** The statement that lets a principal publish to this bus and no other. */
    publishStatement(): PolicyStatement {
        return { Sid: "PublishToBus", Effect: "Allow", Action: ["events:PutEvents"], Resource: this.arn };
    }
}
