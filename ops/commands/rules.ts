import { GetMetricDataCommand, MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { DeleteRuleCommand, RemoveTargetsCommand } from "@aws-sdk/client-eventbridge";
import { Ctx } from "../context";
import { BusRule, describeDeclaration, discoverBus, discoverRules, findDeclaration, listTargets, TAG_RULE, TAG_STACK } from "../discovery";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, OpsError } from "../errors";
import { plural, table, truncate } from "../render";

export interface TargetReport {
    id: string;
    arn: string;
    deadLetterArn: string | null;
    /** The target's retry policy; null means EventBridge's default (24 hours, 185 attempts). */
    retryPolicy: { maximumRetryAttempts?: number; maximumEventAgeInSeconds?: number } | null;
}

export interface RuleReport {
    name: string;
    arn?: string;
    state: string;
    pattern: unknown;
    managedBy?: string;
    /** The `bellyfed:rule` tag (`<bus component>/<route>`) when the stack declares the rule. */
    declaredBy: string | null;
    targets: TargetReport[];
    metrics: { matched: number; invocations: number; failedInvocations: number } | null;
    flags: string[];
}

export const MAX_METRIC_DAYS = 455; // CloudWatch keeps hourly datapoints for 455 days (15 months).

/** Whether the stack declares a rule: it carries this stack's tag and a `bellyfed:rule` tag. */
export function declaredByStack(rule: BusRule, stack: string): boolean {
    return rule.tags[TAG_STACK] === stack && Boolean(rule.tags[TAG_RULE]);
}

