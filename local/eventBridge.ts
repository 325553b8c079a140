/**
 * The local EventBridge: a PutEvents endpoint speaking the AWS JSON 1.1 protocol, the envelope
 * EventBridge adds, and routing through every enabled rule of the bus (EventBridge's pattern
 * semantics, from event-patterns/) to the rules' targets: SQS queues and Lambda functions, with the
 * target's input, input path or input transformer, and its dead-letter queue when delivery fails.
 */
import { randomUUID } from "crypto";
import { EventPatternError, parseEventPattern, matchesEventPattern } from "../event-patterns";
import { BusSpec, RuleSpec, TargetSpec } from "./model";
import { LocalQueue } from "./queues";

/** PutEvents accepts at most 10 entries per call. */
export const MAX_PUT_EVENTS_ENTRIES = 10;
/** The largest entry PutEvents accepts (256 KB). */
export const MAX_ENTRY_BYTES = 256 * 1024;

export interface EventEnvelope {
    version: "0";
    id: string;
    "detail-type": string;
    source: string;
    account: string;
    time: string;
    region: string;
    resources: string[];
    detail: unknown;
}

export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export interface PutEventsResult {
    FailedEntryCount: number;
    Entries: PutEventsResultEntry[];
}

/** What happens to an event (the runtime prints these as flow lines). */
export type BusEvent =
    | { kind: "published"; eventId: string; bus: string; source: string; detailType: string }
    | { kind: "rejected"; bus?: string; errorCode: string; errorMessage: string }
    | { kind: "matched"; eventId: string; rule: string }
    | { kind: "unmatched"; eventId: string; bus: string }
    | { kind: "delivered"; eventId: string; rule: string; target: string; messageId?: string }
    | { kind: "target-failed"; eventId: string; rule: string; target: string; error: string; deadLetterQueue?: string };

export interface RuleCounters {
    matched: number;
    delivered: number;
    failed: number;
}

export interface EventBridgeDeps {
    region: string;
    accountId: string;
    buses: BusSpec[];
    rules: RuleSpec[];
    queue(name: string): LocalQueue | undefined;
    /** Asynchronous invocation of a function target (the result is not awaited by PutEvents). */
    invokeAsync(functionName: string, event: unknown): Promise<{ ok: boolean; error?: { errorMessage: string } }>;
    onEvent?(event: BusEvent): void;
    now?(): number;
}

/** An AWS-style request failure: HTTP status + `{ "__type", "message" }`. */
export class AwsApiError extends Error {
    constructor(
        readonly type: string,
        message: string,
        readonly status = 400,
    ) {
        super(message);
        this.name = type;
    }
}

export class LocalEventBridge {
    private readonly counters = new Map<string, RuleCounters>();

    constructor(private readonly deps: EventBridgeDeps) {
        for (const rule of deps.rules) this.counters.set(rule.name, { matched: 0, delivered: 0, failed: 0 });
    }

    ruleCounters(name: string): RuleCounters {
        return this.counters.get(name) ?? { matched: 0, delivered: 0, failed: 0 };
    }

    private emit(event: BusEvent): void {
        this.deps.onEvent?.(event);
    }

    private findBus(ref: unknown): BusSpec | undefined {
        // Only an absent name means the default bus: "" breaks the field's constraints (checkBusNames).
        if (ref === undefined || ref === null) return this.deps.buses.find((b) => b.name === "default");
        return this.deps.buses.find((b) => b.name === ref || b.arn === ref);
    }

