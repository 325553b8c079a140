import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { CORS_ORIGIN_RULE, isCorsOrigin, isLogRetentionDays, LAMBDA_MEMORY_MB, LOG_RETENTION_DAYS, LOG_RETENTION_RULE } from "../components/awsLimits";

/** The Pulumi config namespace of this project (the `name` in Pulumi.yaml). */
export const PROJECT = "bellyfed";

// The list of values lives with the components (components/awsLimits.ts), which check it too.
const retention = z
    .number()
    .int()
    .refine(isLogRetentionDays, {
        message: `${LOG_RETENTION_RULE}: ${LOG_RETENTION_DAYS.join(", ")}`,
    });

const functionSettings = (memoryMb: number, timeoutSeconds: number) =>
    z
        .object({
            /** Lambda memory in MB (128..10240). */
            memoryMb: z.number().int().min(LAMBDA_MEMORY_MB.min).max(LAMBDA_MEMORY_MB.max).default(memoryMb),
            /** Lambda timeout in seconds (1..900). */
            timeoutSeconds: z.number().int().min(1).max(900).default(timeoutSeconds),
        })
        .strict()
        .prefault({});

const origin = z.string().refine(isCorsOrigin, { message: CORS_ORIGIN_RULE });

/**
 * AWS's tag limits (the same for every service the stack tags): at most 50 user tags per resource,
 * keys of 1-128 and values of 0-256 Unicode characters, letters, digits, spaces and `_ . : / = + - @`
 * only, and no `aws:` prefix (in any case) on keys or values: AWS reserves it.
 */
export const TAG_LIMITS = { perResource: 50, keyLength: 128, valueLength: 256 } as const;
/**
 * Tags the platform itself puts on a resource, at most: project, stack and environment on every
 * resource, plus up to three `bellyfed:*` tags of the tagging contract (a route's target DLQ carries
 * bellyfed:processed-queue, bellyfed:queue-role and bellyfed:route).
 */
export const PLATFORM_TAGS_PER_RESOURCE = 6;
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const AWS_PREFIX = /^aws:/i;
/** Tags the platform owns: the ops CLI finds a stack's bus and queues by project + stack, so a stack must not override them. */
export const PLATFORM_TAG_KEYS = ["project", "stack", "environment"] as const;
const PLATFORM_TAG_PREFIX = "bellyfed:";
const characters = (text: string) => [...text].length;

const tags = z.record(z.string(), z.string()).superRefine((map, ctx) => {
    const keys = Object.keys(map);
    const budget = TAG_LIMITS.perResource - PLATFORM_TAGS_PER_RESOURCE;
    if (keys.length > budget) {
        ctx.addIssue({ code: "custom", message: `holds ${keys.length} tags; at most ${budget} fit (AWS allows ${TAG_LIMITS.perResource} per resource and the platform adds up to ${PLATFORM_TAGS_PER_RESOURCE})` });
    }
    for (const key of keys) {
        const value = map[key];
        const problem = (message: string) => ctx.addIssue({ code: "custom", path: [key], message });
        if (characters(key) < 1 || characters(key) > TAG_LIMITS.keyLength) problem(`key must be 1-${TAG_LIMITS.keyLength} characters, got ${characters(key)}`);
        if (characters(value) > TAG_LIMITS.valueLength) problem(`value must be at most ${TAG_LIMITS.valueLength} characters, got ${characters(value)}`);
        if (AWS_PREFIX.test(key)) problem('key must not start with "aws:" (reserved for AWS)');
        if (AWS_PREFIX.test(value)) problem('value must not start with "aws:" (reserved for AWS)');
        if ((PLATFORM_TAG_KEYS as readonly string[]).includes(key) || key.startsWith(PLATFORM_TAG_PREFIX)) {
            problem(`key is set by the platform (${PLATFORM_TAG_KEYS.join(", ")} and ${PLATFORM_TAG_PREFIX}*); operators' tools find the stack by them`);
        }
        if (!TAG_CHARACTERS.test(key) || !TAG_CHARACTERS.test(value)) problem("key and value may hold letters, digits, spaces and _ . : / = + - @ only");
    }
});

/**
 * API Gateway's default account-level throttling quota per Region (requests per second, burst): a
 * stage's default route throttling cannot exceed the account's limits. Raise these bounds together
 * with the account's quota (Service Quotas) if it was increased.
 */
export const API_THROTTLING_QUOTA = { rateLimit: 10000, burstLimit: 5000 } as const;

/**
 * Every setting the program reads, with its default. Keys are `bellyfed:<key>` in Pulumi.<stack>.yaml
 * (structured values as YAML objects). Unknown keys are errors, so a typo never silently falls back
 * to a default.
 */