function parsePattern(text: string | undefined): unknown {
    if (!text) return null;
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/**
 * MatchedEvents, Invocations and FailedInvocations per rule over the window (AWS/Events, dimensions
 * EventBusName + RuleName as EventBridge publishes them for custom buses; Sum per day, added up).
 * EventBridge publishes a datapoint only when the value is not zero: no datapoint = 0.
 */
async function ruleMetrics(ctx: Ctx, bus: string, names: string[], days: number): Promise<Map<string, RuleReport["metrics"]>> {
    const metrics = ["MatchedEvents", "Invocations", "FailedInvocations"] as const;
    const keys = ["matched", "invocations", "failedInvocations"] as const;
    const sums = new Map<string, { matched: number; invocations: number; failedInvocations: number }>(names.map((n) => [n, { matched: 0, invocations: 0, failedInvocations: 0 }]));
    const queries: MetricDataQuery[] = names.flatMap((name, i) =>
        metrics.map((metric, k) => ({
            Id: `r${i}m${k}`,
            MetricStat: {
                Metric: { Namespace: "AWS/Events", MetricName: metric, Dimensions: [{ Name: "EventBusName", Value: bus }, { Name: "RuleName", Value: name }] },
                Period: 86400,
                Stat: "Sum",
            },
            ReturnData: true,
        })),
    );
    const end = ctx.now();
    const start = new Date(end.getTime() - days * 86400 * 1000);
    for (let i = 0; i < queries.length; i += 500) {
        let token: string | undefined;
        do {
            const page = await ctx.call("cloudwatch:GetMetricData", () =>
                ctx.aws().cloudWatch.send(new GetMetricDataCommand({ MetricDataQueries: queries.slice(i, i + 500), StartTime: start, EndTime: end, NextToken: token })),
            );
            for (const result of page.MetricDataResults ?? []) {
                const [, rule, metric] = /^r(\d+)m(\d)$/.exec(result.Id ?? "") ?? [];
                const entry = sums.get(names[Number(rule)]);
                if (entry && metric !== undefined) entry[keys[Number(metric)]] += (result.Values ?? []).reduce((a, b) => a + b, 0);
            }
            token = page.NextToken;
        } while (token);
    }
    return sums;
}

export async function awsRuleReports(ctx: Ctx, stack: string, busArg: string | undefined, days: number): Promise<{ bus: string; rules: RuleReport[]; raw: BusRule[] }> {
    const bus = await discoverBus(ctx, stack, busArg);
    const raw = await discoverRules(ctx, bus);
    const metrics = await ruleMetrics(ctx, bus, raw.map((r) => r.rule.Name!), days);
    const rules = raw.map((r): RuleReport => {
        const targets = r.targets.map((t) => ({
            id: t.Id ?? "?",
            arn: t.Arn ?? "?",
            deadLetterArn: t.DeadLetterConfig?.Arn ?? null,
            retryPolicy: t.RetryPolicy ? { maximumRetryAttempts: t.RetryPolicy.MaximumRetryAttempts, maximumEventAgeInSeconds: t.RetryPolicy.MaximumEventAgeInSeconds } : null,
        }));
        const m = metrics.get(r.rule.Name!) ?? null;
        const flags: string[] = [];
        if (m && m.matched === 0) flags.push(`no matches in ${days} day(s)`);
        if (!declaredByStack(r, stack)) flags.push(`not declared by stack ${stack}`);
        if (r.rule.State === "DISABLED") flags.push("disabled");
        for (const t of targets) if (!t.deadLetterArn) flags.push(`target ${t.id} has no DLQ`);
        if (m && m.failedInvocations > 0) flags.push(`${m.failedInvocations} failed invocation(s)`);
        return {
            name: r.rule.Name!,
            arn: r.rule.Arn,
            state: r.rule.State ?? "?",
            pattern: parsePattern(r.rule.EventPattern) ?? r.rule.ScheduleExpression ?? null,
            managedBy: r.rule.ManagedBy,
            declaredBy: declaredByStack(r, stack) ? r.tags[TAG_RULE] : null,
            targets,
            metrics: m,
            flags,
        };
    });
    return { bus, rules, raw };
}

function renderRules(stack: string, bus: string, days: number | null, rules: RuleReport[]): string {
    const lines = [
        `Rules on bus ${bus} (stack ${stack}${days ? `, metrics over ${days} day(s)` : ""})`,
        "",
        table(
            ["RULE", "STATE", "DECLARED BY", "TARGETS", "MATCHED", "INVOKED", "FAILED", "FLAGS"],
            rules.map((r) => [r.name, r.state, r.declaredBy ?? "(not the stack)", r.targets.length, r.metrics?.matched, r.metrics?.invocations, r.metrics?.failedInvocations, r.flags.length ? "!" : "ok"]),
        ),
    ];
    for (const r of rules) {
        lines.push("", `${r.name}${r.managedBy ? ` (managed by ${r.managedBy})` : ""}`);
        lines.push(`  pattern: ${truncate(typeof r.pattern === "string" ? r.pattern : JSON.stringify(r.pattern), 200)}`);
        for (const t of r.targets) {
            const retry = t.retryPolicy
                ? `retry ${t.retryPolicy.maximumRetryAttempts ?? "default"} attempts / ${t.retryPolicy.maximumEventAgeInSeconds ?? "default"}s`
                : "retry: EventBridge default (185 attempts / 24h)";
            lines.push(`  target ${t.id}: ${t.arn}; DLQ ${t.deadLetterArn ?? "NONE"}; ${retry}`);
        }
        for (const f of r.flags) lines.push(`  ! ${f}`);
    }
    return lines.join("\n");
}

export async function rulesCommand(ctx: Ctx, args: { bus?: string; days: number }): Promise<number> {
    if (ctx.opts.local) return localRules(ctx);
    const stack = ctx.requireStack("rules");
    const { bus, rules } = await awsRuleReports(ctx, stack, args.bus, args.days);
    const code = rules.some((r) => r.flags.length > 0) ? EXIT_FAILED : EXIT_OK;
    if (ctx.opts.json) ctx.json({ stack, bus, days: args.days, rules });
    else ctx.out(rules.length ? renderRules(stack, bus, args.days, rules) : `No rules on bus ${bus}.`);
    return code;
}

/** The local runtime's rules are the stack's own; it counts matches since it started. */
async function localRules(ctx: Ctx): Promise<number> {
    const state = await ctx.local().state();
    const rules = state.rules.map((r) => {
        const flags = r.matched === 0 ? ["no matches since the local runtime started"] : [];
        if (r.failed) flags.push(`${r.failed} failed deliveries`);
        return { name: r.name, logicalName: r.logicalName ?? null, bus: r.bus ?? null, matched: r.matched, delivered: r.delivered ?? null, failed: r.failed ?? null, flags };
    });
    const code = rules.some((r) => r.flags.length) ? EXIT_FAILED : EXIT_OK;
    if (ctx.opts.json) ctx.json({ stack: state.stack, local: true, rules });
    else {
        ctx.out(`Rules of the local runtime (stack ${state.stack}; matches since it started)\n`);
        ctx.out(table(["RULE", "MATCHED", "DELIVERED", "FAILED", "FLAGS"], rules.map((r) => [r.logicalName ?? r.name, r.matched, r.delivered, r.failed, r.flags.join("; ") || "ok"])));
    }
    return code;
}

export interface CleanupArgs {
    bus?: string;
    days: number;
    unused: boolean;
    yes: boolean;
    dryRun: boolean;
}

/**
 * Deletes unused rules that the stack does not declare, after listing them and asking. Never deletes
 * a rule the stack declares (it says which code declares it) nor a rule an AWS service manages.
 */
export async function rulesCleanup(ctx: Ctx, args: CleanupArgs): Promise<number> {
    if (!args.unused) throw new OpsError("`rules cleanup` needs --unused (the only cleanup there is: rules with no matches over --days N)", EXIT_USAGE);
    if (ctx.opts.local) throw new OpsError("`rules cleanup` works on AWS only: the local runtime's rules are all declared by the stack", EXIT_USAGE);
    const stack = ctx.requireStack("rules cleanup");
    const { bus, rules, raw } = await awsRuleReports(ctx, stack, args.bus, args.days);
    const unused = rules.filter((r) => r.metrics && r.metrics.matched === 0);
    const kept: { name: string; reason: string }[] = [];
    const candidates: RuleReport[] = [];
    for (const r of unused) {
        const tags = raw.find((x) => x.rule.Name === r.name)?.tags ?? {};
        if (r.managedBy) kept.push({ name: r.name, reason: `managed by the AWS service ${r.managedBy}` });
        else if (tags[TAG_RULE]) kept.push({ name: r.name, reason: await declarationText(ctx, stack, tags) });
        else candidates.push(r);
    }
    const report = { stack, bus, days: args.days, candidates: candidates.map((r) => r.name), kept, deleted: [] as string[], failed: [] as { name: string; error: string }[] };
    if (!ctx.opts.json) {
        ctx.out(`Unused rules on ${bus} (no matches in ${args.days} day(s)): ${unused.length}`);
        if (kept.length) {
            ctx.out("\nKept (the stack or AWS manages them; change the code instead):");
            for (const k of kept) ctx.out(`  ${k.name}: ${k.reason}`);
        }
        ctx.out(candidates.length ? "\nTo delete (not declared by the stack):" : "\nNothing to delete.");
        if (candidates.length) ctx.out(table(["RULE", "STATE", "TARGETS", "PATTERN"], candidates.map((r) => [r.name, r.state, r.targets.map((t) => t.id).join(","), truncate(JSON.stringify(r.pattern), 80)])));
    }
    if (candidates.length === 0 || args.dryRun) {
        if (ctx.opts.json) ctx.json({ ...report, dryRun: args.dryRun });
        else if (args.dryRun && candidates.length) ctx.out("\nDry run: nothing deleted.");
        return EXIT_OK;
    }
    if (!args.yes) {
        if (!ctx.isTTY) {
            throw new OpsError(`Refusing to delete ${plural(candidates.length, "rule")} without confirmation: not at a terminal. Review the list with --dry-run, then pass --yes`, EXIT_USAGE);
        }
        if (!(await ctx.confirm(`Delete ${plural(candidates.length, "rule")} (targets first, then the rule) from ${bus}? [y/N] `))) {
            if (ctx.opts.json) ctx.json({ ...report, confirmed: false });
            else ctx.out("Nothing deleted.");
            return EXIT_OK;
        }
    }
    for (const r of candidates) {
        try {
            const targets = await listTargets(ctx, bus, r.name);
            const ids = targets.map((t) => t.Id!).filter(Boolean);
            for (let i = 0; i < ids.length; i += 100) {
                const result = await ctx.call("events:RemoveTargets", () => ctx.aws().eventBridge.send(new RemoveTargetsCommand({ Rule: r.name, EventBusName: bus, Ids: ids.slice(i, i + 100) })));
                if ((result.FailedEntryCount ?? 0) > 0) {
                    const why = (result.FailedEntries ?? []).map((f) => `${f.TargetId}: ${f.ErrorCode} ${f.ErrorMessage ?? ""}`.trim()).join("; ");
                    throw new Error(`RemoveTargets failed for ${result.FailedEntryCount} target(s): ${why}`);
                }
            }
            await ctx.call("events:DeleteRule", () => ctx.aws().eventBridge.send(new DeleteRuleCommand({ Name: r.name, EventBusName: bus })));
            report.deleted.push(r.name);
            if (!ctx.opts.json) ctx.out(`deleted ${r.name} (${plural(ids.length, "target")} removed first)`);
        } catch (error) {
            const e = error as { name?: string; message?: string };
            report.failed.push({ name: r.name, error: `${e.name ?? "Error"}: ${e.message}` });
            if (!ctx.opts.json) ctx.err(`could not delete ${r.name}: ${e.message} (the rule is left as it was)`);
        }
    }
    if (ctx.opts.json) ctx.json({ ...report, confirmed: true });
    return report.failed.length ? EXIT_FAILED : EXIT_OK;
}

/** Which code declares a stack-managed rule, from the offline plan; the tag alone if the plan fails. */
async function declarationText(ctx: Ctx, stack: string, tags: Record<string, string>): Promise<string> {
    const tag = tags[TAG_RULE];
    const owner = tags[TAG_STACK];
    if (owner && owner !== stack) return `declared by stack ${owner} (${TAG_RULE}=${tag}); manage it from that stack`;
    try {
        return describeDeclaration(stack, findDeclaration(await ctx.plan(stack), tag));
    } catch (error) {
        return `declared by the ${stack} stack (${TAG_RULE}=${tag}: bus component/route); the offline plan could not run to say more: ${(error as Error).message}`;
    }
}
