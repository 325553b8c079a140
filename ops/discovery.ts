/**
 * Finds a stack's resources in AWS by their tags (the tagging contract of the components), never
 * from names typed by hand:
 * - queues: ListQueues + ListQueueTags; a queue belongs to ProcessedQueue P of stack S when it carries
 *   `stack=S` and `bellyfed:processed-queue=P`; `bellyfed:queue-role` says source, dlq or target-dlq;
 * - the bus: ListEventBuses + ListTagsForResource, the bus tagged `stack=S` (or `--bus`);
 * - rules: ListRules on the bus + ListTagsForResource; a rule is declared by the stack when it carries
 *   `stack=S` and a `bellyfed:rule=<bus component>/<route>` tag. Which code declares it comes from the
 *   offline plan (plan/runStack.ts), which maps that tag to the declaring component and route.
 */
import { ListEventBusesCommand, ListRulesCommand, ListTagsForResourceCommand, ListTargetsByRuleCommand, Rule, Target } from "@aws-sdk/client-eventbridge";
import { GetQueueAttributesCommand, ListQueuesCommand, ListQueueTagsCommand, QueueAttributeName } from "@aws-sdk/client-sqs";
import type { CapturedResource, ProgramRun } from "../plan/engine";
import { Ctx } from "./context";
import { EXIT_USAGE, OpsError } from "./errors";

export const TAG_STACK = "stack";
export const TAG_PROCESSED_QUEUE = "bellyfed:processed-queue";
export const TAG_QUEUE_ROLE = "bellyfed:queue-role";
export const TAG_RULE = "bellyfed:rule";

export interface QueueRef {
    url: string;
    name: string;
}

/** One ProcessedQueue of a stack, as found by its tags. */
export interface StackQueue {
    /** The ProcessedQueue component's name (`bellyfed:processed-queue`). */
    name: string;
    source?: QueueRef;
    dlq?: QueueRef;
    /** DLQs of the EventBridge targets that deliver to this queue. */
    targetDlqs: QueueRef[];
}

/** Maps items with at most `limit` calls in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await fn(items[i]);
        }
    });
    await Promise.all(workers);
    return results;
}

export function queueNameOf(url: string): string {
    return url.replace(/\/+$/, "").split("/").pop() ?? url;
}

/** Every ProcessedQueue of the stack, found by tags. `prefix` narrows ListQueues (QueueNamePrefix). */
export async function discoverQueues(ctx: Ctx, stack: string, prefix?: string): Promise<StackQueue[]> {
    const { sqs } = ctx.aws();
    const urls: string[] = [];
    let token: string | undefined;
    do {
        const page = await ctx.call("sqs:ListQueues", () => sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 1000, NextToken: token })));
        urls.push(...(page.QueueUrls ?? []));
        token = page.NextToken;
    } while (token);
    const tagged = await mapLimit(urls, 8, async (url) => {
        const { Tags } = await ctx.call("sqs:ListQueueTags", () => sqs.send(new ListQueueTagsCommand({ QueueUrl: url })));
        return { url, tags: Tags ?? {} };
    });
    const byName = new Map<string, StackQueue>();
    for (const { url, tags } of tagged) {
        const component = tags[TAG_PROCESSED_QUEUE];
        if (tags[TAG_STACK] !== stack || !component) continue;
        const entry = byName.get(component) ?? { name: component, targetDlqs: [] };
        byName.set(component, entry);
        const ref = { url, name: queueNameOf(url) };
        const role = tags[TAG_QUEUE_ROLE];
        if (role === "source") entry.source = ref;
        else if (role === "dlq") entry.dlq = ref;
        else if (role === "target-dlq") entry.targetDlqs.push(ref);
    }
    if (byName.size === 0) {
        throw new OpsError(
            `No queues of stack "${stack}" found: no queue in this account and region carries the tags ${TAG_STACK}=${stack} and ${TAG_PROCESSED_QUEUE}` +
                `${prefix ? ` (with name prefix "${prefix}")` : ""}. Is the stack deployed here? Check --region and your AWS profile`,
            EXIT_USAGE,
        );
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export type QueueRole = "source" | "dlq" | "target-dlq";

/** Resolves `<queue>`: a ProcessedQueue name, or the name/URL of its queue, DLQ or target DLQ. */
export function resolveQueue(queues: StackQueue[], given: string, command: string): { queue: StackQueue; named: QueueRole; ref?: QueueRef } {
    for (const queue of queues) {
        if (queue.name === given) return { queue, named: "source", ref: queue.source };
        const matches = (ref?: QueueRef) => ref !== undefined && (ref.name === given || ref.url === given);
        if (matches(queue.source)) return { queue, named: "source", ref: queue.source };
        if (matches(queue.dlq)) return { queue, named: "dlq", ref: queue.dlq };
        const target = queue.targetDlqs.find(matches);
        if (target) return { queue, named: "target-dlq", ref: target };
    }
    throw new OpsError(
        `Unknown queue "${given}" for \`${command}\`: the stack's ProcessedQueues are ${queues.map((q) => q.name).join(", ") || "none"} ` +
            "(a ProcessedQueue name, or the name or URL of its queue or DLQ)",
        EXIT_USAGE,
    );
}

/** GetQueueAttributes as a plain record. */
export async function queueAttributes(ctx: Ctx, url: string, names: QueueAttributeName[]): Promise<Record<string, string>> {
    const { Attributes } = await ctx.call("sqs:GetQueueAttributes", () => ctx.aws().sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names })));
    return (Attributes ?? {}) as Record<string, string>;
}

