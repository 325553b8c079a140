import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ComponentArgumentError } from "./types";
import { Fail, isDeferred, shown } from "./valueChecks";

/** Settings of one alarm; every alarm a component creates can be tuned or turned off with these. */
export interface AlarmSettings {
    /** Create the alarm. Default true. */
    enabled?: boolean;
    /** The threshold, in the alarm's unit (documented per alarm). */
    threshold?: number;
    /** Consecutive periods evaluated. Default per alarm. */
    evaluationPeriods?: number;
    /** Of those, how many must breach (at most the evaluation periods the alarm uses, its default included). Default: all of them. */
    datapointsToAlarm?: number;
    /**
     * Period in seconds: 10, 20, 30 (high resolution, for metrics stored at 1-second resolution) or a
     * multiple of 60; period x evaluation periods at most one day (periods under an hour) or seven
     * days. Default 60 (300 for slow signals).
     */
    periodSeconds?: number;
}

/** What an alarm's spec uses when its settings leave a value unset: what the settings are checked against. */
export interface AlarmDefaults {
    /** The spec's evaluation periods. */
    evaluationPeriods: number;
    /** The spec's period in seconds. Default 60. */
    periodSeconds?: number;
}

/** A component's alarms by settings key (e.g. `dlqMessages`), each with the defaults of its spec. */
export type AlarmCatalog = Record<string, AlarmDefaults>;

/** The shape of a component's alarm arguments, for {@link checkAlarmSettings}. */
export interface AlarmArgsShape {
    /** The settings keys the arguments accept, with their specs' defaults. */
    alarms: AlarmCatalog;
    /** The arguments carry the `topicArn` the alarms notify, which is then required. Default false. */
    topicArn?: boolean;
    /**
     * The topic the alarms notify, given next to the alarms rather than inside them (e.g.
     * ProcessedQueue's `alarmTopicArn`): the field as messages name it, and its value. It must be an
     * SNS topic ARN when given, and is required when alarms are set. Default: none.
     */
    topicBeside?: { field: string; value: unknown };
    /** Keys holding a nested group of settings (e.g. QueryApi's `functions`), with that group's catalog. */
    nested?: Record<string, AlarmCatalog>;
}

/** Periods CloudWatch alarms accept: 10, 20 and 30 s (high resolution) or any multiple of 60 s. */
export function isAlarmPeriod(seconds: unknown): boolean {
    return seconds === 10 || seconds === 20 || seconds === 30 || (Number.isInteger(seconds) && (seconds as number) >= 60 && (seconds as number) % 60 === 0);
}

/**
 * The longest time PutMetricAlarm lets an alarm evaluate (period x evaluation periods): one day for
 * periods under an hour, seven days otherwise.
 */
export function maxEvaluationRangeSeconds(periodSeconds: number): number {
    return periodSeconds < 3600 ? 86400 : 604800;
}

/**
 * Checks a component's alarm arguments against the alarms it knows (`shape`), so that a typo'd key,
 * a bad threshold or a period CloudWatch would reject fails before any resource is registered,
 * naming the field. Each entry is checked with the values the alarm will really get: settings, else
 * the spec's defaults (a `datapointsToAlarm` of 3 against a default of 1 evaluation period is
 * rejected here, not by PutMetricAlarm at deploy time).
 */
export function checkAlarmSettings(component: string, name: string, alarms: unknown, shape: AlarmArgsShape, prefix = "alarms"): void {
    const fail: Fail = (field, message) => {
        throw new ComponentArgumentError(component, name, field, message);
    };
    if (alarms !== undefined) checkAlarmEntries(component, name, alarms, shape, prefix, fail);
    if (shape.topicBeside) checkTopicBeside(alarms, shape.topicBeside, fail);
}

