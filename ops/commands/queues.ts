import { GetMetricDataCommand, MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { Ctx } from "../context";
import { discoverQueues, mapLimit, queueAttributes, StackQueue } from "../discovery";
import { EXIT_FAILED, EXIT_OK } from "../errors";
import { duration, table } from "../render";
import { StackSetting, stackQueueDepth } from "../stacks";

export interface QueueThresholds {
    /**
     * Oldest message older than this (seconds) makes a queue unhealthy. Default, per queue: what retries
     * alone explain, maxReceiveCount x visibility timeout + 5 minutes (the ProcessedQueue's age alarm).
     */
    maxAgeSeconds?: number;
    /**
     * This many visible messages or more make a queue unhealthy: the comparison of the queue-depth alarm
     * (GreaterThanOrEqualToThreshold), whose threshold is the default (stackQueueDepth).
     */
    maxDepth: number;
}

export interface QueueReport {
    name: string;
    queueName?: string;
    visible?: number;
    inFlight?: number;
    delayed?: number;
    /** ApproximateAgeOfOldestMessage (CloudWatch, Maximum over the last minutes), seconds. */
    oldestAgeSeconds?: number;
    /** The age threshold applied to this queue. */
    maxAgeSeconds?: number;
    dlq?: { name: string; visible: number; inFlight?: number; oldestAgeSeconds?: number; retentionSeconds?: number };
    targetDlqs: { name: string; visible: number }[];
    healthy: boolean;
    problems: string[];
}

/** The health verdict of one queue: what an operator must look at, in words. */
export function verdict(
    report: Omit<QueueReport, "healthy" | "problems">,
    thresholds: QueueThresholds,
    commandLine: (command: string) => string = (command) => command,
): { healthy: boolean; problems: string[] } {
    const problems: string[] = [];
    // An entry with target DLQs only is a route whose queue could not be found: its target DLQ still counts.
    const routeOnly = !report.queueName && !report.dlq && report.targetDlqs.length > 0;
    if (!report.queueName && !routeOnly) problems.push("no source queue tagged bellyfed:queue-role=source");
    if (!report.dlq && !routeOnly) problems.push("no DLQ tagged bellyfed:queue-role=dlq");
    const dlqDepth = (report.dlq?.visible ?? 0) + (report.dlq?.inFlight ?? 0);
    if (dlqDepth > 0) problems.push(`DLQ holds ${dlqDepth} message(s): run \`${commandLine(`dlq inspect ${report.name}`)}\``);
    const { dlq } = report;
    if (dlq?.oldestAgeSeconds !== undefined && dlq.retentionSeconds && dlq.oldestAgeSeconds > 0.75 * dlq.retentionSeconds) {
        problems.push(`oldest DLQ message is ${duration(dlq.oldestAgeSeconds)} old, close to the DLQ's ${duration(dlq.retentionSeconds)} retention: it will expire`);
    }
    for (const t of report.targetDlqs) if (t.visible > 0) problems.push(`target DLQ ${t.name} holds ${t.visible} event(s) EventBridge could not deliver`);
    const maxAge = thresholds.maxAgeSeconds ?? report.maxAgeSeconds;
    if (report.oldestAgeSeconds !== undefined && maxAge !== undefined && report.oldestAgeSeconds > maxAge) {
        problems.push(`oldest message is ${duration(report.oldestAgeSeconds)} old (> ${duration(maxAge)}): the consumer is not keeping up or is failing`);
    }
    if ((report.visible ?? 0) >= thresholds.maxDepth) problems.push(`${report.visible} messages waiting (>= ${thresholds.maxDepth})`);
    return { healthy: problems.length === 0, problems };
}

const num = (value: string | undefined) => (value === undefined ? undefined : Number(value));

/** How old a message can get from retries alone: maxReceiveCount x visibility timeout + 5 minutes. */
function retriesExplain(attrs: Record<string, string> | undefined): number | undefined {
    const visibility = num(attrs?.VisibilityTimeout);
    let maxReceiveCount: number | undefined;
    try {
        maxReceiveCount = attrs?.RedrivePolicy ? Number(JSON.parse(attrs.RedrivePolicy).maxReceiveCount) : undefined;
    } catch {
        maxReceiveCount = undefined;
    }
    if (visibility === undefined || !maxReceiveCount || !Number.isFinite(maxReceiveCount)) return undefined;
    return maxReceiveCount * visibility + 300;
}

/**
 * Every ProcessedQueue of the stack with its depth, age, DLQ depth and verdict (AWS). `queues`: the
 * stack's queues when already discovered (--watch discovers once).
 */
export async function awsQueueReports(ctx: Ctx, stack: string, thresholds: QueueThresholds, prefix?: string, queues?: StackQueue[]): Promise<QueueReport[]> {
    queues ??= await discoverQueues(ctx, stack, prefix);
    const counts = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"] as const;
    const reports = await mapLimit(
        queues,
        4,
        async (q) => {
            const source = q.source ? await queueAttributes(ctx, q.source.url, [...counts, "VisibilityTimeout", "RedrivePolicy"]) : undefined;
            const dlq = q.dlq ? await queueAttributes(ctx, q.dlq.url, [...counts, "MessageRetentionPeriod"]) : undefined;
            const targets = await Promise.all(q.targetDlqs.map(async (t) => ({ name: t.name, attrs: await queueAttributes(ctx, t.url, ["ApproximateNumberOfMessages"]) })));
            return { q, source, dlq, targets };
        },
    );
    const ages = await oldestAges(
        ctx,
        queues.flatMap((q) => [q.source?.name, q.dlq?.name]).filter((n): n is string => Boolean(n)),
    );
    return reports.map(({ q, source, dlq, targets }) => {
        const base = {
            name: q.name,
            queueName: q.source?.name,
            visible: num(source?.ApproximateNumberOfMessages),
            inFlight: num(source?.ApproximateNumberOfMessagesNotVisible),
            delayed: num(source?.ApproximateNumberOfMessagesDelayed),
            oldestAgeSeconds: q.source ? ages.get(q.source.name) : undefined,
            maxAgeSeconds: thresholds.maxAgeSeconds ?? retriesExplain(source),
            dlq:
                q.dlq && dlq
                    ? {
                          name: q.dlq.name,
                          visible: num(dlq.ApproximateNumberOfMessages) ?? 0,
                          inFlight: num(dlq.ApproximateNumberOfMessagesNotVisible) ?? 0,
                          oldestAgeSeconds: ages.get(q.dlq.name),
                          retentionSeconds: num(dlq.MessageRetentionPeriod),
                      }
                    : undefined,
            targetDlqs: targets.map((t) => ({ name: t.name, visible: num(t.attrs.ApproximateNumberOfMessages) ?? 0 })),
        };
        return { ...base, ...verdict(base, thresholds, (command) => ctx.commandLine(command)) };
    });
}

/**
 * ApproximateAgeOfOldestMessage per queue (AWS/SQS, dimension QueueName, Maximum, 1-minute periods over
 * the last 15 minutes, latest datapoint). SQS publishes it every minute for active queues; a queue with
 * no datapoint has no age to report.
 */
export async function oldestAges(ctx: Ctx, queueNames: string[]): Promise<Map<string, number>> {
    const ages = new Map<string, number>();
    const end = ctx.now();
    const start = new Date(end.getTime() - 15 * 60 * 1000);
    // GetMetricData takes at most 500 queries per call.
    for (let i = 0; i < queueNames.length; i += 500) {
        const chunk = queueNames.slice(i, i + 500);
        const queries: MetricDataQuery[] = chunk.map((name, j) => ({
            Id: `age${i + j}`,
            MetricStat: { Metric: { Namespace: "AWS/SQS", MetricName: "ApproximateAgeOfOldestMessage", Dimensions: [{ Name: "QueueName", Value: name }] }, Period: 60, Stat: "Maximum" },
            ReturnData: true,
        }));
        let token: string | undefined;
        do {
            const page = await ctx.call("cloudwatch:GetMetricData", () =>
                ctx.aws().cloudWatch.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, ScanBy: "TimestampDescending", NextToken: token })),
            );
            for (const result of page.MetricDataResults ?? []) {
                const index = Number(result.Id?.slice(3));
                const name = queueNames[index];
                if (name !== undefined && result.Values?.length && !ages.has(name)) ages.set(name, result.Values[0]);
            }
            token = page.NextToken;
        } while (token);
    }
    return ages;
}