export const StackConfigSchema = z
    .object({
        /** Deployment environment; drives nothing by itself, but tags every resource. */
        environment: z.enum(["dev", "staging", "prod", "local"]).default("dev"),
        /** Extra tags for every resource (the provider's defaultTags are not assumed), within AWS's tag limits. */
        tags: tags.default({}),
        /** Log retention of every log group the stack creates. */
        logRetentionDays: retention.default(14),
        api: z
            .object({
                /** Stage-wide steady-state requests per second (at most the account quota). */
                throttlingRateLimit: z.number().positive().max(API_THROTTLING_QUOTA.rateLimit).default(100),
                /** Stage-wide burst (at most the account quota; HTTP APIs do not require burst >= rate). */
                throttlingBurstLimit: z.number().int().positive().max(API_THROTTLING_QUOTA.burstLimit).default(200),
                /** Origins allowed by CORS; "*" allows any origin (no credentials). */
                corsAllowOrigins: z.array(origin).min(1).default(["*"]),
            })
            .strict()
            .prefault({}),
        tables: z
            .object({
                /** Point-in-time recovery (continuous backups) on every table. */
                pointInTimeRecovery: z.boolean().default(false),
                /** Deletion protection on every table. */
                deletionProtection: z.boolean().default(false),
            })
            .strict()
            .prefault({}),
        events: z
            .object({
                /**
                 * Days the bus archive keeps events; 0 means no archive. EventBridge sets no maximum, but
                 * the analytics consumer rejects events older than about 30 days, so a replay of older
                 * events counts nothing (they end in the DLQ as poison).
                 */
                archiveRetentionDays: z.number().int().min(0).default(0),
                /** Seconds EventBridge keeps retrying a failed delivery to a route's queue (60..86400). */
                deliveryMaxEventAgeSeconds: z.number().int().min(60).max(86400).default(86400),
                /** Delivery retries before an event goes to the route's target DLQ (0..185). */
                deliveryMaxRetryAttempts: z.number().int().min(0).max(185).default(185),
            })
            .strict()
            .prefault({}),
        functions: z
            .object({
                restaurantQuery: functionSettings(256, 10),
                restaurantStats: functionSettings(256, 10),
                analyticsConsumer: functionSettings(256, 30),
            })
            .strict()
            .prefault({}),
        analyticsQueue: z
            .object({
                /** Receives before a message moves to the DLQ. */
                maxReceiveCount: z.number().int().min(1).max(1000).default(5),
                /** Records per consumer invocation (1..10000). */
                batchSize: z.number().int().min(1).max(10000).default(10),
                /** Seconds the event source mapping waits to fill a batch (0..300). */
                batchingWindowSeconds: z.number().int().min(0).max(300).default(0),
                /** Concurrent consumer invocations the mapping may start (2..1000). */
                maxConcurrency: z.number().int().min(2).max(1000).default(5),
                /** Seconds the source queue keeps a message (60..1209600; the DLQ keeps 14 days, so at most 1209599). */
                retentionSeconds: z.number().int().min(60).max(1209599).default(345600),
                /** Encryption at rest of the queue and its DLQ: SSE-SQS, or a customer-managed KMS key the stack creates. */
                encryption: z.enum(["sqs-managed", "kms"]).default("sqs-managed"),
            })
            .strict()
            .refine((q) => q.batchSize <= 10 || q.batchingWindowSeconds >= 1, {
                message: "must be at least 1 when batchSize is above 10 (Lambda's rule for SQS batches)",
                path: ["batchingWindowSeconds"],
            })
            .prefault({}),
        alarms: z
            .object({
                /** E-mail addresses subscribed to the alarm topic (each must confirm the subscription). */
                emails: z.array(z.email()).default([]),
                /** HTTPS endpoints subscribed to the alarm topic. */
                httpsEndpoints: z.array(z.url({ protocol: /^https$/ })).default([]),
                /** API 5xx responses per minute that page (3 of 5 minutes). */
                apiServerErrorsPerMinute: z.number().int().min(1).default(5),
                /** Percentage of API requests answered 4xx that pages (5 minutes in a row). */
                apiClientErrorRatePercent: z.number().min(1).max(100).default(20),
                /** API p99 latency in milliseconds that pages (5 minutes in a row). */
                apiLatencyP99Ms: z.number().int().min(50).max(30000).default(2000),
                /** Function p99 duration, as a percentage of its timeout, that pages. */
                functionDurationP99PercentOfTimeout: z.number().int().min(10).max(100).default(80),
                /** Visible messages on a processed queue that page (5 minutes in a row). */
                queueDepth: z.number().int().min(1).default(1000),
                /** Age in seconds of a processed queue's oldest message that pages; default derived from retries. */
                queueOldestMessageAgeSeconds: z.number().int().min(60).optional(),
                /** DynamoDB throttle events per minute that page (2 of 3 minutes). */
                tableThrottleEventsPerMinute: z.number().int().min(1).default(1),
                /** RestaurantViewed events the query function failed to publish (PublishFailures) per 5 minutes that page: each one is a lost view. */
                publishFailuresPer5Minutes: z.number().int().min(1).default(1),
                /** Records the analytics consumer found invalid (PoisonRecords) per 5 minutes that page: each one heads for the DLQ. */
                poisonRecordsPer5Minutes: z.number().int().min(1).default(1),
            })
            .strict()
            .prefault({}),
    })
    .strict();

