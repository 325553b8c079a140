import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createAlarm } from "../components";

/**
 * The handlers' service names: POWERTOOLS_SERVICE_NAME of each function, which Powertools puts in
 * every EMF metric as the one dimension `service` (handlers/runtime/observability.ts). The stack's
 * environment, its dashboard and these alarms all take them from here.
 */
export const SERVICES = {
    restaurantQuery: "restaurant-query",
    restaurantStats: "restaurant-stats",
    analyticsConsumer: "analytics-consumer",
} as const;

/** The period the handler-metric alarms sum over: their metrics are sparse (emitted only when > 0). */
export const HANDLER_ALARM_PERIOD_SECONDS = 300;

export interface HandlerMetricAlarmArgs {
    /** The stack's custom-metric namespace (POWERTOOLS_METRICS_NAMESPACE). */
    namespace: string;
    /** The emitting function's service name (the `service` dimension). */
    service: string;
    metricName: string;
    /** Sum per 5 minutes that alarms (>=). */
    threshold: number;
    description: string;
    topicArn: pulumi.Input<string>;
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * An alarm on a handler's EMF metric (Sum per 5 minutes >= threshold, 1 of 1 period), child of the
 * component whose function emits it. No data means the handler counted nothing (it only emits the
 * metric when the count is above 0), so missing data is not breaching.
 */
export function handlerMetricAlarm(parent: pulumi.Resource, name: string, args: HandlerMetricAlarmArgs): aws.cloudwatch.MetricAlarm {
    return createAlarm(
        parent,
        name,
        { topicArn: args.topicArn },
        {
            namespace: args.namespace,
            metricName: args.metricName,
            dimensions: { service: args.service },
            periodSeconds: HANDLER_ALARM_PERIOD_SECONDS,
            statistic: "Sum",
            description: args.description,
            threshold: args.threshold,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            evaluationPeriods: 1,
            treatMissingData: "notBreaching",
        },
        {},
        args.tags,
    )!;
}
