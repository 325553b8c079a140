/**
 * Finds a stack's resources in AWS by their tags (the tags stacks/platform.ts gives every resource,
 * `project=bellyfed` and `stack=<stack>`, plus the components' own), never from names typed by hand:
 * - queues: ListQueues + ListQueueTags; a queue belongs to ProcessedQueue P of stack S when it carries
 *   `project=bellyfed`, `stack=S` and `bellyfed:processed-queue=P`; `bellyfed:queue-role` says source,
 *   dlq or target-dlq. Another project's resources tagged with the same stack name are never taken;
 * - the bus: ListEventBuses + ListTagsForResource, the bus tagged `project=bellyfed` and `stack=S`
 *   (or `--bus`, a name or an ARN);
 * - rules: ListRules on the bus + ListTagsForResource; a rule is declared by the stack when it carries
 *   `stack=S` and a `bellyfed:rule=<bus component>/<route>` tag. Which code declares it comes from the
 *   offline plan (plan/runStack.ts), which maps that tag to the declaring component and route.
 */
import { EventBridgeClient, ListEventBusesCommand, ListRulesCommand, ListTagsForResourceCommand, ListTargetsByRuleCommand, Rule, Target } from "@aws-sdk/client-eventbridge";
import { GetQueueAttributesCommand, ListQueuesCommand, ListQueueTagsCommand, QueueAttributeName } from "@aws-sdk/client-sqs";
import { Ctx } from "./context";
import { EXIT_USAGE, OpsError } from "./errors";
import { PlanResource, PlanRun } from "./plan";

/** The project tag stacks/platform.ts puts on every resource of the platform. */
export const TAG_PROJECT = "project";
export const PROJECT = "bellyfed";
export const TAG_STACK = "stack";
export const TAG_PROCESSED_QUEUE = "bellyfed:processed-queue";
export const TAG_QUEUE_ROLE = "bellyfed:queue-role";
export const TAG_RULE = "bellyfed:rule";
/** On a route's target DLQ: the route's `<bus component>/<route>` (the same value as the rule's TAG_RULE). */
export const TAG_ROUTE = "bellyfed:route";