export type StackConfig = z.infer<typeof StackConfigSchema>;

/** A stack config that does not satisfy the schema; the message names every bad key. */
export class StackConfigError extends Error {
    readonly stackName: string;
    readonly problems: string[];
    constructor(stack: string, problems: string[]) {
        super(`Invalid config for stack "${stack}":\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "StackConfigError";
        this.stackName = stack;
        this.problems = problems;
    }
}

/** The keys the config object at `path` takes (so an unknown key's message can list them), unwrapping defaults. */
function knownKeys(path: readonly PropertyKey[]): string[] | undefined {
    const unwrap = (schema: any): any => (schema && schema.def?.type !== "object" && typeof schema.unwrap === "function" ? unwrap(schema.unwrap()) : schema);
    let schema: any = unwrap(StackConfigSchema);
    for (const step of path) schema = unwrap(schema?.shape?.[step as string]);
    return schema?.shape ? Object.keys(schema.shape) : undefined;
}

/** Parses raw values (already JSON-decoded, keyed without the namespace) against the schema. */
export function parseStackConfig(stack: string, raw: Record<string, unknown>): StackConfig {
    const result = StackConfigSchema.safeParse(raw);
    if (result.success) return result.data;
    const problems = result.error.issues.map((issue) => {
        if (issue.code === "unrecognized_keys") {
            const base = [`${PROJECT}:${String(issue.path[0] ?? "")}`, ...issue.path.slice(1).map(String)].join(".");
            const unknown = issue.keys.map((k) => `${issue.path.length ? base + "." : PROJECT + ":"}${k}: unknown key`).join("; ");
            const known = knownKeys(issue.path);
            return known ? `${unknown} (${issue.path.length ? base : `the ${PROJECT}: namespace`} takes ${known.join(", ")})` : unknown;
        }
        const [head, ...rest] = issue.path.map(String);
        const key = [`${PROJECT}:${head}`, ...rest].join(".");
        return `${key}: ${issue.message}`;
    });
    throw new StackConfigError(stack, problems);
}

/**
 * Reads the `bellyfed:*` keys of the running stack's config and validates them. Called first thing
 * in the program, so a bad config fails before any resource is registered.
 */
export function loadStackConfig(): StackConfig {
    const prefix = `${PROJECT}:`;
    const raw: Record<string, unknown> = {};
    const all = pulumi.runtime.allConfig();
    const problems = checkProviderConfig(all);
    for (const [key, value] of Object.entries(all)) {
        if (!key.startsWith(prefix)) continue;
        // Pulumi stores structured values as JSON strings and scalars as plain strings.
        raw[key.slice(prefix.length).replace(/^config:/, "")] = decodeConfigValue(value);
    }
    try {
        const config = parseStackConfig(pulumi.getStack(), raw);
        if (problems.length > 0) throw new StackConfigError(pulumi.getStack(), problems);
        return config;
    } catch (error) {
        if (error instanceof StackConfigError && problems.length > 0 && error.problems !== problems) {
            throw new StackConfigError(pulumi.getStack(), [...problems, ...error.problems]);
        }
        throw error;
    }
}

/** Config namespaces this program reads; a key in any other namespace is most likely a typo. */
export const KNOWN_CONFIG_NAMESPACES = [PROJECT, "aws", "pulumi"];

/** AWS region names: us-east-1, eu-central-2, us-gov-west-1, ap-southeast-5, ... */
const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$/;

/** The keys outside `bellyfed:` that the program relies on: a region, and no misspelt namespace. */
function checkProviderConfig(all: Record<string, string>): string[] {
    const problems: string[] = [];
    const region = all["aws:region"];
    if (region === undefined) problems.push("aws:region: is required (the region every resource is deployed to), e.g. us-east-1");
    else if (!AWS_REGION.test(region)) problems.push(`aws:region: "${region}" is not an AWS region name (e.g. us-east-1)`);
    for (const key of Object.keys(all)) {
        const namespace = key.split(":")[0];
        if (!KNOWN_CONFIG_NAMESPACES.includes(namespace)) {
            problems.push(`${key}: unknown config namespace "${namespace}" (this program reads ${KNOWN_CONFIG_NAMESPACES.map((n) => `${n}:`).join(", ")})`);
        }
    }
    return problems;
}

function decodeConfigValue(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}