    /** PutEvents: validates each entry, answers per entry, routes the accepted ones. */
    putEvents(request: unknown): PutEventsResult {
        const entries = (request as { Entries?: unknown } | null)?.Entries;
        if (entries === undefined || entries === null) {
            throw new AwsApiError("ValidationException", "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
        }
        if (!Array.isArray(entries)) throw new AwsApiError("SerializationException", `Entries must be a list, got ${typeof entries}`);
        if (entries.length < 1) {
            throw new AwsApiError("ValidationException", "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1");
        }
        if (entries.length > MAX_PUT_EVENTS_ENTRIES) {
            throw new AwsApiError(
                "ValidationException",
                `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_PUT_EVENTS_ENTRIES} (got ${entries.length} entries)`,
            );
        }
        checkBusNames(entries);
        const results: PutEventsResultEntry[] = [];
        const accepted: { envelope: EventEnvelope; bus: BusSpec }[] = [];
        for (const entry of entries) {
            const outcome = this.accept(entry);
            if ("ErrorCode" in outcome) {
                results.push(outcome);
                this.emit({ kind: "rejected", bus: (entry as any)?.EventBusName, errorCode: outcome.ErrorCode, errorMessage: outcome.ErrorMessage });
            } else {
                results.push({ EventId: outcome.envelope.id });
                accepted.push(outcome);
            }
        }
        for (const { envelope, bus } of accepted) this.route(envelope, bus);
        return { FailedEntryCount: results.filter((r) => "ErrorCode" in r).length, Entries: results };
    }

    private accept(entry: any): { envelope: EventEnvelope; bus: BusSpec } | { ErrorCode: string; ErrorMessage: string } {
        const invalid = (name: string, reason: string) => ({ ErrorCode: "InvalidArgument", ErrorMessage: `Parameter ${name} is not valid. Reason: ${reason}` });
        if (entry === null || typeof entry !== "object" || Array.isArray(entry)) return { ErrorCode: "InvalidArgument", ErrorMessage: "Each entry must be an object" };
        for (const field of ["Source", "DetailType", "Detail"]) {
            if (typeof entry[field] !== "string" || entry[field] === "") {
                return entry[field] === undefined || entry[field] === "" ? invalid(field, `${field} is a required argument.`) : invalid(field, `${field} must be a string.`);
            }
        }
        if (entry.Source.startsWith("aws.")) {
            return { ErrorCode: "NotAuthorizedForSourceException", ErrorMessage: `Not authorized for the source ${entry.Source}: "aws." sources are reserved for AWS services.` };
        }
        let detail: unknown;
        try {
            detail = JSON.parse(entry.Detail);
        } catch {
            return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
        }
        if (detail === null || typeof detail !== "object" || Array.isArray(detail)) {
            return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed: it must be a JSON object." };
        }
        if (entry.Resources !== undefined && (!Array.isArray(entry.Resources) || entry.Resources.some((r: unknown) => typeof r !== "string"))) {
            return invalid("Resources", "Resources must be a list of strings.");
        }
        let time = this.deps.now?.() ?? Date.now();
        if (entry.Time !== undefined) {
            const parsed = typeof entry.Time === "number" ? entry.Time * 1000 : typeof entry.Time === "string" ? Date.parse(entry.Time) : NaN;
            // Past ±8.64e15 ms a Date cannot be written as a time (toISOString throws): the client's mistake, not a 500.
            if (!Number.isFinite(parsed) || Math.abs(parsed) > 8.64e15) return invalid("Time", `Time ${JSON.stringify(entry.Time)} is not a timestamp.`);
            time = parsed;
        }
        const size = [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])].reduce((n: number, s: string) => n + Buffer.byteLength(s), 14);
        if (size > MAX_ENTRY_BYTES) return invalid("Detail", `the entry is ${size} bytes, over the ${MAX_ENTRY_BYTES}-byte limit.`);
        const bus = this.findBus(entry.EventBusName);
        if (!bus) {
            // AWS accepts events for a bus that does not exist and drops them; locally that mistake is an error.
            const known = this.deps.buses.map((b) => b.name).join(", ");
            return invalid("EventBusName", `event bus ${JSON.stringify(entry.EventBusName)} does not exist in this stack (buses: ${known}).`);
        }
        const envelope: EventEnvelope = {
            version: "0",
            id: randomUUID(),
            "detail-type": entry.DetailType,
            source: entry.Source,
            account: this.deps.accountId,
            time: new Date(time).toISOString().replace(/\.\d{3}Z$/, "Z"),
            region: this.deps.region,
            resources: entry.Resources ?? [],
            detail,
        };
        this.emit({ kind: "published", eventId: envelope.id, bus: bus.name, source: envelope.source, detailType: envelope["detail-type"] });
        return { envelope, bus };
    }

    /** Sends an event through every enabled rule of its bus. */
    route(envelope: EventEnvelope, bus: BusSpec): void {
        let matchedAny = false;
        for (const rule of this.deps.rules) {
            if (rule.busName !== bus.name || !rule.enabled || !rule.pattern?.matches(envelope)) continue;
            matchedAny = true;
            this.ruleCounters(rule.name).matched++;
            this.emit({ kind: "matched", eventId: envelope.id, rule: rule.name });
            for (const target of rule.targets) this.deliver(envelope, rule, target);
        }
        if (!matchedAny) this.emit({ kind: "unmatched", eventId: envelope.id, bus: bus.name });
    }

    private deliver(envelope: EventEnvelope, rule: RuleSpec, target: TargetSpec): void {
        const counters = this.ruleCounters(rule.name);
        const fail = (reason: string) => {
            let error = reason;
            counters.failed++;
            let deadLetterQueue: string | undefined;
            const dlq = target.deadLetterQueue ? this.deps.queue(target.deadLetterQueue) : undefined;
            if (dlq && target.deadLetterDenied) {
                error = `${error}; not put on the target DLQ either: ${target.deadLetterDenied}`;
            } else if (dlq) {
                // EventBridge puts the event (not the transformed input) on the target's DLQ, with the reason as attributes.
                const attrs = (value: string) => ({ dataType: "String", stringValue: value });
                dlq.send(JSON.stringify(envelope), {
                    messageGroupId: dlq.fifo ? rule.name : undefined,
                    deduplicationId: dlq.fifo ? envelope.id : undefined,
                    messageAttributes: {
                        ERROR_CODE: attrs("LocalDeliveryFailure"),
                        ERROR_MESSAGE: attrs(error),
                        RULE_ARN: attrs(rule.arn),
                        TARGET_ARN: attrs(target.arn),
                        RETRY_ATTEMPTS: attrs("0"),
                    },
                });
                deadLetterQueue = dlq.name;
            }
            this.emit({ kind: "target-failed", eventId: envelope.id, rule: rule.name, target: target.resource ?? target.arn, error, deadLetterQueue });
        };
        let payload: string;
        try {
            payload = targetInput(envelope, rule, target);
        } catch (error) {
            fail(`input of target ${target.targetId}: ${(error as Error).message}`);
            return;
        }
        if (target.kind === "queue") {
            if (target.deliveryDenied) return fail(`EventBridge may not send to ${target.resource}: ${target.deliveryDenied}`);
            const queue = this.deps.queue(target.resource!);
            if (!queue) return fail(`queue ${target.resource} is not running`);
            try {
                const { messageId } = queue.send(payload, {
                    messageGroupId: queue.fifo ? target.messageGroupId : undefined,
                    // EventBridge uses the event id as deduplication id of FIFO targets.
                    deduplicationId: queue.fifo ? envelope.id : undefined,
                });
                counters.delivered++;
                this.emit({ kind: "delivered", eventId: envelope.id, rule: rule.name, target: queue.name, messageId });
            } catch (error) {
                fail((error as Error).message);
            }
        } else if (target.kind === "function") {
            let event: unknown;
            try {
                event = JSON.parse(payload);
            } catch {
                event = payload;
            }
            counters.delivered++;
            this.emit({ kind: "delivered", eventId: envelope.id, rule: rule.name, target: target.resource! });
            void this.deps.invokeAsync(target.resource!, event).then((result) => {
                if (!result.ok) this.emit({ kind: "target-failed", eventId: envelope.id, rule: rule.name, target: target.resource!, error: result.error?.errorMessage ?? "invocation failed" });
            });
        } else {
            fail(`target ${target.arn} is not a queue or function of this stack`);
        }
    }
}

