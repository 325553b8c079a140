import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ComponentArgumentError } from "./types";

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

/**
 * Checks every `AlarmSettings` entry of a component's alarm arguments (keys other than settings
 * objects, such as `topicArn` or nested groups named in `nested`, are skipped or recursed into), so
 * that a bad threshold or period fails before any resource is registered, naming the field.
 */
export function checkAlarmSettings(
    component: string,
    name: string,
    alarms: object | undefined,
    prefix = "alarms",
    nested: string[] = [],
): void {
    const fail = (field: string, message: string): never => {
        throw new ComponentArgumentError(component, name, field, message);
    };
    for (const [key, settings] of Object.entries(alarms ?? {}) as [string, unknown][]) {
        const field = `${prefix}.${key}`;
        if (nested.includes(key)) {
            checkAlarmSettings(component, name, settings as object | undefined, field);
            continue;
        }
        if (key === "topicArn" || settings === undefined) continue;
        if (settings === null || typeof settings !== "object" || pulumi.Output.isInstance(settings)) {
            fail(field, `must be alarm settings ({ enabled, threshold, evaluationPeriods, datapointsToAlarm, periodSeconds }), got ${JSON.stringify(settings)}`);
        }
        const s = settings as AlarmSettings;
        if (s.enabled !== undefined && typeof s.enabled !== "boolean") fail(`${field}.enabled`, `must be true or false, got ${JSON.stringify(s.enabled)}`);
        if (s.threshold !== undefined && !(Number.isFinite(s.threshold) && s.threshold >= 0)) fail(`${field}.threshold`, `must be a number >= 0, got ${s.threshold}`);
        const periods = s.evaluationPeriods;
        if (periods !== undefined && !(Number.isInteger(periods) && periods >= 1)) fail(`${field}.evaluationPeriods`, `must be an integer >= 1, got ${periods}`);
        const points = s.datapointsToAlarm;
        if (points !== undefined && !(Number.isInteger(points) && points >= 1 && points <= (periods ?? points))) {
            fail(`${field}.datapointsToAlarm`, `must be an integer from 1 to evaluationPeriods, got ${points}`);
        }
        const period = s.periodSeconds;
        if (period !== undefined && !(period === 10 || period === 30 || (Number.isInteger(period) && period >= 60 && period % 60 === 0))) {
            fail(`${field}.periodSeconds`, `must be 10, 30 or a multiple of 60, got ${period}`);
        }
    }
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
        // An override of evaluationPeriods alone keeps the spec's "M of N" only where M still fits.
        datapointsToAlarm: settings.datapointsToAlarm ?? Math.min(spec.datapointsToAlarm ?? evaluationPeriods, evaluationPeriods),
        treatMissingData: spec.treatMissingData,
        alarmActions: [destination.topicArn],
        okActions: [destination.topicArn],
        tags,
    };
    const metric =
        "metricQueries" in spec
            ? {
                  metricQueries:
                      settings.periodSeconds === undefined
                          ? spec.metricQueries
                          : // The components' specs build every query's metric as a plain object.
                            spec.metricQueries.map((q) =>
                                q.metric ? { ...q, metric: { ...(q.metric as aws.types.input.cloudwatch.MetricAlarmMetricQueryMetric), period: settings.periodSeconds! } } : q,
                            ),
              }
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
