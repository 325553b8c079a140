/**
 * The event catalog: every event the platform publishes, with its EventBridge `source`,
 * `detail-type`, schema version and zod schema of `detail`.
 *
 * Names are plain constants so the Pulumi program can build rule patterns from them. Schemas are
 * built by `buildEventCatalog()`, which requires zod at call time: a zod schema captured from module
 * scope cannot be serialized into a Lambda (see PULUMI-NOTES), so handlers call it inside their
 * callback factory, once per cold start.
 */
export const EVENT_TYPES = {
    RestaurantViewed: { source: "bellyfed.restaurants", detailType: "RestaurantViewed", version: 1 },
} as const;

export type EventName = keyof typeof EVENT_TYPES;

/** The restaurant id rule shared by the API and the event schemas. */
export const RESTAURANT_ID_PATTERN = "^[A-Za-z0-9_-]{1,64}$";

export interface RestaurantViewedDetail {
    version: 1;
    restaurantId: string;
    viewedAt: string;
    requestId: string;
}

export interface EventDetails {
    RestaurantViewed: RestaurantViewedDetail;
}

/** Builds the zod schemas of the catalog. Call once per cold start; never at module scope. */
export function buildEventCatalog() {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { z } = require("zod") as typeof import("zod");
    const restaurantId = z.string().regex(new RegExp(RESTAURANT_ID_PATTERN), "must be 1-64 characters of A-Z a-z 0-9 _ -");
    const detail = {
        RestaurantViewed: z
            .object({
                version: z.literal(1),
                restaurantId,
                viewedAt: z.iso.datetime(),
                requestId: z.string().min(1).max(128),
            })
            .strict(),
    };
    /** The envelope EventBridge delivers to targets (and the SQS body of a routed message). */
    const envelope = z.object({
        version: z.string(),
        id: z.string().min(1),
        "detail-type": z.string().min(1),
        source: z.string().min(1),
        account: z.string(),
        time: z.string(),
        region: z.string(),
        resources: z.array(z.string()),
        detail: z.unknown(),
    });
    return { detail, envelope };
}

export type EventCatalog = ReturnType<typeof buildEventCatalog>;

/** Finds the catalog entry of a (source, detail-type) pair. */
export function findEventType(source: string, detailType: string): EventName | undefined {
    return (Object.keys(EVENT_TYPES) as EventName[]).find(
        (name) => EVENT_TYPES[name].source === source && EVENT_TYPES[name].detailType === detailType,
    );
}

/** The EventBridge pattern that matches one catalog event: built from the catalog, never typed twice. */
export function catalogEventPattern(name: EventName): { source: string[]; "detail-type": string[] } {
    return { source: [EVENT_TYPES[name].source], "detail-type": [EVENT_TYPES[name].detailType] };
}
