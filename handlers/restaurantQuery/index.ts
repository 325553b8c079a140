import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { buildEventCatalog, RESTAURANT_ID_PATTERN } from "../events/catalog";
import { sdkClientConfig } from "../runtime/awsClients";
import { invocationDeadline, remainingTimeOf, RESPONSE_RESERVE_MS } from "../runtime/deadline";
import { allowedOriginsFromEnv, corsHeaders, HttpResponse, jsonResponse, requestOrigin } from "../runtime/http";
import { toJsonItem } from "../runtime/jsonItem";
import { createObservability, requireEnv } from "../runtime/observability";
import { createEventPublisher, EventPublisher } from "../runtime/publisher";

/** The most a request waits for the analytics event, in ms: the caller's answer does not depend on it. */
export const PUBLISH_BUDGET_MS = 1500;

export interface RestaurantQueryOptions {
    /**
     * Reads the restaurant. Its client must unmarshall with `wrapNumbers: true`: the item is returned
     * as JSON, and numbers beyond a double's precision must neither throw nor change.
     */
    documents: DynamoDBDocumentClient;
    restaurantsTable: string;
    publisher: Pick<EventPublisher, "publish">;
    allowedOrigins: string[];
    logger: Logger;
    metrics: Metrics;
    /** Recognises lib-dynamodb's NumberValue (the handler turns them into JSON numbers or strings). */
    isNumberValue: (value: unknown) => value is { value: string };
    /** See PUBLISH_BUDGET_MS. */
    publishBudgetMs?: number;
    /** See RESPONSE_RESERVE_MS. */
    responseReserveMs?: number;
}

/**
 * `GET /restaurant/{id}`: reads the restaurant from DynamoDB, publishes `RestaurantViewed`, answers
 * JSON. Every AWS call has a deadline from the invocation's remaining time, so the handler always
 * answers before Lambda's timeout: a slow DynamoDB is a JSON 500, a slow EventBridge (bounded by
 * its own budget as well) is a logged and counted PublishFailure behind a 200.
 */
export function createRestaurantQueryHandler(options: RestaurantQueryOptions) {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { GetCommand } = require("@aws-sdk/lib-dynamodb") as typeof import("@aws-sdk/lib-dynamodb");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const { documents, publisher, logger, metrics } = options;
    const reserveMs = options.responseReserveMs ?? RESPONSE_RESERVE_MS;
    const publishBudgetMs = options.publishBudgetMs ?? PUBLISH_BUDGET_MS;
    const idPattern = new RegExp(RESTAURANT_ID_PATTERN);

    /** Analytics is best effort: a failure is logged and counted, never returned to the caller. */
    async function publishView(restaurantId: string, requestId: string, remainingMs: (() => number) | undefined): Promise<void> {
        const deadline = invocationDeadline({ remainingMs, reserveMs, budgetMs: publishBudgetMs });
        try {
            const { failed } = await publisher.publish(
                [{ name: "RestaurantViewed", detail: { version: 1, restaurantId, viewedAt: new Date().toISOString(), requestId } }],
                { abortSignal: deadline.signal },
            );
            // The publisher has logged and counted (PublishFailures) each failed entry.
            if (failed.length === 0) logger.info("restaurant viewed", { restaurantId });
        } catch (error) {
            logger.error("analytics event not published", { restaurantId, error: error as Error });
            metrics.addMetric("PublishFailures", "Count", 1);
        } finally {
            deadline.dispose();
        }
    }

    return async (event: APIGatewayProxyEventV2, context?: Partial<Context>): Promise<HttpResponse> => {
        const requestId = event.requestContext?.requestId ?? context?.awsRequestId ?? "unknown";
        logger.appendKeys({ requestId });
        const cors = corsHeaders(options.allowedOrigins, requestOrigin(event));
        const remainingMs = remainingTimeOf(context);
        try {
            const id = event.pathParameters?.id;
            if (!id || !idPattern.test(id)) {
                return jsonResponse(400, { message: "Invalid restaurant id: expected 1-64 characters of A-Z a-z 0-9 _ -" }, cors);
            }
            let item: Record<string, unknown> | undefined;
            const lookup = invocationDeadline({ remainingMs, reserveMs });
            try {
                item = (await documents.send(new GetCommand({ TableName: options.restaurantsTable, Key: { restaurantId: id } }), { abortSignal: lookup.signal })).Item;
            } catch (error) {
                logger.error("restaurant lookup failed", { restaurantId: id, error: error as Error, deadline: lookup.signal.aborted });
                return jsonResponse(500, { message: "Internal error while reading the restaurant", requestId }, cors);
            } finally {
                lookup.dispose();
            }
            if (!item) return jsonResponse(404, { message: `Restaurant ${id} not found` }, cors);

            await publishView(id, requestId, remainingMs);
            return jsonResponse(200, toJsonItem(item, options.isNumberValue), cors);
        } finally {
            if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
            logger.resetKeys();
        }
    };
}

/**
 * The callback factory of `GET /restaurant/{id}`. Environment: RESTAURANTS_TABLE, EVENT_BUS_NAME,
 * CORS_ALLOW_ORIGINS (comma-separated). Everything is built here, once per cold start: SDK clients
 * (with bounded timeouts and attempts), schemas, logger, publisher.
 */
export function restaurantQueryFactory() {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { DynamoDBClient } = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
    const { DynamoDBDocumentClient, NumberValue } = require("@aws-sdk/lib-dynamodb") as typeof import("@aws-sdk/lib-dynamodb");
    const { EventBridgeClient } = require("@aws-sdk/client-eventbridge") as typeof import("@aws-sdk/client-eventbridge");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const env = requireEnv("RESTAURANTS_TABLE", "EVENT_BUS_NAME");
    const { logger, metrics } = createObservability("restaurant-query");
    return createRestaurantQueryHandler({
        documents: DynamoDBDocumentClient.from(new DynamoDBClient(sdkClientConfig()), { unmarshallOptions: { wrapNumbers: true } }),
        restaurantsTable: env.RESTAURANTS_TABLE,
        publisher: createEventPublisher({
            client: new EventBridgeClient(sdkClientConfig()),
            busName: env.EVENT_BUS_NAME,
            catalog: buildEventCatalog(),
            logger,
            metrics,
        }),
        allowedOrigins: allowedOriginsFromEnv(process.env.CORS_ALLOW_ORIGINS),
        logger,
        metrics,
        isNumberValue: (value: unknown): value is { value: string } => value instanceof NumberValue,
    });
}