/** The stack's bus: `--bus`, else the one bus tagged stack=<stack>. */
export async function discoverBus(ctx: Ctx, stack: string, given?: string): Promise<string> {
    if (given) return given;
    const { eventBridge } = ctx.aws();
    const buses: { Name?: string; Arn?: string }[] = [];
    let token: string | undefined;
    do {
        const page = await ctx.call("events:ListEventBuses", () => eventBridge.send(new ListEventBusesCommand({ NextToken: token, Limit: 100 })));
        buses.push(...(page.EventBuses ?? []));
        token = page.NextToken;
    } while (token);
    const custom = buses.filter((b) => b.Name && b.Arn && b.Name !== "default");
    const tagged = await mapLimit(custom, 8, async (bus) => ({ bus, tags: await resourceTags(ctx, bus.Arn!) }));
    const mine = tagged.filter((t) => t.tags[TAG_STACK] === stack).map((t) => t.bus.Name!);
    if (mine.length === 1) return mine[0];
    if (mine.length === 0) {
        throw new OpsError(`No event bus of stack "${stack}" found (no bus tagged ${TAG_STACK}=${stack} in this account and region); pass --bus NAME or check --region`, EXIT_USAGE);
    }
    throw new OpsError(`Several event buses are tagged ${TAG_STACK}=${stack}: ${mine.join(", ")}; pass --bus NAME`, EXIT_USAGE);
}

export async function resourceTags(ctx: Ctx, arn: string): Promise<Record<string, string>> {
    const { Tags } = await ctx.call("events:ListTagsForResource", () => ctx.aws().eventBridge.send(new ListTagsForResourceCommand({ ResourceARN: arn })));
    return Object.fromEntries((Tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? ""]));
}

export interface BusRule {
    rule: Rule;
    tags: Record<string, string>;
    targets: Target[];
}

/** Every rule on the bus with its tags and targets. */
export async function discoverRules(ctx: Ctx, bus: string): Promise<BusRule[]> {
    const { eventBridge } = ctx.aws();
    const rules: Rule[] = [];
    let token: string | undefined;
    do {
        const page = await ctx.call("events:ListRules", () => eventBridge.send(new ListRulesCommand({ EventBusName: bus, NextToken: token, Limit: 100 })));
        rules.push(...(page.Rules ?? []));
        token = page.NextToken;
    } while (token);
    return mapLimit(rules, 5, async (rule) => ({
        rule,
        tags: rule.Arn ? await resourceTags(ctx, rule.Arn) : {},
        targets: await listTargets(ctx, bus, rule.Name!),
    }));
}

export async function listTargets(ctx: Ctx, bus: string, rule: string): Promise<Target[]> {
    const targets: Target[] = [];
    let token: string | undefined;
    do {
        const page = await ctx.call("events:ListTargetsByRule", () =>
            ctx.aws().eventBridge.send(new ListTargetsByRuleCommand({ Rule: rule, EventBusName: bus, NextToken: token, Limit: 100 })),
        );
        targets.push(...(page.Targets ?? []));
        token = page.NextToken;
    } while (token);
    return targets;
}

/** Where the code declares a rule, found in the offline plan by its `bellyfed:rule` tag. */
export interface RuleDeclaration {
    /** The `bellyfed:rule` tag value: `<bus component>/<route name>`. */
    tag: string;
    /** The EventRule resource in the plan, if the current code still declares it. */
    resource?: { name: string; urn: string };
    /** The component that creates it (its parent in the plan). */
    component?: { type: string; name: string };
}

export function findDeclaration(run: ProgramRun<unknown>, tag: string): RuleDeclaration {
    const rule = run.resources.find((r) => r.type === "aws:cloudwatch/eventRule:EventRule" && ruleTag(r) === tag);
    if (!rule) return { tag };
    const parent = run.resources.find((r) => r.urn === rule.parent);
    return { tag, resource: { name: rule.name, urn: rule.urn }, component: parent ? { type: parent.type, name: parent.name } : undefined };
}

function ruleTag(resource: CapturedResource): string | undefined {
    return resource.inputs?.tags?.[TAG_RULE] ?? resource.outputs?.tags?.[TAG_RULE];
}

/** "route analytics of bellyfed:events:EventBus "platform-bus" (rule resource ...)". */
export function describeDeclaration(stack: string, declaration: RuleDeclaration): string {
    const [bus, route] = declaration.tag.split("/");
    if (!declaration.resource) {
        return `tagged ${TAG_RULE}=${declaration.tag} (bus component "${bus}", route "${route ?? "?"}"), but the ${stack} stack's code no longer declares it: \`pulumi up\` will remove it`;
    }
    const owner = declaration.component ? `${declaration.component.type} "${declaration.component.name}"` : "the stack program";
    return `declared by route "${route ?? declaration.tag}" of ${owner} in the ${stack} stack's program (stacks/platform.ts; EventRule resource "${declaration.resource.name}")`;
}