export interface QueueRef {
    url: string;
    name: string;
    /** For a target DLQ: the route (`<bus component>/<route>`) whose events it keeps. */
    route?: string;
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

/** Whether a resource's tags say it belongs to this project's stack (not merely to a stack of that name). */
export function ofStack(tags: Record<string, string>, stack: string): boolean {
    return tags[TAG_PROJECT] === PROJECT && tags[TAG_STACK] === stack;
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
    const routeDlqs: QueueRef[] = [];
    for (const { url, tags } of tagged) {
        if (!ofStack(tags, stack)) continue;
        const component = tags[TAG_PROCESSED_QUEUE];
        const role = tags[TAG_QUEUE_ROLE];
        const ref: QueueRef = { url, name: queueNameOf(url), ...(tags[TAG_ROUTE] ? { route: tags[TAG_ROUTE] } : {}) };
        if (!component) {
            // A route's target DLQ names its route, not the queue: the route's rule says which queue it feeds.
            if (role === "target-dlq" && ref.route) routeDlqs.push(ref);
            continue;
        }
        const entry = byName.get(component) ?? { name: component, targetDlqs: [] };
        byName.set(component, entry);
        if (role === "source") entry.source = ref;
        else if (role === "dlq") entry.dlq = ref;
        else if (role === "target-dlq") entry.targetDlqs.push(ref);
    }
    if (routeDlqs.length) await attachRouteDlqs(ctx, stack, byName, routeDlqs);
    if (byName.size === 0) {
        throw new OpsError(
            `No queues of stack "${stack}" found: no queue in this account and region carries the tags ${TAG_PROJECT}=${PROJECT}, ${TAG_STACK}=${stack} and ${TAG_PROCESSED_QUEUE}` +
                `${prefix ? ` (with name prefix "${prefix}")` : ""}. Is the stack deployed here? Check --region and your AWS profile`,
            EXIT_USAGE,
        );
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Attaches target DLQs tagged with their route to the ProcessedQueue the route delivers to: the rule
 * tagged with that route (on the stack's bus) has a target whose ARN is the queue's. A target DLQ that
 * cannot be attached is still listed, under its route's name, so nothing goes unseen.
 */
async function attachRouteDlqs(ctx: Ctx, stack: string, byName: Map<string, StackQueue>, routeDlqs: QueueRef[]): Promise<void> {
    let rules: BusRule[] = [];
    try {
        rules = await discoverRules(ctx, await discoverBus(ctx, stack));
    } catch (error) {
        if (!(error instanceof OpsError)) throw error;
        ctx.err(`note: cannot tell which queues the target DLQs ${routeDlqs.map((r) => r.name).join(", ")} belong to: ${error.message}`);
    }
    const queues = [...byName.values()];
    for (const ref of routeDlqs) {
        const rule = rules.find((r) => r.tags[TAG_RULE] === ref.route);
        const target = rule?.targets.find((t) => t.DeadLetterConfig?.Arn?.split(":").pop() === ref.name) ?? rule?.targets[0];
        const queueName = target?.Arn?.split(":").pop();
        const owner = queues.find((q) => q.source?.name === queueName);
        if (owner) owner.targetDlqs.push(ref);
        else {
            const entry = byName.get(ref.route!) ?? { name: ref.route!, targetDlqs: [] };
            byName.set(ref.route!, entry);
            entry.targetDlqs.push(ref);
        }
    }
}

export type QueueRole = "source" | "dlq" | "target-dlq";

/** Resolves `<queue>`: a ProcessedQueue name, or the name/URL of its queue, DLQ or target DLQ. */
export function resolveQueue(queues: StackQueue[], given: string, command: string): { queue: StackQueue; named: QueueRole; ref?: QueueRef } {
    for (const queue of queues) {
        if (queue.name === given) return { queue, named: "source", ref: queue.source };
        const matches = (ref?: QueueRef) => ref !== undefined && (ref.name === given || ref.url === given || ref.route === given);
        if (matches(queue.source)) return { queue, named: "source", ref: queue.source };
        if (matches(queue.dlq)) return { queue, named: "dlq", ref: queue.dlq };
        const target = queue.targetDlqs.find(matches);
        if (target) return { queue, named: "target-dlq", ref: target };
    }
    throw new OpsError(
        `Unknown queue "${given}" for \`${command}\`: the stack's ProcessedQueues are ${queues.map((q) => q.name).join(", ") || "none"} ` +
            "(a ProcessedQueue name, the name or URL of its queue or DLQ, or a route for its target DLQ)",
        EXIT_USAGE,
    );
}

/** GetQueueAttributes as a plain record. */
export async function queueAttributes(ctx: Ctx, url: string, names: QueueAttributeName[]): Promise<Record<string, string>> {
    const { Attributes } = await ctx.call("sqs:GetQueueAttributes", () => ctx.aws().sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names })));
    return (Attributes ?? {}) as Record<string, string>;
}

/** The name of a bus given as a name or an ARN (`arn:aws:events:<region>:<account>:event-bus/<name>`). */
export function busNameOf(given: string): string {
    const arn = /^arn:[^:]+:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(given);
    return arn ? arn[1] : given;
}

/**
 * The stack's bus, as a name (CloudWatch's EventBusName dimension takes names only): `--bus` (a name
 * or an ARN), else the one bus tagged project=bellyfed and stack=<stack>.
 */
export async function discoverBus(ctx: Ctx, stack: string, given?: string): Promise<string> {
    if (given) return busNameOf(given);
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
    const mine = tagged.filter((t) => ofStack(t.tags, stack)).map((t) => t.bus.Name!);
    if (mine.length === 1) return mine[0];
    const wanted = `${TAG_PROJECT}=${PROJECT} and ${TAG_STACK}=${stack}`;
    if (mine.length === 0) {
        const others = tagged.filter((t) => t.tags[TAG_STACK] === stack).map((t) => `${t.bus.Name} (${TAG_PROJECT}=${t.tags[TAG_PROJECT] ?? "none"})`);
        throw new OpsError(
            `No event bus of stack "${stack}" found (no bus tagged ${wanted} in this account and region)` +
                `${others.length ? `; ${others.join(", ")} carr${others.length === 1 ? "ies" : "y"} ${TAG_STACK}=${stack} but belong${others.length === 1 ? "s" : ""} to another project` : ""}` +
                "; pass --bus NAME or check --region",
            EXIT_USAGE,
        );
    }
    throw new OpsError(`Several event buses are tagged ${wanted}: ${mine.join(", ")}; pass --bus NAME`, EXIT_USAGE);
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
    const rules: Rule[] = [];
    for await (const page of rulePages(ctx, bus)) rules.push(...page);
    return mapLimit(rules, 5, async (rule) => ({
        rule,
        tags: rule.Arn ? await resourceTags(ctx, rule.Arn) : {},
        targets: await listTargets(ctx, bus, rule.Name!),
    }));
}

/**
 * ListRules on the bus, one page (up to 100 rules) at a time, so that a caller looking for one rule
 * can stop at the page that has it. `namePrefix` narrows the listing; `client` is another EventBridge
 * than the AWS one (the local runtime's endpoint).
 */
export async function* rulePages(ctx: Ctx, bus: string, options: { namePrefix?: string; client?: EventBridgeClient } = {}): AsyncGenerator<Rule[]> {
    let token: string | undefined;
    do {
        const page = await ctx.call("events:ListRules", () => (options.client ?? ctx.aws().eventBridge).send(new ListRulesCommand({ EventBusName: bus, NamePrefix: options.namePrefix, NextToken: token, Limit: 100 })));
        yield page.Rules ?? [];
        token = page.NextToken;
    } while (token);
}

/** Every target of a rule (ListTargetsByRule, every page); `client` as for {@link rulePages}. */
export async function listTargets(ctx: Ctx, bus: string, rule: string, client?: EventBridgeClient): Promise<Target[]> {
    const targets: Target[] = [];
    let token: string | undefined;
    do {
        const page = await ctx.call("events:ListTargetsByRule", () => (client ?? ctx.aws().eventBridge).send(new ListTargetsByRuleCommand({ Rule: rule, EventBusName: bus, NextToken: token, Limit: 100 })));
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
    /** The components that create it, nearest first (e.g. the EventRoute, then the EventBus). */
    components: { type: string; name: string }[];
}

export function findDeclaration(run: PlanRun, tag: string): RuleDeclaration {
    const rule = run.resources.find((r) => r.type === "aws:cloudwatch/eventRule:EventRule" && ruleTag(r) === tag);
    if (!rule) return { tag, components: [] };
    const components: RuleDeclaration["components"] = [];
    for (let parent = run.resources.find((r) => r.urn === rule.parent); parent; parent = run.resources.find((r) => r.urn === parent!.parent)) {
        components.push({ type: parent.type, name: parent.name });
    }
    return { tag, resource: { name: rule.name, urn: rule.urn }, components };
}

function ruleTag(resource: PlanResource): string | undefined {
    return resource.inputs?.tags?.[TAG_RULE] ?? resource.outputs?.tags?.[TAG_RULE];
}

/** `route "restaurant-viewed" of the bus "platform-bus": bellyfed:events:EventRoute "..." in bellyfed:events:EventBus "..." (...)`. */
export function describeDeclaration(stack: string, declaration: RuleDeclaration): string {
    const slash = declaration.tag.indexOf("/");
    const bus = slash < 0 ? declaration.tag : declaration.tag.slice(0, slash);
    const route = slash < 0 ? "?" : declaration.tag.slice(slash + 1);
    if (!declaration.resource) {
        return `tagged ${TAG_RULE}=${declaration.tag} (route "${route}" of the bus component "${bus}"), but the ${stack} stack's code no longer declares it: \`pulumi up\` will remove it`;
    }
    const chain = declaration.components.map((c) => `${c.type} "${c.name}"`).join(" in ") || "the stack program";
    return `declared by route "${route}" of the bus "${bus}": ${chain}, composed in the ${stack} stack's program (stacks/platform.ts; EventRule resource "${declaration.resource.name}")`;
}
