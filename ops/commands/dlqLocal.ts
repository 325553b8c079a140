/**
 * Which DLQ a `dlq` command works on against the local runtime (--local), from `GET /_local/state`:
 * the same `<queue>` forms as on AWS (discovery.ts resolveQueue): a ProcessedQueue name, the name,
 * URL or ARN of its queue, DLQ or target DLQ, or a route (`<bus component>/<route>`) for the route's
 * target DLQ.
 */
import { Ctx } from "../context";
import { queueNameOf } from "../discovery";
import { EXIT_USAGE, OpsError } from "../errors";
import { LocalDlq, LocalState } from "../local";

/** The local queue a `dlq` command works on and which of its DLQs: its SQS DLQ, or a target DLQ (by name). */
export interface LocalDlqPick {
    queue: LocalState["queues"][number];
    dlq: string;
    /** Set when the DLQ is the EventBridge target DLQ of a route delivering to the queue. */
    targetDlq?: string;
}

/** A queue name from a queue URL (`https://…/<account>/<name>`) or ARN (`arn:aws:sqs:…:<name>`); anything else as given. */
function sqsNameOf(given: string): string {
    if (/^https?:\/\//.test(given)) return queueNameOf(given);
    const arn = /^arn:[^:]+:sqs:[^:]*:[^:]*:(.+)$/.exec(given);
    return arn ? arn[1] : given;
}

/**
 * The target DLQ of a route `<bus component>/<route>`. The route's rule is the state's rule whose
 * logical name is `<bus component>-<route>` (components/eventBus.ts names the EventRoute so, and its
 * rule and `<route component>-target-dlq` after it); when no target DLQ carries that name, the offline
 * plan's `rules` output (route -> targetDlqName) decides, in a checkout.
 */
async function routeTargetDlq(ctx: Ctx, state: LocalState, route: string): Promise<string | undefined> {
    const [bus, name] = route.split("/");
    const rule = state.rules.find((r) => r.logicalName === `${bus}-${name}`);
    const targetDlqs = state.queues.flatMap((q) => (q.targetDlqs ?? []).map((t) => t.name));
    if (rule?.logicalName) {
        const named = targetDlqs.filter((t) => t.startsWith(`${rule.logicalName}-target-dlq`));
        if (named.length === 1) return named[0];
    }
    try {
        const routes: { name?: unknown; targetDlqName?: unknown }[] = (await ctx.plan(state.stack)).outputs.rules ?? [];
        const planned = routes.find((r) => r.name === route)?.targetDlqName;
        return typeof planned === "string" && targetDlqs.includes(planned) ? planned : undefined;
    } catch {
        return undefined; // no plan here (an installed package): the route is unknown
    }
}

/** As resolveDlq does on AWS: the queue `given` names and which of its DLQs (`targetDlq`: its EventBridge target DLQ). */
export async function findLocalDlq(ctx: Ctx, state: LocalState, given: string, command: string, targetDlq = false): Promise<LocalDlqPick> {
    const name = sqsNameOf(given);
    const route = /^[^/:]+\/[^/]+$/.test(given) ? await routeTargetDlq(ctx, state, given) : undefined;
    const named = (t: { name: string }) => t.name === name || t.name === route;
    const queue = state.queues.find(
        (q) => q.name === name || q.logicalName === given || q.url === given || q.arn === given || q.dlq?.name === name || (q.targetDlqs ?? []).some(named),
    );
    if (!queue) {
        const names = state.queues.map((q) => (q.logicalName && q.logicalName !== q.name ? `${q.logicalName} (${q.name})` : q.name));
        const routes = state.rules.filter((r) => r.logicalName).map((r) => r.logicalName);
        throw new OpsError(
            `Unknown queue "${given}" for \`${command}\`: the local runtime's queues are ${names.join(", ") || "none"} ` +
                `(a queue's name, logical name, URL or ARN, its DLQ's or target DLQ's name, or a route <bus>/<route>${routes.length ? `; its rules: ${routes.join(", ")}` : ""})`,
            EXIT_USAGE,
        );
    }
    const targets = queue.targetDlqs ?? [];
    const target = targets.find(named);
    if (target) return { queue, dlq: target.name, targetDlq: target.name };
    if (targetDlq) {
        if (targets.length === 1) return { queue, dlq: targets[0].name, targetDlq: targets[0].name };
        if (targets.length === 0) throw new OpsError(`Local queue "${queue.name}" has no EventBridge target DLQ (no route delivers to it)`);
        throw new OpsError(`Local queue "${queue.name}" has ${targets.length} target DLQs, one per route: name one instead of the queue: ${targets.map((t) => t.name).join(", ")}`, EXIT_USAGE);
    }
    if (!queue.dlq) throw new OpsError(`Not a DLQ: local queue "${queue.name}" has no dead-letter queue`);
    return { queue, dlq: queue.dlq.name };
}

/** Reads the picked DLQ from the local runtime, making sure it answered for that DLQ. */
export async function readLocalDlq(ctx: Ctx, pick: LocalDlqPick): Promise<LocalDlq> {
    const dlq = await ctx.local().dlq(pick.queue.name, pick.targetDlq);
    if (pick.targetDlq && dlq.dlq !== pick.targetDlq) {
        throw new OpsError(
            `The local runtime at ${ctx.opts.local} answered with ${dlq.dlq}, not the target DLQ ${pick.targetDlq}: it does not support target DLQs ` +
                "(GET /_local/queues/{name}/dlq?target=...); restart it from this checkout",
            EXIT_USAGE,
        );
    }
    return dlq;
}
