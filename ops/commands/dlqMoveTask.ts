/**
 * `dlq redrive` by an SQS message move task: start it once, find it again in ListMessageMoveTasks and
 * show its progress until it ends.
 *
 * ListMessageMoveTasks returns a task's TaskHandle only while it is RUNNING, so a task that has ended
 * is recognised by its StartedTimestamp instead: ours is a task that was not listed before we started
 * it, started no earlier than we did (less a clock-skew allowance). Never "the first task listed",
 * which can be an older one.
 */
import { ListMessageMoveTasksCommand, ListMessageMoveTasksResultEntry, StartMessageMoveTaskCommand } from "@aws-sdk/client-sqs";
import { Ctx } from "../context";
import { QueueRef } from "../discovery";
import { EXIT_FAILED, EXIT_OK, OpsError, OutcomeUnknownError } from "../errors";

/** How far the local clock may run ahead of SQS's when matching our task by its start time. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Progress checks in a row that do not find our task before the command gives up watching it. */
export const MAX_UNLISTED_CHECKS = 5;

export interface MoveTaskPlan {
    dlq: QueueRef;
    source: QueueRef;
    dlqArn: string;
    sourceArn: string;
    approximate: number;
    /** StartedTimestamps of the tasks ListMessageMoveTasks listed before we started ours. */
    earlier: Set<number>;
}

export interface MoveTaskArgs {
    dryRun: boolean;
    maxPerSecond?: number;
    pollSeconds: number;
}

export async function listMoveTasks(ctx: Ctx, sourceArn: string, maxResults = 10): Promise<ListMessageMoveTasksResultEntry[]> {
    const { Results } = await ctx.call("sqs:ListMessageMoveTasks", () => ctx.aws().sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: maxResults })));
    return Results ?? [];
}

/** Our task among the listed ones: by handle while it runs, else the newest task started since `startedAt` that was not listed before. */
export function findOurTask(tasks: ListMessageMoveTasksResultEntry[], handle: string | undefined, earlier: Set<number>, startedAt: number): ListMessageMoveTasksResultEntry | undefined {
    const byHandle = handle ? tasks.find((t) => t.TaskHandle === handle) : undefined;
    if (byHandle) return byHandle;
    const started = (t: ListMessageMoveTasksResultEntry) => Number(t.StartedTimestamp ?? NaN);
    return tasks
        .filter((t) => Number.isFinite(started(t)) && started(t) >= startedAt - CLOCK_SKEW_MS && !earlier.has(started(t)))
        .filter((t) => !handle || !t.TaskHandle) // a running task with another handle is not ours
        .sort((a, b) => started(b) - started(a))[0];
}

export function startedAtText(task: ListMessageMoveTasksResultEntry): string {
    return task.StartedTimestamp ? new Date(Number(task.StartedTimestamp)).toISOString() : "at an unknown time";
}

/**
 * Starts the move task (StartMessageMoveTask is never sent twice: after an unknown outcome the task
 * list says whether it started) and follows it until it is no longer RUNNING or CANCELLING.
 */