/**
 * The same report from the local runtime's state (no CloudWatch there: no age). The state lists each
 * queue's target DLQs; a runtime that lists them as queues of their own instead is mapped with the
 * offline plan's `rules` output (the graph the runtime was built from).
 */
export async function localQueueReports(ctx: Ctx, thresholdsOf: (stack: string) => QueueThresholds): Promise<{ stack: string; reports: QueueReport[] }> {
    const state = await ctx.local().state();
    const thresholds = thresholdsOf(state.stack);
    const owners = new Map<string, string>(); // target DLQ listed as a queue -> its ProcessedQueue
    if (state.queues.some((q) => !q.dlq && !q.targetDlqs)) {
        try {
            for (const route of (await ctx.plan(state.stack)).outputs.rules ?? []) {
                if (typeof route?.targetDlqName === "string" && typeof route?.queue === "string") owners.set(route.targetDlqName, route.queue);
            }
        } catch {
            // Without the plan, a queue with no DLQ is shown as a target DLQ of its own (the only such queues the stack has).
        }
    }
    const depth = (t: { visible: number; inFlight?: number }) => t.visible + (t.inFlight ?? 0);
    const sources = state.queues.filter((q) => q.dlq || q.targetDlqs || !owners.has(q.name));
    const reports = sources.map((q) => {
        const name = q.logicalName ?? q.name;
        const listed = state.queues.filter((t) => !t.dlq && owners.get(t.name) === name);
        const targets = [...(q.targetDlqs ?? []), ...listed].map((t) => ({ name: t.name, visible: depth(t) }));
        const base =
            q.dlq || q.targetDlqs
                ? {
                      name,
                      queueName: q.name,
                      visible: q.visible,
                      inFlight: q.inFlight,
                      delayed: q.delayed,
                      dlq: q.dlq ? { name: q.dlq.name, visible: q.dlq.visible, inFlight: q.dlq.inFlight } : undefined,
                      targetDlqs: targets,
                  }
                : { name, targetDlqs: [{ name: q.name, visible: depth(q) }] };
        return { ...base, ...verdict(base, thresholds, (command) => ctx.commandLine(command)) };
    });
    return { stack: state.stack, reports };
}

