import { EventBridgeClient, PutEventsCommand, PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { buildEventCatalog, EVENT_TYPES, EventName } from "../../handlers/events/catalog";
import { Ctx } from "../context";
import { discoverBus } from "../discovery";
import { EXIT_FAILED, EXIT_OK, OpsError, OutcomeUnknownError, UsageError } from "../errors";
import { localEventBridge } from "../local";
import { formatPath } from "../validate";

export interface EventsPutArgs {
    detailType?: string;
    detail?: string;
    bus?: string;
    allowInvalid: boolean;
}

/** A catalog event by detail-type (or by its catalog name). */
export function findCatalogEvent(given: string): EventName | undefined {
    return (Object.keys(EVENT_TYPES) as EventName[]).find((name) => EVENT_TYPES[name].detailType === given || name === given);
}

/**
 * Validates a detail against the event catalog and publishes it to the stack's bus (AWS, or the local
 * runtime's EventBridge endpoint with --local); prints the event id or the entry's error.
 */
export async function eventsPut(ctx: Ctx, args: EventsPutArgs): Promise<number> {
    const command = "events put";
    const known = Object.values(EVENT_TYPES).map((t) => t.detailType).join(", ");
    if (!args.detailType) throw new UsageError(`the detail-type is required (one of: ${known})`, command);
    const name = findCatalogEvent(args.detailType);
    if (!name) throw new UsageError(`unknown detail-type "${args.detailType}": the event catalog has ${known}`, command);
    const detail = ctx.readJson("detail", args.detail, command);
    const checked = buildEventCatalog().detail[name].safeParse(detail);
    const issues = checked.success ? [] : checked.error.issues.map((i) => ({ path: formatPath(i.path, "detail"), message: i.message }));
    if (issues.length && !args.allowInvalid) {
        throw new UsageError(
            `--detail does not match the catalog's ${name} v${EVENT_TYPES[name].version} schema:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}\n` +
                "(pass --allow-invalid to publish it anyway, e.g. to test the poison-message path)",
            command,
        );
    }
    const { client, bus, target } = await destination(ctx, args.bus);
    const entry = { EventBusName: bus, Source: EVENT_TYPES[name].source, DetailType: EVENT_TYPES[name].detailType, Detail: JSON.stringify(checked.success ? checked.data : detail) };
    const response = await putOnce(ctx, client, entry);
    const result = response.Entries?.[0];
    const failed = (response.FailedEntryCount ?? 0) > 0 || !result?.EventId || Boolean(result?.ErrorCode);
    if (ctx.opts.json) {
        ctx.json({
            target,
            bus,
            source: entry.Source,
            detailType: entry.DetailType,
            published: !failed,
            eventId: result?.EventId ?? null,
            errorCode: failed ? (result?.ErrorCode ?? "Unknown") : null,
            errorMessage: failed ? (result?.ErrorMessage ?? null) : null,
            schemaIssues: issues,
        });
    } else if (failed) {
        ctx.err(`PutEvents rejected the event (FailedEntryCount ${response.FailedEntryCount ?? "?"}): ${result?.ErrorCode ?? "Unknown"}: ${result?.ErrorMessage ?? "no message"}`);
    } else {
        if (issues.length) ctx.err(`warning: published an event that fails the catalog schema (${issues.map((i) => i.path).join(", ")})`);
        ctx.out(`Published ${entry.DetailType} to ${bus} (${target}): event id ${result!.EventId}`);
    }
    return failed ? EXIT_FAILED : EXIT_OK;
}

/** PutEvents, never sent twice: EventBridge does not deduplicate, so an unknown outcome is reported, not retried. */
async function putOnce(ctx: Ctx, client: EventBridgeClient, entry: PutEventsRequestEntry) {
    try {
        return await ctx.call("events:PutEvents", () => client.send(new PutEventsCommand({ Entries: [entry] })));
    } catch (error) {
        if (!(error instanceof OutcomeUnknownError)) throw error;
        throw new OpsError(
            `${error.message}: the event may or may not have been published, and PutEvents has no deduplication (a second call would publish a second event). ` +
                "Check whether it arrived (`queues`, the consumer's logs) before publishing it again",
        );
    }
}

async function destination(ctx: Ctx, busArg?: string): Promise<{ client: EventBridgeClient; bus: string; target: string }> {
    if (!ctx.opts.local) {
        const bus = await discoverBus(ctx, ctx.requireStack("events put"), busArg);
        return { client: ctx.aws().eventBridge, bus, target: "AWS" };
    }
    const state = await ctx.local().state();
    const { client, endpoint } = localEventBridge(state, ctx.opts.local, ctx.opts.region);
    const ruleBuses = [...new Set((state.rules ?? []).map((r) => r.bus).filter((b): b is string => Boolean(b)))];
    let bus = busArg ?? state.eventBusName ?? (ruleBuses.length === 1 ? ruleBuses[0] : undefined);
    if (!bus) {
        // The local runtime builds the bus from the offline plan, so the plan names it.
        const plan = await ctx.plan(state.stack);
        bus = plan.outputs.eventBusName;
        if (typeof bus !== "string") throw new OpsError(`cannot tell the local bus's name (the plan of stack ${state.stack} has no eventBusName output); pass --bus NAME`);
    }
    return { client, bus, target: `local ${endpoint}` };
}
