/**
 * The one error type of the event-pattern module. `path` names the pattern field that is wrong
 * (dots for nesting, `$or[i]` inside `$or`, `(pattern)` for the pattern as a whole), and the
 * message always starts with that path: `detail.price: numeric operand of ">" must be a number ...`.
 */
export class EventPatternError extends Error {
    /** The pattern field that is wrong, e.g. `detail.location.city` or `$or[1].detail.x`. */
    readonly path: string;
    /** The message without the leading path. */
    readonly reason: string;

    constructor(path: string, reason: string) {
        super(`${path}: ${reason}`);
        this.name = "EventPatternError";
        this.path = path;
        this.reason = reason;
    }
}

/** A short, JSON-ish rendering of any value for error messages (bounded length). */
export function show(value: unknown): string {
    if (value === undefined) return "undefined";
    if (typeof value === "number" && !Number.isFinite(value)) return String(value);
    if (typeof value === "function") return "a function";
    if (typeof value === "bigint") return `${value}n`;
    let text: string;
    try {
        text = JSON.stringify(value) ?? String(value);
    } catch {
        text = String(value);
    }
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** The JSON type name of a value, for "got <type>" messages. */
export function typeName(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "array";
    if (value === undefined) return "undefined";
    if (typeof value === "number" && !Number.isFinite(value)) return `non-finite number ${value}`;
    if (typeof value === "object") {
        const proto = Object.getPrototypeOf(value);
        if (proto === Object.prototype || proto === null) return "object";
        const name = (proto?.constructor as { name?: string } | undefined)?.name || "unknown class";
        // A Pulumi Output (or any Promise) has to be resolved before its value can be validated.
        const hint = /Output/.test(name) || typeof (value as { then?: unknown }).then === "function" ? "; resolve it first, e.g. inside .apply" : "";
        return `an instance of ${name} (not a plain JSON object${hint})`;
    }
    return typeof value;
}

/** "string \"x\"", "number 5", "null", "array [1]": the type and (bounded) value of a bad input. */
export function describeValue(value: unknown): string {
    if (value === null || value === undefined) return typeName(value);
    return `${typeName(value)} ${show(value)}`;
}