export function renderQueues(stack: string, reports: QueueReport[], at: Date, depth?: StackSetting<number>): string {
    const rows = reports.map((r) => [
        r.name,
        r.queueName,
        r.visible,
        r.inFlight,
        r.delayed,
        duration(r.oldestAgeSeconds),
        r.dlq ? r.dlq.visible + (r.dlq.inFlight ?? 0) : undefined,
        r.targetDlqs.length ? r.targetDlqs.reduce((n, t) => n + t.visible, 0) : undefined,
        r.healthy ? "OK" : "UNHEALTHY",
    ]);
    const lines = [
        `Queues of stack ${stack} at ${at.toISOString()}`,
        "",
        table(["QUEUE", "SQS NAME", "VISIBLE", "IN FLIGHT", "DELAYED", "OLDEST", "DLQ", "TARGET DLQ", "HEALTH"], rows),
    ];
    const problems = reports.flatMap((r) => r.problems.map((p) => `  ${r.name}: ${p}`));
    if (problems.length) lines.push("", "Problems:", ...problems);
    if (depth) lines.push("", `(a queue with ${depth.value} or more visible messages is unhealthy: ${depth.source})`);
    return lines.join("\n");
}

export interface QueuesArgs {
    watch: boolean;
    intervalSeconds: number;
    thresholds: { maxAgeSeconds?: number; maxDepth?: number };
    prefix?: string;
}

/** Queue errors that mean a queue discovered earlier is gone (deleted, or replaced by a deployment). */
function queueGone(error: unknown): boolean {
    const name = (error as { name?: string })?.name;
    return name === "QueueDoesNotExist" || name === "AWS.SimpleQueueService.NonExistentQueue";
}

export async function queuesCommand(ctx: Ctx, args: QueuesArgs): Promise<number> {
    const depths = new Map<string, StackSetting<number>>();
    // --max-depth, else the stack's queue-depth alarm threshold (read once per stack).
    const depthOf = (stack: string): StackSetting<number> => {
        if (args.thresholds.maxDepth !== undefined) return { value: args.thresholds.maxDepth, source: "--max-depth" };
        if (!depths.has(stack)) depths.set(stack, stackQueueDepth(ctx.projectDir, stack));
        return depths.get(stack)!;
    };
    const thresholdsOf = (stack: string): QueueThresholds => ({ maxAgeSeconds: args.thresholds.maxAgeSeconds, maxDepth: depthOf(stack).value });
    // Discovery (ListQueues, tags of every queue, the bus and its rules) runs once; each round only reads counts.
    let discovered: StackQueue[] | undefined;
    const awsRound = async (stack: string): Promise<QueueReport[]> => {
        const cached = discovered;
        discovered ??= await discoverQueues(ctx, stack, args.prefix);
        try {
            return await awsQueueReports(ctx, stack, thresholdsOf(stack), args.prefix, discovered);
        } catch (error) {
            if (!cached || !queueGone(error)) throw error;
            // A queue found in an earlier round is gone: find the stack's queues again.
            discovered = await discoverQueues(ctx, stack, args.prefix);
            return awsQueueReports(ctx, stack, thresholdsOf(stack), args.prefix, discovered);
        }
    };
    let code = EXIT_OK;
    for (let round = 0; ; round++) {
        const { stack, reports } = ctx.opts.local
            ? await localQueueReports(ctx, thresholdsOf)
            : { stack: ctx.requireStack("queues"), reports: await awsRound(ctx.requireStack("queues")) };
        const at = ctx.now();
        const depth = depthOf(stack);
        code = reports.every((r) => r.healthy) ? EXIT_OK : EXIT_FAILED;
        if (ctx.opts.json) {
            const doc = { stack, at: at.toISOString(), healthy: code === EXIT_OK, thresholds: { maxDepth: depth.value, maxDepthSource: depth.source, maxAgeSeconds: args.thresholds.maxAgeSeconds ?? null }, queues: reports };
            // --watch --json prints one compact document per line (NDJSON); otherwise one pretty document.
            if (args.watch) ctx.out(JSON.stringify(doc));
            else ctx.json(doc);
        } else {
            if (args.watch && ctx.isTTY) (ctx.io.stdout ?? process.stdout).write("\x1b[2J\x1b[H");
            ctx.out(renderQueues(stack, reports, at, depth));
            if (args.watch) ctx.out(`\n(refreshing every ${args.intervalSeconds}s; Ctrl-C to stop)`);
        }
        if (!args.watch || ctx.aborted) return code;
        await ctx.sleep(args.intervalSeconds * 1000);
        if (ctx.aborted) return code;
    }
}
