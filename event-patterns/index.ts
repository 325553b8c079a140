/**
 * EventBridge event patterns: parse, validate, match and explain, with the semantics the
 * EventBridge user guide documents ("Event patterns", "Comparison operators", "Arrays", "Null
 * values and empty strings"). Zero runtime dependencies: used by the components (validation when a
 * rule is declared), the local runtime's router and the ops CLI's `pattern test`.
 *
 * Supported: exact values (string, number, boolean, null), prefix / suffix (also with
 * equals-ignore-case), equals-ignore-case, wildcard, anything-but (value, list, prefix, suffix,
 * equals-ignore-case, wildcard), numeric (=, <, <=, >, >=, and ranges), exists, cidr (IPv4, IPv6)
 * and $or at any object level.
 *
 * Hot paths (the local router) should compile once with compileEventPattern and reuse the result;
 * matchesEventPattern / explainEventPatternMatch validate and compile on every call.
 */
import { compilePattern, ObjectNode, OPERATORS } from "./compile";
import { describeValue, EventPatternError } from "./errors";
import { MatchFailure, matchNode } from "./match";

export { EventPatternError } from "./errors";
export type { MatchFailure } from "./match";

/** An EventBridge event pattern (validated by parseEventPattern / validateEventPattern). */
export type EventPattern = { [key: string]: unknown };

/** The operator names accepted inside a field's array, e.g. `[{ "prefix": "us-" }]`. */
export const EVENT_PATTERN_OPERATORS: readonly string[] = OPERATORS;

export interface MatchExplanation {
    matched: boolean;
    /** Empty when matched; otherwise every failing field, each with the reason. */
    failures: MatchFailure[];
}

/** A validated pattern compiled once, for matching many events. */
export interface CompiledEventPattern {
    readonly pattern: EventPattern;
    matches(event: unknown): boolean;
    explain(event: unknown): MatchExplanation;
}

/**
 * JSON text or an object -> a validated pattern. JSON syntax errors are EventPatternErrors with the
 * path "(pattern)"; invalid patterns name the failing field.
 */
export function parseEventPattern(input: string | object): EventPattern {
    let pattern: unknown = input;
    if (typeof input === "string") {
        if (input.trim() === "") throw new EventPatternError("(pattern)", "the pattern is empty: expected a JSON object");
        try {
            pattern = JSON.parse(input);
        } catch (err) {
            throw new EventPatternError("(pattern)", `invalid JSON: ${(err as Error).message}`);
        }
    }
    validateEventPattern(pattern);
    return pattern;
}

/** Throws an EventPatternError naming the field path when the pattern is not one EventBridge accepts. */
export function validateEventPattern(pattern: unknown): asserts pattern is EventPattern {
    compilePattern(pattern);
}

/** Validates and compiles a pattern once; the result matches and explains many events. */
export function compileEventPattern(pattern: unknown): CompiledEventPattern {
    const root = compilePattern(pattern);
    const validated = pattern as EventPattern;
    return {
        pattern: validated,
        matches: (event) => isEvent(event) && matchNode(root, event),
        explain: (event) => explain(root, event),
    };
}

/** true when the event matches the pattern. Throws EventPatternError for an invalid pattern. */
export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
    const root = compilePattern(pattern);
    return isEvent(event) && matchNode(root, event);
}

/**
 * Matches and says why not: one failure per failing field, e.g.
 * `{ path: "detail-type", reason: 'value "X" is not one of ["RestaurantViewed"]' }`.
 */
export function explainEventPatternMatch(pattern: EventPattern, event: unknown): MatchExplanation {
    return explain(compilePattern(pattern), event);
}

function isEvent(event: unknown): event is Record<string, unknown> {
    return event !== null && typeof event === "object" && !Array.isArray(event);
}

function explain(root: ObjectNode, event: unknown): MatchExplanation {
    if (!isEvent(event)) {
        const hint = typeof event === "string" ? " (parse the event's JSON text first)" : "";
        return { matched: false, failures: [{ path: "(event)", reason: `an event must be a JSON object, got ${describeValue(event)}${hint}` }] };
    }
    const failures: MatchFailure[] = [];
    const matched = matchNode(root, event, failures);
    return { matched, failures: matched ? [] : failures };
}