/** The pattern of PutEventsRequestEntry.EventBusName (a bus name, or a bus ARN), from the EventBridge API reference. */
export const EVENT_BUS_NAME_PATTERN = "(arn:aws[\\w-]*:events:[a-z]{2}-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[\\.\\-_A-Za-z0-9]+";
const EVENT_BUS_NAME = new RegExp(`^(?:${EVENT_BUS_NAME_PATTERN})$`);

/**
 * EventBridge validates each entry's EventBusName against its modeled constraints (length 1 to 1600,
 * the pattern) before anything else, and fails the whole request with a ValidationException listing
 * every violation, in AWS's wording: `Value '' at 'entries.1.member.eventBusName' failed to satisfy
 * constraint: Member must have length greater than or equal to 1`. Only an absent EventBusName means
 * the default bus.
 */
function checkBusNames(entries: unknown[]): void {
    const problems: string[] = [];
    entries.forEach((entry, i) => {
        const name = (entry as { EventBusName?: unknown } | null)?.EventBusName;
        if (name === undefined || name === null) return;
        if (typeof name !== "string") throw new AwsApiError("SerializationException", `EventBusName of entry ${i + 1} must be a string, got ${JSON.stringify(name)}`);
        const at = `Value '${name.length > 100 ? `${name.slice(0, 100)}...` : name}' at 'entries.${i + 1}.member.eventBusName' failed to satisfy constraint: Member must`;
        if (name.length < 1) problems.push(`${at} have length greater than or equal to 1`);
        else if (name.length > 1600) problems.push(`${at} have length less than or equal to 1600`);
        else if (!EVENT_BUS_NAME.test(name)) problems.push(`${at} satisfy regular expression pattern: ${EVENT_BUS_NAME_PATTERN}`);
    });
    if (problems.length > 0) {
        throw new AwsApiError("ValidationException", `${problems.length} validation error${problems.length > 1 ? "s" : ""} detected: ${problems.join("; ")}`);
    }
}

