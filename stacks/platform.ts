import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AlarmTopic, EventBus, EventRouteDescription, ProcessedQueue, ProcessedQueueDescription, QueryApi, Table } from "../components";
import { PlatformDashboard } from "../components/dashboard";
import { platformDashboardRows, stackRegion } from "./dashboard";
import { handlerMetricAlarm, SERVICES } from "./handlerMetricAlarms";
import { analyticsConsumerFactory } from "../handlers/analyticsConsumer";
import { catalogEventPattern } from "../handlers/events/catalog";
import { restaurantQueryFactory } from "../handlers/restaurantQuery";
import { restaurantStatsFactory } from "../handlers/restaurantStats";
import { StackConfig } from "./config";

/** What the stack exports: everything an operator or a client needs to find the platform. */
export interface PlatformOutputs {
    apiUrl: pulumi.Output<string>;
    apiId: pulumi.Output<string>;
    restaurantsTableName: pulumi.Output<string>;
    eventBusName: pulumi.Output<string>;
    eventBusArn: pulumi.Output<string>;
    analyticsTableName: pulumi.Output<string>;
    alarmTopicArn: pulumi.Output<string>;
    /** Every processed queue: component name, queue and DLQ URL/ARN/name (the ops CLI reads these). */
    queues: ProcessedQueueDescription[];
    /** Every route on the bus: `<bus>/<route>`, rule name and ARN, bus name, pattern. */
    rules: EventRouteDescription[];
    /** The CloudWatch dashboard of the stack: name and console URL. */
    dashboardName: pulumi.Output<string>;
    dashboardUrl: pulumi.Output<string>;
    /** Number of alarms the stack declares (all notify alarmTopicArn). */
    alarmCount: number;
}

export interface Platform {
    config: StackConfig;
    restaurants: Table;
    analytics: Table;
    bus: EventBus;
    alarms: AlarmTopic;
    analyticsQueue: ProcessedQueue;
    api: QueryApi;
    dashboard: PlatformDashboard;
    /** Every alarm of the stack, from every component. */
    allAlarms: aws.cloudwatch.MetricAlarm[];
    outputs: PlatformOutputs;
}

/** The namespace of the platform's custom metrics, one per stack. */
export function metricsNamespace(stack: string): string {
    return `Bellyfed/${stack}`;
}

/**
 * Packages in package.json for this repository's tooling, not for any handler: the ops CLI reads
 * stack files with yaml (an optional dependency, which Pulumi's packager still counts as a
 * dependency and would upload into every function).
 */
const TOOLING_PACKAGES = ["yaml"];

