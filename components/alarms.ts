import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Settings of one alarm; every alarm a component creates can be tuned or turned off with these. */
export interface AlarmSettings {
    /** Create the alarm. Default true. */
    enabled?: boolean;
    /** The threshold, in the alarm's unit (documented per alarm). */
    threshold?: number;
    /** Consecutive periods evaluated. Default per alarm. */
    evaluationPeriods?: number;
    /** Of those, how many must breach. Default: all of them. */
    datapointsToAlarm?: number;
    /** Period in seconds. Default 60 (300 for slow signals). */
    periodSeconds?: number;
}

/** Where alarms notify, shared by every alarm of a component. */
export interface AlarmDestination {
    /** SNS topic ARN for both ALARM and OK transitions. */
    topicArn: pulumi.Input<string>;
}

/** A single-metric alarm or a metric-math alarm, without the wiring every alarm shares. */
export type AlarmSpec = {
    description: string;
    threshold: number;
    comparisonOperator: "GreaterThanOrEqualToThreshold" | "GreaterThanThreshold" | "LessThanThreshold" | "LessThanOrEqualToThreshold";
    evaluationPeriods: number;
    datapointsToAlarm?: number;
    /**
     * Chosen per alarm, on purpose: `notBreaching` where no data means nothing happened (errors, DLQ
     * depth), `missing` where silence should keep the last state, `breaching` where silence itself is
     * the failure.
     */
    treatMissingData: "notBreaching" | "breaching" | "missing" | "ignore";
} & (
    | {
          namespace: string;
          metricName: string;
          dimensions: Record<string, pulumi.Input<string>>;
          periodSeconds: number;
          statistic?: "Sum" | "Maximum" | "Average" | "Minimum" | "SampleCount";
          extendedStatistic?: string;
      }
    | { metricQueries: aws.types.input.cloudwatch.MetricAlarmMetricQuery[] }
);

/**
 * Creates one CloudWatch alarm as a child of `parent`, with ALARM and OK actions to the destination,
 * unless the settings disable it. Defaults come from the spec; settings override them.
 */
export function createAlarm(
    parent: pulumi.Resource,
    name: string,
    destination: AlarmDestination,
    spec: AlarmSpec,
    settings: AlarmSettings = {},
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>,
): aws.cloudwatch.MetricAlarm | undefined {
    if (settings.enabled === false) return undefined;
    const evaluationPeriods = settings.evaluationPeriods ?? spec.evaluationPeriods;
    const common = {
        alarmDescription: spec.description,
        threshold: settings.threshold ?? spec.threshold,
        comparisonOperator: spec.comparisonOperator,
        evaluationPeriods,
        datapointsToAlarm: settings.datapointsToAlarm ?? spec.datapointsToAlarm ?? evaluationPeriods,
        treatMissingData: spec.treatMissingData,
        alarmActions: [destination.topicArn],
        okActions: [destination.topicArn],
        tags,
    };
    const metric =
        "metricQueries" in spec
            ? { metricQueries: spec.metricQueries }
            : {
                  namespace: spec.namespace,
                  metricName: spec.metricName,
                  dimensions: spec.dimensions,
                  period: settings.periodSeconds ?? spec.periodSeconds,
                  statistic: spec.extendedStatistic ? undefined : (spec.statistic ?? "Sum"),
                  extendedStatistic: spec.extendedStatistic,
              };
    return new aws.cloudwatch.MetricAlarm(name, { ...common, ...metric }, { parent });
}

/** An AWS/SQS queue metric at one-minute Maximum, the statistic SQS's approximate gauges need. */
export function sqsGauge(metricName: "ApproximateNumberOfMessagesVisible" | "ApproximateAgeOfOldestMessage", queueName: pulumi.Input<string>) {
    return { namespace: "AWS/SQS", metricName, dimensions: { QueueName: queueName }, periodSeconds: 60, statistic: "Maximum" as const };
}