/** The text a target receives: the event, or the target's Input / InputPath / InputTransformer result. */
export function targetInput(envelope: EventEnvelope, rule: Pick<RuleSpec, "name" | "arn">, target: Pick<TargetSpec, "input" | "inputPath" | "inputTransformer">): string {
    if (target.input !== undefined) return target.input;
    if (target.inputPath !== undefined) return JSON.stringify(jsonPath(envelope, target.inputPath) ?? null);
    if (target.inputTransformer) {
        const values: Record<string, unknown> = {
            "aws.events.rule-arn": rule.arn,
            "aws.events.rule-name": rule.name,
            "aws.events.event.ingestion-time": envelope.time,
            "aws.events.event": envelope,
            "aws.events.event.json": envelope,
        };
        for (const [name, path] of Object.entries(target.inputTransformer.inputPaths ?? {})) values[name] = jsonPath(envelope, path);
        const template = target.inputTransformer.inputTemplate;
        const json = looksLikeJsonTemplate(template);
        return template.replace(/<([A-Za-z0-9_.-]+)>/g, (whole: string, name: string, offset: number) => {
            if (!(name in values)) return whole;
            const value = values[name];
            const text = typeof value === "string" ? value : JSON.stringify(value ?? null);
            if (!json) return text;
            // In a JSON template a variable inside quotes is inserted as string content; elsewhere as JSON.
            const quoted = template[offset - 1] === '"' && template[offset + whole.length] === '"';
            return quoted ? JSON.stringify(text).slice(1, -1) : JSON.stringify(value ?? null);
        });
    }
    return JSON.stringify(envelope);
}

function looksLikeJsonTemplate(template: string): boolean {
    const t = template.trim();
    return t.startsWith("{") || t.startsWith("[");
}

/** The JSONPath subset EventBridge targets use: `$`, `$.a.b`, `$.a[0]`, `$['a-b']`. */
export function jsonPath(value: unknown, path: string): unknown {
    if (!path.startsWith("$")) throw new Error(`JSON path ${JSON.stringify(path)} must start with "$"`);
    const steps = [...path.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]|\['([^']+)'\]/g)];
    const consumed = steps.map((s) => s[0]).join("");
    if (consumed !== path.slice(1)) throw new Error(`JSON path ${JSON.stringify(path)} is not supported (use $.a.b or $.a[0])`);
    let current: any = value;
    for (const step of steps) {
        if (current === null || current === undefined) return undefined;
        current = step[2] !== undefined ? current[Number(step[2])] : current[step[1] ?? step[3]];
    }
    return current;
}