export async function runMoveTask(ctx: Ctx, plan: MoveTaskPlan, args: MoveTaskArgs): Promise<number> {
    const { dlq, source } = plan;
    const rate = args.maxPerSecond ? `${args.maxPerSecond} messages/s` : "a rate SQS chooses";
    if (args.dryRun || plan.approximate === 0) {
        const summary = plan.approximate === 0 ? `${dlq.name} is empty: nothing to redrive` : `would start a message move task from ${dlq.name} to ${source.name} for ~${plan.approximate} message(s) at ${rate}`;
        if (ctx.opts.json) ctx.json({ dryRun: args.dryRun, dlq: dlq.name, source: source.name, approximateMessages: plan.approximate, maxPerSecond: args.maxPerSecond ?? null, started: false });
        else ctx.out(`${args.dryRun ? "Dry run: " : ""}${summary} (checks passed: a DLQ of ${source.name}, same queue type, no move task running)`);
        return EXIT_OK;
    }
    const startedAt = ctx.now().getTime();
    const handle = await start(ctx, plan, args.maxPerSecond, startedAt);
    if (!ctx.opts.json) ctx.out(`Started a message move task from ${dlq.name} to ${source.name} for ~${plan.approximate} message(s) at ${rate} (task handle ${handle ?? "unknown"}).`);
    const progress: { status: string; moved: number; toMove?: number }[] = [];
    const follow = `aws sqs list-message-move-tasks --source-arn ${plan.dlqArn}`;
    let task: ListMessageMoveTasksResultEntry | undefined;
    let unlisted = 0;
    for (;;) {
        await ctx.sleep(args.pollSeconds * 1000);
        const found = findOurTask(await listMoveTasks(ctx, plan.dlqArn), handle, plan.earlier, startedAt);
        if (!found) {
            if (++unlisted >= MAX_UNLISTED_CHECKS) {
                throw new OpsError(`ListMessageMoveTasks has not listed the move task started on ${dlq.name} (handle ${handle ?? "unknown"}) in ${unlisted} checks; follow it with: ${follow}`);
            }
            continue;
        }
        unlisted = 0;
        task = found;
        const status = task.Status ?? "UNKNOWN";
        const step = { status, moved: task.ApproximateNumberOfMessagesMoved ?? 0, toMove: task.ApproximateNumberOfMessagesToMove };
        const last = progress[progress.length - 1];
        if (!last || last.status !== step.status || last.moved !== step.moved) {
            progress.push(step);
            if (!ctx.opts.json) ctx.out(`  ${status}: moved ${step.moved} of ~${step.toMove ?? "?"}`);
        }
        if (status !== "RUNNING" && status !== "CANCELLING") break;
        if (ctx.aborted) {
            if (!ctx.opts.json) ctx.out(`Stopped watching; the task keeps running in SQS. Follow it with: ${follow}`);
            else ctx.json({ dlq: dlq.name, source: source.name, taskHandle: handle ?? null, status, progress, watching: false });
            return EXIT_OK;
        }
    }
    const status = task.Status ?? "UNKNOWN";
    const moved = task.ApproximateNumberOfMessagesMoved ?? 0;
    const code = status === "COMPLETED" ? EXIT_OK : EXIT_FAILED;
    if (ctx.opts.json) {
        ctx.json({ dlq: dlq.name, source: source.name, taskHandle: handle ?? null, startedAt: startedAtText(task), status, moved, failureReason: task.FailureReason ?? null, progress });
    } else if (status === "COMPLETED") {
        ctx.out(`Done: moved ${moved} message(s) back to ${source.name}.`);
    } else {
        ctx.err(`The move task ended ${status}${task.FailureReason ? `: ${task.FailureReason}` : ""}; moved ${moved}. The rest are still in ${dlq.name}.`);
    }
    return code;
}

/** StartMessageMoveTask once; on an unknown outcome, a task listed now that was not before is ours. */
async function start(ctx: Ctx, plan: MoveTaskPlan, maxPerSecond: number | undefined, startedAt: number): Promise<string | undefined> {
    try {
        const { TaskHandle } = await ctx.call("sqs:StartMessageMoveTask", () =>
            ctx.aws().sqs.send(new StartMessageMoveTaskCommand({ SourceArn: plan.dlqArn, DestinationArn: plan.sourceArn, MaxNumberOfMessagesPerSecond: maxPerSecond })),
        );
        return TaskHandle;
    } catch (error) {
        if (!(error instanceof OutcomeUnknownError)) throw error;
        const ours = findOurTask(await listMoveTasks(ctx, plan.dlqArn), undefined, plan.earlier, startedAt);
        if (!ours) {
            throw new OpsError(`${error.message}. ListMessageMoveTasks lists no new task on ${plan.dlq.name}, so none started: run the command again`);
        }
        ctx.err(`note: ${error.message}; ListMessageMoveTasks shows it started (${ours.Status}, ${startedAtText(ours)}): following that task`);
        return ours.TaskHandle;
    }
}
