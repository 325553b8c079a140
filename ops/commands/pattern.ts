import { TestEventPatternCommand } from "@aws-sdk/client-eventbridge";
import { EventPattern, EventPatternError, explainEventPatternMatch, MatchFailure, parseEventPattern } from "../../event-patterns";
import { Ctx } from "../context";
import { EXIT_FAILED, EXIT_OK, OpsError, UsageError } from "../errors";
import { table } from "../render";

/** The envelope fields EventBridge adds to every event (and TestEventPattern requires), with placeholders. */
export function envelopeDefaults(now: Date, region: string): Record<string, unknown> {
    return {
        version: "0",
        id: "00000000-0000-4000-8000-000000000000",
        account: "123456789012",
        time: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
        region,
        resources: [],
    };
}

export interface PatternTestArgs {
    pattern?: string;
    event?: string;
    aws: boolean;
}

/**
 * Matches an event against a pattern offline with the matcher the local runtime routes with
 * (event-patterns/), explaining every failing field; `--aws` also asks EventBridge's TestEventPattern
 * and reports a disagreement. Exit 0 match, 1 no match or disagreement, 2 bad pattern/event.
 */
export async function patternTest(ctx: Ctx, args: PatternTestArgs): Promise<number> {
    const command = "pattern test";
    if (ctx.opts.local && args.aws) throw new UsageError("--aws asks EventBridge itself; it cannot be combined with --local", command);
    const rawPattern = ctx.readJson("pattern", args.pattern, command);
    if (!rawPattern || typeof rawPattern !== "object" || Array.isArray(rawPattern)) {
        throw new UsageError(`--pattern must be a JSON object (an EventBridge event pattern), got ${Array.isArray(rawPattern) ? "an array" : JSON.stringify(rawPattern)}`, command);
    }
    let pattern: EventPattern;
    try {
        pattern = parseEventPattern(rawPattern);
    } catch (error) {
        if (error instanceof EventPatternError) throw new UsageError(`--pattern is not a valid EventBridge pattern: ${error.path}: ${error.reason}`, command);
        throw error;
    }
    const given = ctx.readJson("event", args.event, command);
    if (!given || typeof given !== "object" || Array.isArray(given)) throw new UsageError("--event must be a JSON object (an EventBridge event)", command);
    const region = ctx.opts.region ?? process.env.AWS_REGION ?? "us-east-1";
    const defaults = envelopeDefaults(ctx.now(), region);
    const filled = Object.keys(defaults).filter((k) => !(k in given));
    const event = { ...defaults, ...(given as Record<string, unknown>) };

    const local = explainEventPatternMatch(pattern, event);
    let aws: boolean | undefined;
    if (args.aws) {
        for (const field of ["source", "detail-type"]) {
            if (typeof event[field as keyof typeof event] !== "string") throw new UsageError(`--event needs a "${field}" string for TestEventPattern`, command);
        }
        const result = await ctx.call("events:TestEventPattern", () =>
            ctx.aws().eventBridge.send(new TestEventPatternCommand({ EventPattern: JSON.stringify(pattern), Event: JSON.stringify(event) })),
        );
        if (typeof result.Result !== "boolean") throw new OpsError("TestEventPattern answered without a Result");
        aws = result.Result;
    }
    const disagreement = aws !== undefined && aws !== local.matched;
    const code = disagreement || !local.matched ? EXIT_FAILED : EXIT_OK;
    if (ctx.opts.json) {
        ctx.json({ matched: local.matched, failures: local.failures, aws: aws ?? null, disagreement, filledEnvelopeFields: filled });
        return code;
    }
    ctx.out(local.matched ? "MATCH: the event matches the pattern" : "NO MATCH");
    if (!local.matched) ctx.out(renderFailures(local.failures));
    if (filled.length) ctx.out(`(envelope fields filled in as EventBridge would: ${filled.join(", ")})`);
    if (aws !== undefined) {
        ctx.out(`EventBridge TestEventPattern: ${aws ? "MATCH" : "NO MATCH"}`);
        if (disagreement) {
            ctx.err(`DISAGREEMENT: the local matcher says ${local.matched ? "match" : "no match"}, EventBridge says ${aws ? "match" : "no match"}. ` +
                "EventBridge is the reference: report the case so the local matcher (event-patterns/) gets fixed");
        }
    }
    return code;
}

function renderFailures(failures: MatchFailure[]): string {
    return table(["FIELD", "WHY IT DID NOT MATCH"], failures.map((f) => [f.path, f.reason]));
}
