/**
 * Matching an event against a compiled pattern, with EventBridge's semantics:
 * - every field named in the pattern must match (AND); a leaf matches when any matcher matches (OR);
 * - an event array matches when any of its elements matches (nested arrays are flattened);
 *   a nested pattern applied to an array of objects must match within one element;
 * - `exists` works on leaves only: an object or an empty array is not a leaf value, so
 *   `{ "exists": false }` matches it and `{ "exists": true }` does not;
 * - every other matcher needs the field present with a leaf value (`anything-but` included).
 * With a sink, it also records why the match failed, naming the field (see explain).
 */
import { compareNumbers, LeafNode, Matcher, ObjectNode, Scalar } from "./compile";
import { describeValue, show } from "./errors";
import { parseIp } from "./ip";

export interface MatchFailure {
    /** The failing pattern field: `detail-type`, `detail.items[0].price`, `$or[1].detail.x`. */
    path: string;
    /** Why it failed, e.g. `value "X" is not one of ["RestaurantViewed"]`. */
    reason: string;
}

/** How many array elements an explanation details when none of them matches. */
const EXPLAINED_ELEMENTS = 3;

const hasOwn = Object.prototype.hasOwnProperty;

function isObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

function join(path: string, key: string): string {
    return path === "" ? key : `${path}.${key}`;
}

function flatten(values: unknown[], out: unknown[] = []): unknown[] {
    for (const v of values) {
        if (Array.isArray(v)) flatten(v, out);
        else if (v !== undefined) out.push(v);
    }
    return out;
}

/** The leaf values of an event field: none when missing, an object, or an array without scalars. */
function leafValues(value: unknown): Scalar[] {
    if (value === undefined || isObject(value)) return [];
    if (Array.isArray(value)) return flatten(value).filter((v) => !isObject(v)) as Scalar[];
    return [value as Scalar];
}

export function matchNode(node: ObjectNode, value: unknown, sink?: MatchFailure[], path = ""): boolean {
    if (!Array.isArray(value)) return matchFields(node, value, sink, path);
    const elements = flatten(value);
    if (elements.length === 0) return matchFields(node, undefined, sink, path);
    if (!sink) {
        for (const element of elements) if (matchFields(node, element)) return true;
        return false;
    }
    const details: MatchFailure[][] = [];
    for (let i = 0; i < elements.length; i++) {
        const failures: MatchFailure[] = [];
        if (matchFields(node, elements[i], failures, `${path}[${i}]`)) return true;
        if (i < EXPLAINED_ELEMENTS) details.push(failures);
    }
    if (elements.length > 1) {
        const shown = elements.length > EXPLAINED_ELEMENTS ? ` (the first ${EXPLAINED_ELEMENTS} are detailed)` : "";
        sink.push({ path: path || "(event)", reason: `none of the ${elements.length} array elements matches the nested pattern${shown}` });
    }
    for (const failures of details) sink.push(...failures);
    return false;
}

