import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ComponentArgumentError } from "./types";

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

/** An alarm-status widget listing alarms by ARN. */
export function alarmWidget(title: string, alarmArns: pulumi.Input<string>[], width = 24, height = 3): pulumi.Output<DashboardWidget> {
    return pulumi.all(alarmArns).apply((alarms): DashboardWidget => ({ type: "alarm", width, height, properties: { title, alarms: [...alarms].sort() } }));
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

export interface PlatformDashboardArgs {
    /** Dashboard name (CloudWatch requires one): letters, digits, `-` and `_`, at most 255. */
    dashboardName: pulumi.Input<string>;
    /** Rows from top to bottom; typically one per flow, built from the components' `dashboardWidgets`. */
    rows: DashboardRow[];
}

/** A CloudWatch dashboard whose body is generated from the rows given (never hand-written JSON). */
export class PlatformDashboard extends pulumi.ComponentResource {
    readonly dashboard: aws.cloudwatch.Dashboard;
    readonly dashboardName: pulumi.Output<string>;
    /** Console URL of the dashboard. */
    readonly url: pulumi.Output<string>;

    constructor(name: string, args: PlatformDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
        if (!args.rows || args.rows.length === 0) throw new ComponentArgumentError("PlatformDashboard", name, "rows", "must hold at least one row");
        super("bellyfed:monitoring:PlatformDashboard", name, {}, opts);
        this.dashboard = new aws.cloudwatch.Dashboard(name, { dashboardName: args.dashboardName, dashboardBody: layoutDashboard(args.rows) }, { parent: this });
        this.dashboardName = this.dashboard.dashboardName;
        const region = aws.getRegionOutput({}, { parent: this }).region;
        this.url = pulumi.interpolate`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${this.dashboardName}`;
        this.registerOutputs({ dashboardName: this.dashboardName, url: this.url });
    }
}