/** The AWS JSON 1.1 operations the local EventBridge answers. */
export function handleEventBridgeCall(bridge: LocalEventBridge, deps: Pick<EventBridgeDeps, "buses" | "rules">, target: string | undefined, body: string): unknown {
    const prefix = "AWSEvents.";
    if (!target) throw new AwsApiError("UnknownOperationException", "Missing X-Amz-Target header: expected AWSEvents.PutEvents (AWS JSON 1.1 protocol)");
    if (!target.startsWith(prefix)) throw new AwsApiError("UnknownOperationException", `Unknown operation ${target}: this endpoint serves AWSEvents.* operations`);
    let request: any;
    try {
        request = body.trim() === "" ? {} : JSON.parse(body);
    } catch (error) {
        throw new AwsApiError("SerializationException", `Request body is not valid JSON: ${(error as Error).message}`);
    }
    if (request === null || typeof request !== "object" || Array.isArray(request)) {
        throw new AwsApiError("SerializationException", "Request body must be a JSON object");
    }
    const operation = target.slice(prefix.length);
    const ruleOf = (name: unknown, busRef: unknown) => {
        const bus = deps.buses.find((b) => b.name === (busRef ?? "default") || b.arn === busRef);
        const rule = deps.rules.find((r) => r.name === name && r.busName === bus?.name);
        if (!rule) throw new AwsApiError("ResourceNotFoundException", `Rule ${name} does not exist on EventBus ${busRef ?? "default"}.`);
        return rule;
    };
    const describeRule = (rule: RuleSpec) => ({
        Name: rule.name,
        Arn: rule.arn,
        EventBusName: rule.busName,
        EventPattern: rule.patternText,
        ScheduleExpression: rule.scheduleExpression,
        State: rule.enabled ? "ENABLED" : "DISABLED",
    });
    switch (operation) {
        case "PutEvents":
            return bridge.putEvents(request);
        case "ListEventBuses":
            return { EventBuses: deps.buses.map((b) => ({ Name: b.name, Arn: b.arn })) };
        case "ListRules": {
            if (request.NamePrefix !== undefined && typeof request.NamePrefix !== "string") {
                throw new AwsApiError("SerializationException", `NamePrefix must be a string, got ${JSON.stringify(request.NamePrefix)}`);
            }
            const bus = deps.buses.find((b) => b.name === (request.EventBusName ?? "default") || b.arn === request.EventBusName);
            if (!bus) throw new AwsApiError("ResourceNotFoundException", `Event bus ${request.EventBusName} does not exist.`);
            const rules = deps.rules.filter((r) => r.busName === bus.name && (!request.NamePrefix || r.name.startsWith(request.NamePrefix)));
            return { Rules: rules.map(describeRule) };
        }
        case "DescribeRule":
            return describeRule(ruleOf(request.Name, request.EventBusName));
        case "ListTargetsByRule":
            return {
                Targets: ruleOf(request.Rule, request.EventBusName).targets.map((t) => ({
                    Id: t.targetId,
                    Arn: t.arn,
                    Input: t.input,
                    InputPath: t.inputPath,
                    InputTransformer: t.inputTransformer ? { InputPathsMap: t.inputTransformer.inputPaths, InputTemplate: t.inputTransformer.inputTemplate } : undefined,
                    DeadLetterConfig: t.deadLetterArn ? { Arn: t.deadLetterArn } : undefined,
                    RetryPolicy: { MaximumRetryAttempts: t.retry.maximumRetryAttempts, MaximumEventAgeInSeconds: t.retry.maximumEventAgeSeconds },
                })),
            };
        case "TestEventPattern": {
            if (typeof request.EventPattern !== "string" || typeof request.Event !== "string") {
                throw new AwsApiError("ValidationException", "EventPattern and Event are required strings");
            }
            let pattern;
            try {
                pattern = parseEventPattern(request.EventPattern);
            } catch (error) {
                throw new AwsApiError("InvalidEventPatternException", error instanceof EventPatternError ? `Event pattern is not valid. Reason: ${error.message}` : String(error));
            }
            let event: unknown;
            try {
                event = JSON.parse(request.Event);
            } catch (error) {
                throw new AwsApiError("InvalidEventPatternException", `Event is not valid JSON: ${(error as Error).message}`);
            }
            return { Result: matchesEventPattern(pattern, event) };
        }
        default:
            throw new AwsApiError("UnknownOperationException", `Operation ${target} is not served by the local runtime (served: PutEvents, ListEventBuses, ListRules, DescribeRule, ListTargetsByRule, TestEventPattern)`);
    }
}
