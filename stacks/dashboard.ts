import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { alarmWidgets, DashboardRow, EventBus, metricWidget, ProcessedQueue, QueryApi, Table } from "../components";
import { SERVICES } from "./handlerMetricAlarms";

export interface PlatformDashboardSources {
    region: string;
    /** The stack's custom-metric namespace (EMF from the handlers). */
    namespace: string;
    api: QueryApi;
    restaurants: Table;
    analytics: Table;
    bus: EventBus;
    /** Every processed queue of the stack: each gets its widgets without editing this file. */
    queues: ProcessedQueue[];
    alarms: aws.cloudwatch.MetricAlarm[];
}

/**
 * The stack's dashboard, one row per flow, generated from the components: a new route or processed
 * queue appears by itself. The custom metrics are the handlers' EMF metrics (Powertools adds the
 * `service` dimension).
 */
export function platformDashboardRows(s: PlatformDashboardSources): DashboardRow[] {
    const custom = (service: string, metricName: string) => ({ namespace: s.namespace, metricName, dimensions: { service }, stat: "Sum", label: metricName });
    return [
        { title: "Alarms", widgets: alarmWidgets("Every alarm of the stack", s.alarms.map((a) => a.arn)) },
        {
            title: "Flow 1: restaurant query (API -> Lambda -> DynamoDB -> RestaurantViewed)",
            widgets: [
                ...s.api.dashboardWidgets(s.region),
                metricWidget("Analytics events published", [custom(SERVICES.restaurantQuery, "EventsPublished"), custom(SERVICES.restaurantQuery, "PublishFailures")], s.region),
                ...s.restaurants.dashboardWidgets(s.region),
            ],
        },
        {
            title: "Flow 2: event processing (bus -> rule -> SQS -> consumer)",
            widgets: [
                ...s.bus.routes.flatMap((route) => route.dashboardWidgets(s.region)),
                ...s.queues.flatMap((queue) => queue.dashboardWidgets(s.region)),
                metricWidget(
                    "Analytics consumer outcomes",
                    ["ViewsCounted", "DuplicateEvents", "PoisonRecords", "StaleEvents", "RetriedRecords", "CleanUpFailures"].map((m) => custom(SERVICES.analyticsConsumer, m)),
                    s.region,
                ),
                ...s.analytics.dashboardWidgets(s.region),
            ],
        },
    ];
}

/** The region the stack deploys to (the aws:region config every stack file sets). */
export function stackRegion(): string {
    return new pulumi.Config("aws").require("region");
}
