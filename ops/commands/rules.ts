import { GetMetricDataCommand, MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { DeleteRuleCommand, RemoveTargetsCommand, Rule, Target } from "@aws-sdk/client-eventbridge";
import { Ctx } from "../context";
import { BusRule, describeDeclaration, discoverBus, discoverRules, findDeclaration, listTargets, rulePages, TAG_RULE, TAG_STACK } from "../discovery";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, OpsError, OutcomeUnknownError, UsageError } from "../errors";
import { localEventBridge } from "../local";
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

/** Rule metrics over a window, and how many datapoints CloudWatch returned for all the rules together. */
export interface RuleMetrics {
    byRule: Map<string, NonNullable<RuleReport["metrics"]>>;
    /** 0 means CloudWatch knows no metric of any rule with these dimensions over the window. */
    datapoints: number;
}

/**
 * The dimensions EventBridge publishes a rule's metrics with: RuleName alone for the default bus,
 * EventBusName + RuleName for a custom bus ("Metrics that specify only the RuleName dimension refer to
 * the default event bus", Monitoring Amazon EventBridge). Asking the default bus's rules with both
 * finds nothing, which would read as "no matches".
 */
export function ruleDimensions(bus: string, rule: string): { Name: string; Value: string }[] {
    return bus === "default" ? [{ Name: "RuleName", Value: rule }] : [{ Name: "EventBusName", Value: bus }, { Name: "RuleName", Value: rule }];
}

/**
 * MatchedEvents, Invocations and FailedInvocations per rule over the window (AWS/Events, Sum per day,
 * added up). EventBridge publishes a datapoint only when the value is not zero: no datapoint = 0, so
 * the datapoints are counted too (none at all for any rule says more about the query than the rules).
 */