/** Composes the whole platform for one stack from its validated config. */
export function createPlatform(stack: string, config: StackConfig): Platform {
    const tags = { ...config.tags, project: "bellyfed", stack, environment: config.environment };
    const functionSettings = (fn: keyof StackConfig["functions"]) => ({
        memorySize: config.functions[fn].memoryMb,
        timeoutSeconds: config.functions[fn].timeoutSeconds,
        excludePackages: TOOLING_PACKAGES,
    });
    const observabilityEnv = (service: string) => ({
        POWERTOOLS_SERVICE_NAME: service,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(stack),
        POWERTOOLS_LOG_LEVEL: "INFO",
    });

    // The topic every alarm of the stack notifies (ALARM and OK); subscriptions come from config.
    const alarms = new AlarmTopic("alarms", { emails: config.alarms.emails, httpsEndpoints: config.alarms.httpsEndpoints, tags });
    const thresholds = config.alarms;
    const tableAlarms = { topicArn: alarms.topicArn, throttledRequests: { threshold: thresholds.tableThrottleEventsPerMinute } };
    const durationAlarm = { durationP99PercentOfTimeout: { threshold: thresholds.functionDurationP99PercentOfTimeout } };

    const restaurants = new Table("restaurants", {
        hashKey: "restaurantId",
        pointInTimeRecovery: config.tables.pointInTimeRecovery,
        deletionProtection: config.tables.deletionProtection,
        alarms: tableAlarms,
        tags,
    });

    // Item design: handlers/analyticsConsumer/items.ts (counters per day and in total, idempotency records with TTL).
    const analytics = new Table("analytics", {
        hashKey: "restaurantId",
        rangeKey: "sk",
        ttlAttribute: "expiresAt",
        pointInTimeRecovery: config.tables.pointInTimeRecovery,
        deletionProtection: config.tables.deletionProtection,
        alarms: tableAlarms,
        tags,
    });

    const bus = new EventBus("platform-bus", { archiveRetentionDays: config.events.archiveRetentionDays, tags });

    // Flow 2: RestaurantViewed on the bus -> rule -> analytics queue -> consumer -> view counters.
    const analyticsQueue = new ProcessedQueue("analytics-queue", {
        consumer: {
            callbackFactory: analyticsConsumerFactory,
            ...functionSettings("analyticsConsumer"),
            environment: { ANALYTICS_TABLE: analytics.name, ...observabilityEnv(SERVICES.analyticsConsumer) },
            policyStatements: [
                { Sid: "CountViews", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], Resource: analytics.arn },
            ],
        },
        maxReceiveCount: config.analyticsQueue.maxReceiveCount,
        batchSize: config.analyticsQueue.batchSize,
        batchingWindowSeconds: config.analyticsQueue.batchingWindowSeconds,
        maxConcurrency: config.analyticsQueue.maxConcurrency,
        retentionSeconds: config.analyticsQueue.retentionSeconds,
        encryption: config.analyticsQueue.encryption === "kms" ? { type: "kms" } : { type: "sqs-managed" },
        alarmTopicArn: alarms.topicArn,
        alarms: {
            queueDepth: { threshold: thresholds.queueDepth },
            oldestMessageAgeSeconds: thresholds.queueOldestMessageAgeSeconds === undefined ? undefined : { threshold: thresholds.queueOldestMessageAgeSeconds },
            consumerDurationP99PercentOfTimeout: durationAlarm.durationP99PercentOfTimeout,
        },
        logRetentionDays: config.logRetentionDays,
        tags,
    });
    bus.route("restaurant-viewed", {
        pattern: catalogEventPattern("RestaurantViewed"),
        queue: analyticsQueue,
        maximumEventAgeSeconds: config.events.deliveryMaxEventAgeSeconds,
        maximumRetryAttempts: config.events.deliveryMaxRetryAttempts,
        alarmTopicArn: alarms.topicArn,
    });

    const api = new QueryApi("query-api", {
        corsAllowOrigins: config.api.corsAllowOrigins,
        throttling: { rateLimit: config.api.throttlingRateLimit, burstLimit: config.api.throttlingBurstLimit },
        logRetentionDays: config.logRetentionDays,
        alarms: {
            topicArn: alarms.topicArn,
            serverErrors: { threshold: thresholds.apiServerErrorsPerMinute },
            clientErrorRatePercent: { threshold: thresholds.apiClientErrorRatePercent },
            latencyP99Ms: { threshold: thresholds.apiLatencyP99Ms },
            functions: durationAlarm,
        },
        tags,
        routes: {
            restaurant: {
                method: "GET",
                path: "/restaurant/{id}",
                handler: {
                    callbackFactory: restaurantQueryFactory,
                    ...functionSettings("restaurantQuery"),
                    environment: {
                        RESTAURANTS_TABLE: restaurants.name,
                        EVENT_BUS_NAME: bus.name,
                        ...observabilityEnv(SERVICES.restaurantQuery),
                    },
                    policyStatements: [
                        { Sid: "ReadRestaurants", Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: restaurants.arn },
                        bus.publishStatement(),
                    ],
                },
            },
            stats: {
                method: "GET",
                path: "/restaurant/{id}/stats",
                handler: {
                    callbackFactory: restaurantStatsFactory,
                    ...functionSettings("restaurantStats"),
                    environment: {
                        RESTAURANTS_TABLE: restaurants.name,
                        ANALYTICS_TABLE: analytics.name,
                        ...observabilityEnv(SERVICES.restaurantStats),
                    },
                    policyStatements: [
                        { Sid: "CheckRestaurantExists", Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: restaurants.arn },
                        { Sid: "ReadViewCounters", Effect: "Allow", Action: ["dynamodb:Query"], Resource: analytics.arn },
                    ],
                },
            },
        },
    });

    // Signals only the handlers see, paged before events are lost: a RestaurantViewed that was never
    // published is a lost view; a poison record is on its way to the DLQ.
    const handlerAlarms = [
        handlerMetricAlarm(api.functions.restaurant, "query-api-restaurant-publish-failures", {
            namespace: metricsNamespace(stack),
            service: SERVICES.restaurantQuery,
            metricName: "PublishFailures",
            threshold: thresholds.publishFailuresPer5Minutes,
            description:
                "restaurant-query: RestaurantViewed events were not published (PutEvents failed or was refused); those views are lost to analytics. Check the function's log for \"analytics event not published\" and the bus.",
            topicArn: alarms.topicArn,
            tags,
        }),
        handlerMetricAlarm(analyticsQueue, "analytics-queue-poison-records", {
            namespace: metricsNamespace(stack),
            service: SERVICES.analyticsConsumer,
            metricName: "PoisonRecords",
            threshold: thresholds.poisonRecordsPer5Minutes,
            description:
                "analytics-consumer: records that can never be counted (not JSON, not a RestaurantViewed, bad detail, too old) were received; they reach the DLQ after maxReceiveCount receives. Check the consumer's log (poison record, with message id and reason), then fix the publisher.",
            topicArn: alarms.topicArn,
            tags,
        }),
    ];

    const allAlarms = [
        ...api.alarms,
        ...Object.values(api.functions).flatMap((fn) => fn.alarms),
        ...restaurants.alarms,
        ...analytics.alarms,
        ...analyticsQueue.alarms,
        ...bus.routes.flatMap((route) => route.alarms),
        ...handlerAlarms,
    ];
    const dashboard = new PlatformDashboard("platform", {
        dashboardName: `bellyfed-${stack}`,
        rows: platformDashboardRows({ region: stackRegion(), namespace: metricsNamespace(stack), api, restaurants, analytics, bus, queues: [analyticsQueue], alarms: allAlarms }),
    });

    return {
        config,
        restaurants,
        analytics,
        bus,
        alarms,
        analyticsQueue,
        api,
        dashboard,
        allAlarms,
        outputs: {
            apiUrl: api.url,
            apiId: api.apiId,
            restaurantsTableName: restaurants.name,
            eventBusName: bus.name,
            eventBusArn: bus.arn,
            analyticsTableName: analytics.name,
            alarmTopicArn: alarms.topicArn,
            queues: [analyticsQueue.describe()],
            rules: bus.routes.map((route) => route.describe()),
            dashboardName: dashboard.dashboardName,
            dashboardUrl: dashboard.url,
            alarmCount: allAlarms.length,
        },
    };
}
