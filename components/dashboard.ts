import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DASHBOARD_NAME } from "./awsLimits";
import { compareCodePoints } from "./codePointOrder";
import { applyTransform, ArgsTransform, ComponentArgumentError } from "./types";
import { checkKind, checkTransforms, Fail, shown } from "./valueChecks";

/** One metric line of a widget: namespace, metric name, dimensions and statistic. */
export interface MetricLine {
    namespace: string;
    metricName: string;
    dimensions: Record<string, pulumi.Input<string>>;
    stat: string;
    label?: string;
}

/** A CloudWatch dashboard widget as the dashboard body JSON holds it (x/y are set by the layout). */
export interface DashboardWidget {
    type: "metric" | "alarm" | "text";
    width: number;
    height: number;
    properties: Record<string, unknown>;
}

/** A row of the dashboard: one flow or one component, with its widgets left to right. */
export interface DashboardRow {
    title: string;
    widgets: pulumi.Input<DashboardWidget>[];
}

/** Anything that can put itself on the dashboard. */
export interface DashboardSource {
    dashboardWidgets(region: string): pulumi.Input<DashboardWidget>[];
}

/** A time-series widget of several metrics. */
export function metricWidget(title: string, lines: MetricLine[], region: string, width = 6, height = 6): pulumi.Output<DashboardWidget> {
    return pulumi.output(lines.map((l) => pulumi.output(l.dimensions))).apply((dims): DashboardWidget => ({
        type: "metric",
        width,
        height,
        properties: {
            title,
            region,
            view: "timeSeries",
            stacked: false,
            period: 60,
            metrics: lines.map((l, i) => [
                l.namespace,
                l.metricName,
                ...Object.entries(dims[i]).flat(),
                { stat: l.stat, ...(l.label ? { label: l.label } : {}) },
            ]),
        },
    }));
}

/** The most alarms CloudWatch lets one alarm-status widget list. */
export const MAX_ALARMS_PER_WIDGET = 100;

/**
 * Alarm-status widgets listing alarms by ARN: one widget per 100 alarms (CloudWatch's limit per
 * widget), titled `title (1/2)`, `title (2/2)` when there are several. Each widget sorts its alarms
 * by state, ALARM first, then by the time of their last state change (`sortBy:
 * "stateUpdatedTimestamp"`), so what is firing is at the top. ARNs are assigned to widgets in code
 * point order, so the body is the same on every run.
 */
export function alarmWidgets(title: string, alarmArns: pulumi.Input<string>[], width = 24, height = 3): pulumi.Output<DashboardWidget>[] {
    const sorted = pulumi.all(alarmArns).apply((arns) => [...arns].sort(compareCodePoints));
    const count = Math.max(1, Math.ceil(alarmArns.length / MAX_ALARMS_PER_WIDGET));
    return Array.from({ length: count }, (_, i) =>
        sorted.apply(
            (arns): DashboardWidget => ({
                type: "alarm",
                width,
                height,
                properties: {
                    title: count > 1 ? `${title} (${i + 1}/${count})` : title,
                    alarms: arns.slice(i * MAX_ALARMS_PER_WIDGET, (i + 1) * MAX_ALARMS_PER_WIDGET),
                    sortBy: "stateUpdatedTimestamp",
                },
            }),
        ),
    );
}

/**
 * Lays rows out on CloudWatch's 24-column grid: a title line per row, then its widgets left to
 * right, wrapping at 24 columns. Returns the dashboard body as JSON.
 */
export function layoutDashboard(rows: DashboardRow[]): pulumi.Output<string> {
    return pulumi.all(rows.map((r) => pulumi.all(r.widgets))).apply((resolved) => {
        const widgets: Record<string, unknown>[] = [];
        let y = 0;
        rows.forEach((row, i) => {
            widgets.push({ type: "text", x: 0, y, width: 24, height: 1, properties: { markdown: `## ${row.title}` } });
            y += 1;
            let x = 0;
            let rowHeight = 0;
            for (const w of resolved[i]) {
                if (x + w.width > 24) {
                    y += rowHeight;
                    x = 0;
                    rowHeight = 0;
                }
                widgets.push({ ...w, x, y });
                x += w.width;
                rowHeight = Math.max(rowHeight, w.height);
            }
            y += rowHeight;
        });
        return JSON.stringify({ widgets });
    });
}

/**
 * Arguments of {@link PlatformDashboard}.
 *
 * Creates one CloudWatch dashboard whose body is laid out from `rows`. Outputs: `dashboardName`,
 * `url` (console link).
 */
export interface PlatformDashboardArgs {
    /** Dashboard name (CloudWatch requires one): letters, digits, `-` and `_`, at most 255. */
    dashboardName: pulumi.Input<string>;
    /**
     * Rows from top to bottom; typically one per flow, built from the components' `dashboardWidgets`,
     * plus `alarmWidgets(title, alarmArns)` for alarm-status widgets. At least one row.
     */
    rows: DashboardRow[];
    /** Escape hatch: receives the dashboard's computed args (name and generated body) and returns the args to use. */
    transforms?: { dashboard?: ArgsTransform<aws.cloudwatch.DashboardArgs> };
}

/** A CloudWatch dashboard whose body is generated from the rows given (never hand-written JSON). */
export class PlatformDashboard extends pulumi.ComponentResource {
    readonly dashboard: aws.cloudwatch.Dashboard;
    readonly dashboardName: pulumi.Output<string>;
    /** Console URL of the dashboard. */
    readonly url: pulumi.Output<string>;

    constructor(name: string, args: PlatformDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
        const fail: Fail = (field, message) => {
            throw new ComponentArgumentError("PlatformDashboard", name, field, message);
        };
        if (!args || typeof args !== "object") fail("args", `must be the dashboard's arguments ({ dashboardName, rows }), got ${shown(args)}`);
        if (!Array.isArray(args.rows) || args.rows.length === 0) fail("rows", `must hold at least one row, got ${shown(args.rows)}`);
        args.rows.forEach((row, i) => {
            if (!row || typeof row !== "object") fail(`rows[${i}]`, `must be a row ({ title, widgets }), got ${shown(row)}`);
            if (typeof row.title !== "string") fail(`rows[${i}].title`, `must be a string, got ${shown(row.title)}`);
            if (!Array.isArray(row.widgets)) fail(`rows[${i}].widgets`, `must be a list of widgets, got ${shown(row.widgets)}`);
        });
        if (args.dashboardName === undefined) fail("dashboardName", "is required: CloudWatch names every dashboard");
        if (checkKind(fail, "dashboardName", args.dashboardName, "string") && !DASHBOARD_NAME.test(args.dashboardName as string)) {
            fail("dashboardName", `must be 1-255 characters of A-Z a-z 0-9 - _, got ${shown(args.dashboardName)}`);
        }
        checkTransforms(fail, "transforms", args.transforms, ["dashboard"]);
        super("bellyfed:monitoring:PlatformDashboard", name, {}, opts);
        this.dashboard = new aws.cloudwatch.Dashboard(
            name,
            applyTransform<aws.cloudwatch.DashboardArgs>({ dashboardName: args.dashboardName, dashboardBody: layoutDashboard(args.rows) }, args.transforms?.dashboard),
            { parent: this },
        );
        this.dashboardName = this.dashboard.dashboardName;
        const region = aws.getRegionOutput({}, { parent: this }).region;
        this.url = pulumi.interpolate`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${this.dashboardName}`;
        this.registerOutputs({ dashboardName: this.dashboardName, url: this.url });
    }
}
