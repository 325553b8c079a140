import * as pulumi from "@pulumi/pulumi";
import { isLogRetentionDays, LOG_RETENTION_DAYS, LOG_RETENTION_RULE } from "./awsLimits";

/**
 * Checks of plain argument values for callers without a type checker (plain JavaScript, JSON-built
 * args): a value that arrives as a string where a number is expected must fail naming the field, not
 * pass because only numbers were range-checked. Values only known at deployment (Outputs, promises)
 * are left to AWS.
 */

/** Throws the component's argument error for a field. */
export type Fail = (field: string, message: string) => never;

/** A value as an error message shows it: strings quoted, so `"30"` never reads as the number 30. */
export function shown(value: unknown): string {
    if (typeof value === "function") return "a function";
    if (typeof value === "bigint") return `${value}n`;
    try {
        return JSON.stringify(value) ?? String(value);
    } catch {
        return String(value);
    }
}

/** Whether a value is only known at deployment (an Output or a promise): AWS checks it then. */
export function isDeferred(value: unknown): boolean {
    return pulumi.Output.isInstance(value) || (typeof value === "object" && value !== null && typeof (value as PromiseLike<unknown>).then === "function");
}

/** What an argument must be, as the checks name it. */
type Kind = "number" | "boolean" | "string" | "function" | "object" | "array";

const ARTICLE: Record<Kind, string> = {
    number: "a number",
    boolean: "true or false",
    string: "a string",
    function: "a function",
    object: "an object",
    array: "a list",
};

function isKind(value: unknown, kind: Kind): boolean {
    if (kind === "array") return Array.isArray(value);
    if (kind === "object") return typeof value === "object" && value !== null && !Array.isArray(value);
    if (kind === "number") return typeof value === "number" && !Number.isNaN(value);
    return typeof value === kind;
}

/**
 * Fails unless `value` is unset, deferred (when `deferred` allows it: the field is a `pulumi.Input`) or
 * of the expected kind. Returns true when a plain value of that kind is present, for further checks.
 */
export function checkKind(fail: Fail, field: string, value: unknown, kind: Kind, deferred = true): boolean {
    if (value === undefined) return false;
    if (deferred && isDeferred(value)) return false;
    if (!isKind(value, kind)) fail(field, `must be ${ARTICLE[kind]}, got ${shown(value)}`);
    return true;
}

/** A log retention in days (`field`): unset, deferred, or one of CloudWatch Logs' retention values. */
export function checkLogRetention(fail: Fail, field: string, value: unknown): void {
    if (checkKind(fail, field, value, "number") && !isLogRetentionDays(value)) fail(field, `${LOG_RETENTION_RULE} (${LOG_RETENTION_DAYS.join(", ")}), got ${shown(value)}`);
}

/**
 * A map of strings (tags, environment variables): an object whose values are strings (or deferred).
 * Lambda environment variables and AWS tags are strings; a number would be refused at deploy time.
 */
export function checkStringMap(fail: Fail, field: string, value: unknown): void {
    if (!checkKind(fail, field, value, "object")) return;
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        if (!isDeferred(v) && typeof v !== "string") fail(`${field}.${key}`, `must be a string, got ${shown(v)}`);
    }
}

/**
 * A component's `transforms`: an object whose keys are the children it can transform, each a
 * function, or for `nested` keys (a child component's transforms) an object of the same kind. A
 * misspelt key would otherwise be ignored without a word.
 */
export function checkTransforms(fail: Fail, field: string, value: unknown, known: readonly string[], nested: Record<string, readonly string[]> = {}): void {
    if (!checkKind(fail, field, value, "object", false)) return;
    const all = [...known, ...Object.keys(nested)];
    for (const [key, transform] of Object.entries(value as Record<string, unknown>)) {
        if (!all.includes(key)) fail(`${field}.${key}`, `is not a child this component transforms (known: ${all.join(", ")})`);
        if (nested[key]) checkTransforms(fail, `${field}.${key}`, transform, nested[key]);
        else if (transform !== undefined && typeof transform !== "function") fail(`${field}.${key}`, `must be a function (args) => args, got ${shown(transform)}`);
    }
}
