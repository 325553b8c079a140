import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { buildEventCatalog, RESTAURANT_ID_PATTERN } from "../events/catalog";
import { allowedOriginsFromEnv, corsHeaders, HttpResponse, jsonResponse, requestOrigin } from "../runtime/http";
import { createObservability, requireEnv } from "../runtime/observability";
import { createEventPublisher } from "../runtime/publisher";

/**
 * `GET /restaurant/{id}`: reads the restaurant from DynamoDB, publishes `RestaurantViewed`, answers
 * JSON. Environment: RESTAURANTS_TABLE, EVENT_BUS_NAME, CORS_ALLOW_ORIGINS (comma-separated).
 *
 * Everything is built here, once per cold start: SDK clients, schemas, logger, publisher.
 */
export function restaurantQueryFactory() {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { DynamoDBClient } = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
    const { DynamoDBDocumentClient, GetCommand } = require("@aws-sdk/lib-dynamodb") as typeof import("@aws-sdk/lib-dynamodb");
    const { EventBridgeClient } = require("@aws-sdk/client-eventbridge") as typeof import("@aws-sdk/client-eventbridge");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const env = requireEnv("RESTAURANTS_TABLE", "EVENT_BUS_NAME");
    const origins = allowedOriginsFromEnv(process.env.CORS_ALLOW_ORIGINS);
    const { logger, metrics } = createObservability("restaurant-query");
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const publisher = createEventPublisher({
        client: new EventBridgeClient({}),
        busName: env.EVENT_BUS_NAME,
        catalog: buildEventCatalog(),
        logger,
        metrics,
    });
    const idPattern = new RegExp(RESTAURANT_ID_PATTERN);

    return async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResponse> => {
        const requestId = event.requestContext?.requestId ?? context?.awsRequestId ?? "unknown";
        logger.appendKeys({ requestId });
        const cors = corsHeaders(origins, requestOrigin(event));
        try {
            const id = event.pathParameters?.id;
            if (!id || !idPattern.test(id)) {
                return jsonResponse(400, { message: "Invalid restaurant id: expected 1-64 characters of A-Z a-z 0-9 _ -" }, cors);
            }
            let item: Record<string, unknown> | undefined;
            try {
                item = (await documents.send(new GetCommand({ TableName: env.RESTAURANTS_TABLE, Key: { restaurantId: id } }))).Item;
            } catch (error) {
                logger.error("restaurant lookup failed", { restaurantId: id, error: error as Error });
                return jsonResponse(500, { message: "Internal error while reading the restaurant", requestId }, cors);
            }
            if (!item) return jsonResponse(404, { message: `Restaurant ${id} not found` }, cors);

            // Analytics is best effort: a publish failure is logged and counted, never returned to the caller.
            try {
                const { failed } = await publisher.publish([
                    { name: "RestaurantViewed", detail: { version: 1, restaurantId: id, viewedAt: new Date().toISOString(), requestId } },
                ]);
                if (failed.length === 0) logger.info("restaurant viewed", { restaurantId: id });
            } catch (error) {
                logger.error("analytics event not published", { restaurantId: id, error: error as Error });
                metrics.addMetric("PublishFailures", "Count", 1);
            }
            return jsonResponse(200, item, cors);
        } finally {
            if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
            logger.resetKeys();
        }
    };
}
