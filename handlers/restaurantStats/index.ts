import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { daySk, DAY_SK_PREFIX, TOTAL_SK, utcDay } from "../analyticsConsumer/items";
import { RESTAURANT_ID_PATTERN } from "../events/catalog";
import { sdkClientConfig } from "../runtime/awsClients";
import { invocationDeadline, remainingTimeOf, RESPONSE_RESERVE_MS } from "../runtime/deadline";
import { allowedOriginsFromEnv, corsHeaders, HttpResponse, jsonResponse, requestOrigin } from "../runtime/http";
import { createObservability, requireEnv } from "../runtime/observability";

/** Days of `byDay` when the request does not say (`?days=`), and the most it may ask for. */
export const DEFAULT_STATS_DAYS = 30;
export const MAX_STATS_DAYS = 366;

/** The body of a 200 answer. */
export interface RestaurantStats {
    restaurantId: string;
    views: {
        /** All-time views. */
        total: number;
        /** Views per UTC day, oldest first, one entry per day of the window (zeros included). */
        byDay: Record<string, number>;
    };
}

export interface RestaurantStatsOptions {
    documents: DynamoDBDocumentClient;
    restaurantsTable: string;
    analyticsTable: string;
    allowedOrigins: string[];
    logger: Logger;
    metrics: Metrics;
    /** Clock in epoch milliseconds. Default Date.now. */
    now?: () => number;
    /** DynamoDB calls are aborted when less than this much invocation time is left (a JSON 500 follows). Default RESPONSE_RESERVE_MS (500 ms). */
    responseReserveMs?: number;
}

/**
 * `GET /restaurant/{id}/stats[?days=N]`: the restaurant's view counters from the analytics table.
 * 200 with zeros for a known restaurant nobody viewed yet, 404 for an unknown restaurant, 400 for a
 * bad id or `days`, 500 (without internals) when DynamoDB fails or does not answer before the
 * invocation's deadline (never a Lambda timeout). Reading stats publishes nothing, so it does not
 * count as a view.
 */
export function createRestaurantStatsHandler(options: RestaurantStatsOptions) {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { GetCommand, QueryCommand } = require("@aws-sdk/lib-dynamodb") as typeof import("@aws-sdk/lib-dynamodb");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const { documents, logger, metrics } = options;
    const now = options.now ?? (() => Date.now());
    const idPattern = new RegExp(RESTAURANT_ID_PATTERN);

    /** Day and total counters from `from` on, in one Query (days sort before the total). */
    async function readCounters(restaurantId: string, from: string, abortSignal: AbortSignal): Promise<Record<string, unknown>[]> {
        const items: Record<string, unknown>[] = [];
        let ExclusiveStartKey: Record<string, unknown> | undefined;
        do {
            const page = await documents.send(
                new QueryCommand({
                    TableName: options.analyticsTable,
                    KeyConditionExpression: "restaurantId = :id AND sk BETWEEN :from AND :total",
                    ExpressionAttributeValues: { ":id": restaurantId, ":from": daySk(from), ":total": TOTAL_SK },
                    ProjectionExpression: "sk, #views",
                    ExpressionAttributeNames: { "#views": "views" },
                    ExclusiveStartKey,
                }),
                { abortSignal },
            );
            items.push(...(page.Items ?? []));
            ExclusiveStartKey = page.LastEvaluatedKey;
        } while (ExclusiveStartKey);
        return items;
    }

    return async (event: APIGatewayProxyEventV2, context?: Partial<Context>): Promise<HttpResponse> => {
        const requestId = event.requestContext?.requestId ?? context?.awsRequestId ?? "unknown";
        logger.appendKeys({ requestId });
        const cors = corsHeaders(options.allowedOrigins, requestOrigin(event));
        try {
            const id = event.pathParameters?.id;
            if (!id || !idPattern.test(id)) {
                return jsonResponse(400, { message: "Invalid restaurant id: expected 1-64 characters of A-Z a-z 0-9 _ -" }, cors);
            }
            const daysParam = event.queryStringParameters?.days;
            const days = daysParam === undefined ? DEFAULT_STATS_DAYS : /^\d{1,3}$/.test(daysParam) ? Number(daysParam) : NaN;
            if (!(days >= 1 && days <= MAX_STATS_DAYS)) {
                return jsonResponse(400, { message: `Invalid days: expected a whole number from 1 to ${MAX_STATS_DAYS}` }, cors);
            }
            const today = now();
            const window = Array.from({ length: days }, (_, i) => utcDay(today - (days - 1 - i) * 86_400_000));

            let restaurant: Record<string, unknown> | undefined;
            let counters: Record<string, unknown>[];
            const deadline = invocationDeadline({ remainingMs: remainingTimeOf(context), reserveMs: options.responseReserveMs ?? RESPONSE_RESERVE_MS });
            try {
                [restaurant, counters] = await Promise.all([
                    documents
                        .send(new GetCommand({ TableName: options.restaurantsTable, Key: { restaurantId: id }, ProjectionExpression: "restaurantId" }), { abortSignal: deadline.signal })
                        .then((r) => r.Item),
                    readCounters(id, window[0], deadline.signal),
                ]);
            } catch (error) {
                logger.error("stats lookup failed", { restaurantId: id, error: error as Error, deadline: deadline.signal.aborted });
                return jsonResponse(500, { message: "Internal error while reading the statistics", requestId }, cors);
            } finally {
                deadline.dispose();
            }
            if (!restaurant) return jsonResponse(404, { message: `Restaurant ${id} not found` }, cors);

            const byDay: Record<string, number> = Object.fromEntries(window.map((day) => [day, 0]));
            let total = 0;
            for (const item of counters) {
                const sk = String(item.sk);
                const views = Number(item.views ?? 0);
                if (sk === TOTAL_SK) total = views;
                else if (sk.startsWith(DAY_SK_PREFIX) && sk.slice(DAY_SK_PREFIX.length) in byDay) byDay[sk.slice(DAY_SK_PREFIX.length)] = views;
            }
            const body: RestaurantStats = { restaurantId: id, views: { total, byDay } };
            return jsonResponse(200, body, cors);
        } finally {
            if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
            logger.resetKeys();
        }
    };
}

/**
 * The callback factory of `GET /restaurant/{id}/stats`. Environment: RESTAURANTS_TABLE,
 * ANALYTICS_TABLE, CORS_ALLOW_ORIGINS (comma-separated). Built once per cold start; the SDK client
 * has bounded timeouts and attempts (runtime/awsClients.ts).
 */
export function restaurantStatsFactory() {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { DynamoDBClient } = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
    const { DynamoDBDocumentClient } = require("@aws-sdk/lib-dynamodb") as typeof import("@aws-sdk/lib-dynamodb");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const env = requireEnv("RESTAURANTS_TABLE", "ANALYTICS_TABLE");
    const { logger, metrics } = createObservability("restaurant-stats");
    return createRestaurantStatsHandler({
        documents: DynamoDBDocumentClient.from(new DynamoDBClient(sdkClientConfig())),
        restaurantsTable: env.RESTAURANTS_TABLE,
        analyticsTable: env.ANALYTICS_TABLE,
        allowedOrigins: allowedOriginsFromEnv(process.env.CORS_ALLOW_ORIGINS),
        logger,
        metrics,
    });
}
