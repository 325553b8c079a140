import * as pulumi from "@pulumi/pulumi";
import { EventBus, QueryApi, Table } from "../components";
import { restaurantQueryFactory } from "../handlers/restaurantQuery";
import { StackConfig } from "./config";

/** What the stack exports: everything an operator or a client needs to find the platform. */
export interface PlatformOutputs {
    apiUrl: pulumi.Output<string>;
    apiId: pulumi.Output<string>;
    restaurantsTableName: pulumi.Output<string>;
    eventBusName: pulumi.Output<string>;
    eventBusArn: pulumi.Output<string>;
}

export interface Platform {
    config: StackConfig;
    restaurants: Table;
    bus: EventBus;
    api: QueryApi;
    outputs: PlatformOutputs;
}

/** The namespace of the platform's custom metrics, one per stack. */
export function metricsNamespace(stack: string): string {
    return `Bellyfed/${stack}`;
}

/** Composes the whole platform for one stack from its validated config. */
export function createPlatform(stack: string, config: StackConfig): Platform {
    const tags = { project: "bellyfed", stack, environment: config.environment, ...config.tags };
    const observabilityEnv = (service: string) => ({
        POWERTOOLS_SERVICE_NAME: service,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(stack),
        POWERTOOLS_LOG_LEVEL: "INFO",
    });

    const restaurants = new Table("restaurants", {
        hashKey: "restaurantId",
        pointInTimeRecovery: config.tables.pointInTimeRecovery,
        deletionProtection: config.tables.deletionProtection,
        tags,
    });

    const bus = new EventBus("platform-bus", { archiveRetentionDays: config.events.archiveRetentionDays, tags });

    const api = new QueryApi("query-api", {
        corsAllowOrigins: config.api.corsAllowOrigins,
        throttling: { rateLimit: config.api.throttlingRateLimit, burstLimit: config.api.throttlingBurstLimit },
        logRetentionDays: config.logRetentionDays,
        tags,
        routes: {
            restaurant: {
                method: "GET",
                path: "/restaurant/{id}",
                handler: {
                    callbackFactory: restaurantQueryFactory,
                    memorySize: config.functions.restaurantQuery.memoryMb,
                    timeoutSeconds: config.functions.restaurantQuery.timeoutSeconds,
                    environment: {
                        RESTAURANTS_TABLE: restaurants.name,
                        EVENT_BUS_NAME: bus.name,
                        ...observabilityEnv("restaurant-query"),
                    },
                    policyStatements: [
                        { Sid: "ReadRestaurants", Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: restaurants.arn },
                        bus.publishStatement(),
                    ],
                },
            },
        },
    });

    return {
        config,
        restaurants,
        bus,
        api,
        outputs: {
            apiUrl: api.url,
            apiId: api.apiId,
            restaurantsTableName: restaurants.name,
            eventBusName: bus.name,
            eventBusArn: bus.arn,
        },
    };
}