/** Checks the alarm settings themselves (given), and the `topicArn` among them when the shape has one. */
function checkAlarmEntries(component: string, name: string, alarms: unknown, shape: AlarmArgsShape, prefix: string, fail: Fail): void {
    if (alarms === null || typeof alarms !== "object" || Array.isArray(alarms) || pulumi.Output.isInstance(alarms)) {
        fail(prefix, `must be an object of alarm settings, got ${JSON.stringify(alarms)}`);
    }
    const nested = shape.nested ?? {};
    const known = [...(shape.topicArn ? ["topicArn"] : []), ...Object.keys(shape.alarms), ...Object.keys(nested)];
    for (const key of Object.keys(alarms as object)) {
        if (!known.includes(key)) fail(`${prefix}.${key}`, `is not an alarm setting of ${component} (known: ${known.join(", ")})`);
    }
    const entries = alarms as Record<string, unknown>;
    if (shape.topicArn && (entries.topicArn === undefined || entries.topicArn === null || entries.topicArn === "")) {
        fail(`${prefix}.topicArn`, "is required: the SNS topic ARN the alarms notify");
    }
    if (shape.topicArn && typeof entries.topicArn !== "string" && !isDeferred(entries.topicArn)) fail(`${prefix}.topicArn`, `must be an SNS topic ARN, got ${shown(entries.topicArn)}`);
    for (const [key, group] of Object.entries(nested)) checkAlarmSettings(component, name, entries[key], { alarms: group }, `${prefix}.${key}`);
    for (const [key, defaults] of Object.entries(shape.alarms)) checkOneAlarm(fail, `${prefix}.${key}`, entries[key], defaults);
}

/** Checks a topic given next to the alarms: an SNS topic ARN when given, and required when alarms are set. */
function checkTopicBeside(alarms: unknown, topic: { field: string; value: unknown }, fail: Fail): void {
    const { field, value } = topic;
    if (value !== undefined && !isDeferred(value) && (typeof value !== "string" || value === "")) fail(field, `must be an SNS topic ARN, got ${shown(value)}`);
    // Without a topic no alarm is created: settings given anyway would be ignored without a word.
    if (alarms !== undefined && !value) fail(field, "is required when alarms are set: the SNS topic ARN the alarms notify (without it no alarm is created)");
}

/** Checks the settings of one alarm against the values the alarm will get. */
function checkOneAlarm(fail: (field: string, message: string) => never, field: string, settings: unknown, defaults: AlarmDefaults): void {
    if (settings === undefined) return;
    if (settings === null || typeof settings !== "object" || Array.isArray(settings) || pulumi.Output.isInstance(settings)) {
        fail(field, `must be alarm settings ({ enabled, threshold, evaluationPeriods, datapointsToAlarm, periodSeconds }), got ${JSON.stringify(settings)}`);
    }
    const s = settings as AlarmSettings;
    const allowed = ["enabled", "threshold", "evaluationPeriods", "datapointsToAlarm", "periodSeconds"];
    for (const key of Object.keys(s)) if (!allowed.includes(key)) fail(`${field}.${key}`, `is not an alarm setting (known: ${allowed.join(", ")})`);
    if (s.enabled !== undefined && typeof s.enabled !== "boolean") fail(`${field}.enabled`, `must be true or false, got ${JSON.stringify(s.enabled)}`);
    if (s.threshold !== undefined && !(typeof s.threshold === "number" && Number.isFinite(s.threshold) && s.threshold >= 0)) {
        fail(`${field}.threshold`, `must be a number >= 0, got ${shown(s.threshold)}`);
    }
    if (s.evaluationPeriods !== undefined && !(Number.isInteger(s.evaluationPeriods) && s.evaluationPeriods >= 1)) {
        fail(`${field}.evaluationPeriods`, `must be an integer >= 1, got ${shown(s.evaluationPeriods)}`);
    }
    if (s.periodSeconds !== undefined && !isAlarmPeriod(s.periodSeconds)) fail(`${field}.periodSeconds`, `must be 10, 20, 30 or a multiple of 60, got ${shown(s.periodSeconds)}`);
    const periods = s.evaluationPeriods ?? defaults.evaluationPeriods;
    const points = s.datapointsToAlarm;
    if (points !== undefined && !(Number.isInteger(points) && points >= 1 && points <= periods)) {
        const source = s.evaluationPeriods === undefined ? `the default ${periods}` : `${periods}`;
        fail(`${field}.datapointsToAlarm`, `must be an integer from 1 to evaluationPeriods (${source}), got ${shown(points)}`);
    }
    const period = s.periodSeconds ?? defaults.periodSeconds ?? 60;
    const range = period * periods;
    if (range > maxEvaluationRangeSeconds(period)) {
        fail(
            `${field}.evaluationPeriods`,
            `x periodSeconds must be at most ${maxEvaluationRangeSeconds(period)} s (${period < 3600 ? "one day for periods under an hour" : "seven days"}), got ${periods} x ${period} s = ${range} s`,
        );
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
     * depth); `missing` for latency percentiles, where a minute without traffic says nothing about
     * speed: CloudWatch evaluates only the datapoints that exist and goes to INSUFFICIENT_DATA when the
     * whole range is empty; `breaching` where silence itself is the failure; `ignore` keeps the last
     * state.
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