async function ruleMetrics(ctx: Ctx, bus: string, names: string[], days: number): Promise<RuleMetrics> {
    const metrics = ["MatchedEvents", "Invocations", "FailedInvocations"] as const;
    const keys = ["matched", "invocations", "failedInvocations"] as const;
    const sums = new Map<string, { matched: number; invocations: number; failedInvocations: number }>(names.map((n) => [n, { matched: 0, invocations: 0, failedInvocations: 0 }]));
    let datapoints = 0;
    const queries: MetricDataQuery[] = names.flatMap((name, i) =>
        metrics.map((metric, k) => ({
            Id: `r${i}m${k}`,
            MetricStat: {
                Metric: { Namespace: "AWS/Events", MetricName: metric, Dimensions: ruleDimensions(bus, name) },
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
                const values = result.Values ?? [];
                datapoints += values.length;
                if (entry && metric !== undefined) entry[keys[Number(metric)]] += values.reduce((a, b) => a + b, 0);
            }
            token = page.NextToken;
        } while (token);
    }
    return { byRule: sums, datapoints };
}

export async function awsRuleReports(ctx: Ctx, stack: string, busArg: string | undefined, days: number): Promise<{ bus: string; rules: RuleReport[]; raw: BusRule[]; datapoints: number }> {
    const bus = await discoverBus(ctx, stack, busArg);
    const raw = await discoverRules(ctx, bus);
    const { byRule: metrics, datapoints } = await ruleMetrics(ctx, bus, raw.map((r) => r.rule.Name!), days);
    const rules = raw.map((r): RuleReport => {
        const targets = r.targets.map(targetReport);
        const m = metrics.get(r.rule.Name!) ?? null;
        const flags: string[] = [];
        if (m && m.matched === 0) flags.push(`no matches in ${days} day(s)`);
        if (!declaredByStack(r, stack)) flags.push(`not declared by stack ${stack}`);
        flags.push(...ruleFlags(r.rule.State, targets));
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
    return { bus, rules, raw, datapoints };
}

/** The flags a rule's own description raises, on AWS as in the local runtime: disabled, and each target without a DLQ. */
function ruleFlags(state: string | undefined, targets: TargetReport[]): string[] {
    const flags = state === "DISABLED" ? ["disabled"] : [];
    for (const t of targets) if (!t.deadLetterArn) flags.push(`target ${t.id} has no DLQ`);
    return flags;
}

/** Why "no matches" may mean nothing: CloudWatch returned no datapoint for any rule of the bus. */
function noDatapoints(bus: string, days: number, rules: number): string {
    return (
        `CloudWatch returned no datapoint at all for the ${plural(rules, "rule")} on ${bus} over ${days} day(s) ` +
        `(AWS/Events, dimensions ${ruleDimensions(bus, "<rule>").map((d) => d.Name).join(" + ")}): either nothing reached any rule, or the metrics ` +
        "are missing (another region or account, or dimensions EventBridge does not publish)"
    );
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
    for (const r of rules) lines.push("", `${r.name}${r.managedBy ? ` (managed by ${r.managedBy})` : ""}`, ...ruleDetails(r));
    return lines.join("\n");
}

/** A rule's pattern, its targets with their DLQ and retry policy, and its flags: one line each. */
function ruleDetails(r: { pattern: unknown; targets: TargetReport[]; flags: string[] }): string[] {
    const lines = [`  pattern: ${truncate(typeof r.pattern === "string" ? r.pattern : JSON.stringify(r.pattern), 200)}`];
    for (const t of r.targets) {
        const retry = t.retryPolicy
            ? `retry ${t.retryPolicy.maximumRetryAttempts ?? "default"} attempts / ${t.retryPolicy.maximumEventAgeInSeconds ?? "default"}s`
            : "retry: EventBridge default (185 attempts / 24h)";
        lines.push(`  target ${t.id}: ${t.arn}; DLQ ${t.deadLetterArn ?? "NONE"}; ${retry}`);
    }
    for (const f of r.flags) lines.push(`  ! ${f}`);
    return lines;
}

/** A target as the reports show it: its DLQ, and its retry policy (null: EventBridge's default). */
function targetReport(t: Target): TargetReport {
    return {
        id: t.Id ?? "?",
        arn: t.Arn ?? "?",
        deadLetterArn: t.DeadLetterConfig?.Arn ?? null,
        retryPolicy: t.RetryPolicy ? { maximumRetryAttempts: t.RetryPolicy.MaximumRetryAttempts, maximumEventAgeInSeconds: t.RetryPolicy.MaximumEventAgeInSeconds } : null,
    };
}

export async function rulesCommand(ctx: Ctx, args: { bus?: string; days: number }): Promise<number> {
    if (ctx.opts.local) return localRules(ctx);
    const stack = ctx.requireStack("rules");
    const { bus, rules, datapoints } = await awsRuleReports(ctx, stack, args.bus, args.days);
    const code = rules.some((r) => r.flags.length > 0) ? EXIT_FAILED : EXIT_OK;
    const note = rules.length && datapoints === 0 ? noDatapoints(bus, args.days, rules.length) : null;
    if (ctx.opts.json) ctx.json({ stack, bus, days: args.days, metricDatapoints: datapoints, note, rules });
    else {
        ctx.out(rules.length ? renderRules(stack, bus, args.days, rules) : `No rules on bus ${bus}.`);
        if (note) ctx.err(`note: ${note}`);
    }
    return code;
}

/** A rule of the local runtime: the AWS report's pattern, state and targets, with its counters since the runtime started. */
export interface LocalRuleReport {
    name: string;
    logicalName: string | null;
    bus: string | null;
    state: string;
    pattern: unknown;
    declaredBy: string | null;
    targets: TargetReport[];
    matched: number;
    delivered: number | null;
    failed: number | null;
    flags: string[];
}

/**
 * The local runtime's rules (all the stack's own), with the columns the AWS report has: pattern and
 * state (ListRules) and targets with their DLQ and retry policy (ListTargetsByRule), from the
 * runtime's EventBridge endpoint, which answers both as EventBridge does. Counters are since the
 * runtime started (`/_local/state`), where AWS has CloudWatch metrics.
 */
async function localRules(ctx: Ctx): Promise<number> {
    const state = await ctx.local().state();
    const { client } = localEventBridge(state, ctx.opts.local!, ctx.opts.region);
    const buses = [...new Set(state.rules.map((r) => r.bus ?? state.eventBusName ?? "default"))];
    const described = new Map<string, Rule>();
    for (const bus of buses) {
        for await (const page of rulePages(ctx, bus, { client })) for (const rule of page) described.set(`${bus}/${rule.Name}`, rule);
    }
    const rules: LocalRuleReport[] = [];
    for (const r of state.rules) {
        const bus = r.bus ?? state.eventBusName ?? "default";
        const rule = described.get(`${bus}/${r.name}`);
        const targets = (await listTargets(ctx, bus, r.name, client)).map(targetReport);
        const ruleState = rule?.State ?? (r.enabled === false ? "DISABLED" : "ENABLED");
        const flags = r.matched === 0 ? ["no matches since the local runtime started"] : [];
        flags.push(...ruleFlags(ruleState, targets));
        if (r.failed) flags.push(`${r.failed} failed deliveries`);
        rules.push({
            name: r.name,
            logicalName: r.logicalName ?? null,
            bus: r.bus ?? null,
            state: ruleState,
            pattern: parsePattern(rule?.EventPattern) ?? rule?.ScheduleExpression ?? null,
            declaredBy: r.tags?.[TAG_RULE] ?? null,
            targets,
            matched: r.matched,
            delivered: r.delivered ?? null,
            failed: r.failed ?? null,
            flags,
        });
    }
    const code = rules.some((r) => r.flags.length) ? EXIT_FAILED : EXIT_OK;
    if (ctx.opts.json) ctx.json({ stack: state.stack, local: true, rules });
    else {
        const lines = [
            `Rules of the local runtime (stack ${state.stack}; counts since it started)`,
            "",
            table(
                ["RULE", "STATE", "DECLARED BY", "TARGETS", "MATCHED", "DELIVERED", "FAILED", "FLAGS"],
                rules.map((r) => [r.logicalName ?? r.name, r.state, r.declaredBy ?? "-", r.targets.length, r.matched, r.delivered, r.failed, r.flags.length ? "!" : "ok"]),
            ),
        ];
        for (const r of rules) lines.push("", r.logicalName && r.logicalName !== r.name ? `${r.logicalName} (${r.name})` : r.name, ...ruleDetails(r));
        ctx.out(lines.join("\n"));
    }
    return code;
}

export interface CleanupArgs {
    bus?: string;
    days: number;
    unused: boolean;
    yes: boolean;
    dryRun: boolean;
    /** Delete even when CloudWatch returned no datapoint for any rule of the bus. */
    allowNoMetrics: boolean;
}

/**
 * Deletes unused rules that the stack does not declare, after listing them and asking. Never deletes
 * a rule the stack declares (it says which code declares it) nor a rule an AWS service manages.
 */
export async function rulesCleanup(ctx: Ctx, args: CleanupArgs): Promise<number> {
    if (!args.unused) throw new UsageError("`rules cleanup` needs --unused (the only cleanup there is: rules with no matches over --days N)", "rules cleanup");
    if (ctx.opts.local) throw new UsageError("`rules cleanup` works on AWS only: the local runtime's rules are all declared by the stack", "rules cleanup");
    const stack = ctx.requireStack("rules cleanup");
    const { bus, rules, raw, datapoints } = await awsRuleReports(ctx, stack, args.bus, args.days);
    // "Unused" is read from missing datapoints; with none at all, that reading cannot be trusted.
    if (rules.length && datapoints === 0 && !args.allowNoMetrics && !args.dryRun) {
        throw new OpsError(
            `Refusing to delete anything: ${noDatapoints(bus, args.days, rules.length)}. Check the rules' metrics in the CloudWatch console ` +
                "(or `rules --json`), and pass --allow-no-metrics only if you are sure nothing uses them. Nothing was deleted",
        );
    }
    const unused = rules.filter((r) => r.metrics && r.metrics.matched === 0);
    const kept: { name: string; reason: string }[] = [];
    const candidates: RuleReport[] = [];
    for (const r of unused) {
        const tags = raw.find((x) => x.rule.Name === r.name)?.tags ?? {};
        if (r.managedBy) kept.push({ name: r.name, reason: `managed by the AWS service ${r.managedBy}` });
        else if (tags[TAG_RULE]) kept.push({ name: r.name, reason: await declarationText(ctx, stack, tags) });
        else candidates.push(r);
    }
    const note = rules.length && datapoints === 0 ? noDatapoints(bus, args.days, rules.length) : null;
    const report = {
        stack,
        bus,
        days: args.days,
        metricDatapoints: datapoints,
        note,
        candidates: candidates.map((r) => r.name),
        kept,
        deleted: [] as string[],
        failed: [] as { name: string; error: string }[],
    };
    if (!ctx.opts.json) {
        if (note) ctx.err(`note: ${note}`);
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
            const how = await deleteRule(ctx, bus, r.name);
            report.deleted.push(r.name);
            if (!ctx.opts.json) ctx.out(`deleted ${r.name} (${plural(ids.length, "target")} removed first${how ? `; ${how}` : ""})`);
        } catch (error) {
            const e = error as { name?: string; message?: string };
            report.failed.push({ name: r.name, error: `${e.name ?? "Error"}: ${e.message}` });
            if (!ctx.opts.json) ctx.err(`could not delete ${r.name}: ${e.message} (the rule is left in place)`);
        }
    }
    if (ctx.opts.json) ctx.json({ ...report, confirmed: true });
    return report.failed.length ? EXIT_FAILED : EXIT_OK;
}

/**
 * DeleteRule, never sent twice: when its outcome is unknown (a 5xx, a timeout), ListRules says whether
 * the rule is gone. Resolves with a note when the deletion was confirmed that way.
 */
async function deleteRule(ctx: Ctx, bus: string, name: string): Promise<string | undefined> {
    try {
        await ctx.call("events:DeleteRule", () => ctx.aws().eventBridge.send(new DeleteRuleCommand({ Name: name, EventBusName: bus })));
        return undefined;
    } catch (error) {
        if (!(error instanceof OutcomeUnknownError)) throw error;
        if (await ruleExists(ctx, bus, name)) throw new OpsError(`${error.message}; ListRules still lists the rule: run the cleanup again`);
        return `DeleteRule failed with ${error.failure.name}, but ListRules no longer lists the rule`;
    }
}

async function ruleExists(ctx: Ctx, bus: string, name: string): Promise<boolean> {
    for await (const page of rulePages(ctx, bus, { namePrefix: name })) if (page.some((r) => r.Name === name)) return true;
    return false;
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