function matchFields(node: ObjectNode, value: unknown, sink?: MatchFailure[], path = ""): boolean {
    const obj = isObject(value) ? value : undefined;
    if (sink && obj === undefined && value !== undefined) {
        // A scalar where the pattern expects an object: report that once instead of every missing child.
        const failures: MatchFailure[] = [];
        if (matchFields(node, undefined, failures, path)) return true;
        const hint = typeof value === "string" && /^\s*[{[]/.test(value) ? " (a JSON string: EventBridge matches parsed JSON, parse it first)" : "";
        sink.push({ path: path || "(event)", reason: `expected an object with nested fields, found ${describeValue(value)}${hint}` });
        return false;
    }
    let ok = true;
    for (const field of node.fields) {
        const v = obj !== undefined && hasOwn.call(obj, field.key) ? obj[field.key] : undefined;
        const fieldPath = sink ? join(path, field.key) : "";
        const before = sink ? sink.length : 0;
        const matched = field.kind === "leaf" ? matchLeaf(field, v, sink, fieldPath) : matchNode(field, v, sink, fieldPath);
        if (!matched) {
            if (!sink) return false;
            ok = false;
            if (v === undefined && obj !== undefined) hintSimilarKey(sink, before, obj, field.key);
        }
    }
    for (const or of node.ors) {
        if (!sink) {
            let any = false;
            for (const branch of or.branches) {
                if (matchFields(branch, value)) {
                    any = true;
                    break;
                }
            }
            if (!any) return false;
            continue;
        }
        const branchFailures: MatchFailure[] = [];
        let any = false;
        or.branches.forEach((branch, i) => {
            if (any) return;
            const failures: MatchFailure[] = [];
            if (matchFields(branch, value, failures, join(path, `$or[${i}]`))) any = true;
            else branchFailures.push(...failures);
        });
        if (!any) {
            ok = false;
            sink.push({ path: join(path, "$or"), reason: `none of the ${or.branches.length} $or alternatives matches` });
            sink.push(...branchFailures);
        }
    }
    return ok;
}

function normalizeKey(key: string): string {
    return key.toLowerCase().replace(/[-_\s]/g, "");
}

/** A missing field whose name the event spells differently (DetailType vs detail-type): say so. */
function hintSimilarKey(sink: MatchFailure[], from: number, obj: Record<string, unknown>, key: string): void {
    const wanted = normalizeKey(key);
    const similar = Object.keys(obj).find((k) => k !== key && normalizeKey(k) === wanted);
    if (similar === undefined) return;
    for (let i = from; i < sink.length; i++) {
        sink[i] = { path: sink[i].path, reason: `${sink[i].reason} (the event has ${JSON.stringify(similar)}; field names are case-sensitive)` };
    }
}

function exactEquals(m: Extract<Matcher, { kind: "exact" }>, x: Scalar): boolean {
    if (x === m.value) return true;
    if (typeof x === "number" && typeof m.value === "number") return compareNumbers(x, m.value) === 0;
    if (m.ip !== undefined && typeof x === "string") {
        const ip = parseIp(x);
        return ip !== undefined && ip.family === m.ip.family && ip.value === m.ip.value;
    }
    return false;
}

function matcherMatches(m: Matcher, leaves: Scalar[]): boolean {
    switch (m.kind) {
        case "exists":
            return m.exists === leaves.length > 0;
        case "exact":
            for (const x of leaves) if (exactEquals(m, x)) return true;
            return false;
        default:
            for (const x of leaves) if (m.test(x)) return true;
            return false;
    }
}

function matchLeaf(leaf: LeafNode, value: unknown, sink: MatchFailure[] | undefined, path: string): boolean {
    const leaves = leafValues(value);
    for (const m of leaf.matchers) if (matcherMatches(m, leaves)) return true;
    if (sink) sink.push({ path, reason: leafReason(leaf, value, leaves) });
    return false;
}

function leafReason(leaf: LeafNode, value: unknown, leaves: Scalar[]): string {
    const single = leaf.raw.length === 1 && leaf.matchers[0].kind === "exists" ? leaf.matchers[0].exists : undefined;
    if (single === true) {
        return value === undefined ? "field is missing, expected it to exist" : `field has no value (${describe(value)}), expected it to exist`;
    }
    if (single === false) {
        return `field exists (${leaves.length === 1 ? `value ${show(leaves[0])}` : `values ${show(leaves)}`}), expected it to be absent`;
    }
    const list = show(leaf.raw);
    const expected = leaf.allExact ? `one of ${list}` : `a match for ${list}`;
    if (leaves.length === 0) {
        return value === undefined ? `field is missing, expected ${expected}` : `field has no value (${describe(value)}), expected ${expected}`;
    }
    let reason: string;
    if (leaves.length === 1) {
        reason = leaf.allExact ? `value ${show(leaves[0])} is not one of ${list}` : `value ${show(leaves[0])} does not match ${list}`;
    } else {
        reason = leaf.allExact ? `none of the values ${show(leaves)} is one of ${list}` : `none of the values ${show(leaves)} matches ${list}`;
    }
    if (leaf.numeric && leaves.some((x) => typeof x === "string" && x.trim() !== "" && Number.isFinite(Number(x)))) {
        reason += " (numbers match JSON numbers only, not numeric strings)";
    }
    return reason;
}

function describe(value: unknown): string {
    if (Array.isArray(value)) return value.length === 0 ? "an empty array" : "an array of objects";
    return `an object ${show(value)}`;
}
