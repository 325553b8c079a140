/**
 * Validation and compilation of EventBridge event patterns. One walk does both: every rule that
 * EventBridge enforces when a rule is created (and that is cheap to check) raises an
 * EventPatternError naming the field; the result is a tree of ready-to-run matchers.
 *
 * Grammar (per the EventBridge user guide, "Event patterns" and "Comparison operators"):
 *   pattern   := { key: leaf | pattern, ..., "$or"?: [pattern, pattern, ...] }   (at least one key)
 *   leaf      := [ matcher, ... ]                                                  (non-empty)
 *   matcher   := string | number | boolean | null | { operator: operand }         (one key)
 */
import { describeValue, EventPatternError, show, typeName } from "./errors";
import { CidrBlock, inCidr, IpAddress, parseCidr, parseIp } from "./ip";

export type Scalar = string | number | boolean | null;

/** One compiled entry of a leaf array. */
export type Matcher =
    | { kind: "exact"; value: Scalar; ip?: IpAddress }
    | { kind: "exists"; exists: boolean }
    | { kind: "test"; test: (value: Scalar) => boolean };

export interface LeafNode {
    kind: "leaf";
    key: string;
    matchers: Matcher[];
    /** The matchers as written, for explanations. */
    raw: unknown[];
    /** true when every matcher is an exact value (explanations then say "is not one of"). */
    allExact: boolean;
    /** true when a matcher only matches numbers (explanations hint at strings that look numeric). */
    numeric: boolean;
}

export interface ObjectNode {
    kind: "object";
    key: string;
    fields: Array<LeafNode | ObjectNode>;
    ors: OrNode[];
}

export interface OrNode {
    branches: ObjectNode[];
}

/** Operators EventBridge documents for event buses. */
export const OPERATORS = [
    "prefix",
    "suffix",
    "anything-but",
    "numeric",
    "exists",
    "equals-ignore-case",
    "wildcard",
    "cidr",
] as const;

/** Names EventBridge reserves: they cannot be field names inside `$or`. */
const RESERVED_IN_OR = new Set<string>([
    ...OPERATORS,
    "exactly",
    "=", "<", "<=", ">", ">=",
    "regex", "not-wildcard", "not-equals-ignore-case",
    "date-after", "date-on-or-after", "date-before", "date-on-or-before", "in-date-range",
    "ip-address-in-range", "ip-address-not-in-range",
]);

const OPERATOR_LIST = OPERATORS.join(", ");

export function isPlainObject(value: unknown): value is Record<string, unknown> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
}

function joinPath(parent: string, key: string): string {
    return parent === "" ? key : `${parent}.${key}`;
}

function fail(path: string, reason: string): never {
    throw new EventPatternError(path === "" ? "(pattern)" : path, reason);
}

/** Compiles (and thereby validates) a whole pattern. */
export function compilePattern(pattern: unknown): ObjectNode {
    if (!isPlainObject(pattern)) {
        const hint = typeof pattern === "string" ? " (parse JSON text with parseEventPattern)" : "";
        fail("", `an event pattern must be a JSON object, got ${typeName(pattern)}${hint}`);
    }
    if (Object.keys(pattern).length === 0) fail("", "an event pattern must name at least one field, got {}");
    return compileObject(pattern, "", "", false);
}

function compileObject(obj: Record<string, unknown>, key: string, path: string, insideOr: boolean): ObjectNode {
    const node: ObjectNode = { kind: "object", key, fields: [], ors: [] };
    const keys = Object.keys(obj);
    if (keys.length === 0) fail(path, "a nested pattern object must name at least one field, got {}");
    for (const k of keys) {
        const value = obj[k];
        if (k === "$or") {
            node.ors.push(compileOr(value, joinPath(path, "$or")));
            continue;
        }
        const childPath = joinPath(path, k);
        if (insideOr && RESERVED_IN_OR.has(k)) {
            fail(childPath, `"${k}" is a reserved operator name and cannot be a field name inside $or`);
        }
        if (Array.isArray(value)) {
            node.fields.push(compileLeaf(value, k, childPath));
        } else if (isPlainObject(value)) {
            node.fields.push(compileObject(value, k, childPath, insideOr));
        } else {
            const hint = (OPERATORS as readonly string[]).includes(k)
                ? ` ("${k}" is an operator: operators go inside the field's array, e.g. "field": [{ "${k}": ${show(value)} }])`
                : ` (wrap values in an array, e.g. ${show([value])})`;
            fail(childPath, `must be an array of matchers or a nested object, got ${describeValue(value)}${hint}`);
        }
    }
    return node;
}

function compileOr(value: unknown, orPath: string): OrNode {
    if (!Array.isArray(value) || value.length < 2) {
        fail(orPath, `must be an array of at least two pattern objects, got ${Array.isArray(value) ? `an array of ${value.length}` : typeName(value)}`);
    }
    const branches = value.map((branch, i) => {
        const branchPath = `${orPath}[${i}]`;
        if (!isPlainObject(branch)) fail(branchPath, `each $or alternative must be a pattern object, got ${describeValue(branch)}`);
        if (Object.keys(branch).length === 0) fail(branchPath, "a $or alternative must name at least one field, got {}");
        return compileObject(branch, "", branchPath, true);
    });
    return { branches };
}

function compileLeaf(values: unknown[], key: string, path: string): LeafNode {
    if (values.length === 0) fail(path, "the array of matchers must not be empty (an empty array matches nothing and EventBridge rejects it)");
    const matchers: Matcher[] = [];
    let allExact = true;
    let numeric = false;
    values.forEach((v, i) => {
        const m = compileMatcher(v, path, values.length > 1 ? ` (matcher #${i + 1})` : "");
        if (m.kind !== "exact") allExact = false;
        if ((m.kind === "exact" && typeof m.value === "number") || (isPlainObject(v) && "numeric" in v)) numeric = true;
        matchers.push(m);
    });
    return { kind: "leaf", key, matchers, raw: values, allExact, numeric };
}

function compileMatcher(v: unknown, path: string, where: string): Matcher {
    if (v === null || typeof v === "string" || typeof v === "boolean") {
        return exact(v);
    }
    if (typeof v === "number") {
        if (!Number.isFinite(v)) fail(path, `exact value must be a finite number${where}, got ${v}`);
        return exact(v);
    }
    if (!isPlainObject(v)) {
        fail(path, `each matcher must be a string, number, boolean, null or an operator object${where}, got ${describeValue(v)}`);
    }
    const keys = Object.keys(v);
    if (keys.length === 0) fail(path, `an operator object needs one operator${where}, got {} (supported: ${OPERATOR_LIST})`);
    if (keys.length > 1) {
        fail(path, `an operator object has exactly one operator${where}, got ${keys.length}: ${keys.map((k) => JSON.stringify(k)).join(", ")} (list several matchers in the array instead)`);
    }
    const op = keys[0];
    const operand = v[op];
    const ctx = where;
    switch (op) {
        case "prefix":
            return stringOrIgnoreCase(operand, "prefix", path, ctx, (p) => (s) => s.startsWith(p), (p) => {
                const lower = p.toLowerCase();
                return (s) => s.toLowerCase().startsWith(lower);
            });
        case "suffix":
            return stringOrIgnoreCase(operand, "suffix", path, ctx, (p) => (s) => s.endsWith(p), (p) => {
                const lower = p.toLowerCase();
                return (s) => s.toLowerCase().endsWith(lower);
            });
        case "equals-ignore-case": {
            if (typeof operand !== "string") fail(path, `equals-ignore-case must be a string${ctx}, got ${describeValue(operand)}`);
            const test = equalsIgnoreCase(operand);
            return { kind: "test", test: (x) => typeof x === "string" && test(x) };
        }
        case "wildcard": {
            if (typeof operand !== "string") fail(path, `wildcard must be a string${ctx}, got ${describeValue(operand)}`);
            const test = wildcardMatcher(operand, path, "wildcard");
            return { kind: "test", test: (x) => typeof x === "string" && test(x) };
        }
        case "exists":
            if (typeof operand !== "boolean") fail(path, `exists must be true or false${ctx}, got ${describeValue(operand)}`);
            return { kind: "exists", exists: operand };
        case "numeric": {
            const test = numericTest(operand, path, ctx);
            return { kind: "test", test: (x) => typeof x === "number" && test(x) };
        }
        case "cidr": {
            if (typeof operand !== "string") fail(path, `cidr must be a string such as "10.0.0.0/24"${ctx}, got ${describeValue(operand)}`);
            const block = parseCidr(operand);
            if (typeof block === "string") fail(path, block);
            return { kind: "test", test: (x) => typeof x === "string" && cidrTest(block, x) };
        }
        case "anything-but": {
            const test = anythingButTest(operand, path, ctx);
            return { kind: "test", test: (x) => !test(x) };
        }
        default:
            fail(path, `unknown operator ${JSON.stringify(op)}${ctx} (supported: ${OPERATOR_LIST})`);
    }
}

function exact(value: Scalar): Matcher {
    if (typeof value === "string") {
        // EventBridge compares IP address literals as addresses: "2001:DB8::1" equals "2001:db8:0:0:0:0:0:1".
        const ip = parseIp(value);
        if (ip) return { kind: "exact", value, ip };
    }
    return { kind: "exact", value };
}

function cidrTest(block: CidrBlock, text: string): boolean {
    const ip = parseIp(text);
    return ip !== undefined && inCidr(block, ip);
}

function equalsIgnoreCase(expected: string): (s: string) => boolean {
    const lower = expected.toLowerCase();
    const upper = expected.toUpperCase();
    return (s) => s === expected || s.toLowerCase() === lower || s.toUpperCase() === upper;
}

function stringOrIgnoreCase(
    operand: unknown,
    op: "prefix" | "suffix",
    path: string,
    ctx: string,
    plain: (p: string) => (s: string) => boolean,
    ignoreCase: (p: string) => (s: string) => boolean,
): Matcher {
    if (typeof operand === "string") {
        const t = plain(operand);
        return { kind: "test", test: (x) => typeof x === "string" && t(x) };
    }
    if (isPlainObject(operand)) {
        const keys = Object.keys(operand);
        if (keys.length !== 1 || keys[0] !== "equals-ignore-case") {
            fail(path, `${op} takes a string or { "equals-ignore-case": string }${ctx}, got ${show(operand)}`);
        }
        const inner = operand["equals-ignore-case"];
        if (typeof inner !== "string") fail(path, `${op} equals-ignore-case must be a string${ctx}, got ${describeValue(inner)}`);
        const t = ignoreCase(inner);
        return { kind: "test", test: (x) => typeof x === "string" && t(x) };
    }
    return fail(path, `${op} must be a string or { "equals-ignore-case": string }${ctx}, got ${describeValue(operand)}`);
}

/**
 * Wildcard syntax: `*` matches any run of characters (including none); `\*` is a literal `*` and
 * `\\` a literal backslash. EventBridge rejects consecutive wildcards (`**`) and any other escape.
 * Matching is linear (literal segments placed left to right), so no input can make it backtrack.
 */
export function wildcardMatcher(text: string, path: string, op: string): (s: string) => boolean {
    const segments: string[] = [""];
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (c === "*") {
            if (text[i + 1] === "*") fail(path, `${op} ${JSON.stringify(text)} has consecutive wildcard characters at position ${i} (EventBridge rejects "**")`);
            segments.push("");
        } else if (c === "\\") {
            const next = text[i + 1];
            if (next !== "*" && next !== "\\") {
                fail(path, `${op} ${JSON.stringify(text)} has an invalid escape at position ${i} (only \\* and \\\\ are allowed)`);
            }
            segments[segments.length - 1] += next;
            i++;
        } else {
            segments[segments.length - 1] += c;
        }
    }
    if (segments.length === 1) {
        const literal = segments[0];
        return (s) => s === literal;
    }
    const first = segments[0];
    const last = segments[segments.length - 1];
    const middle = segments.slice(1, -1).filter((m) => m !== "");
    const fixed = first.length + last.length;
    return (s) => {
        if (s.length < fixed || !s.startsWith(first) || !s.endsWith(last)) return false;
        const end = s.length - last.length;
        let pos = first.length;
        for (const m of middle) {
            const at = s.indexOf(m, pos);
            if (at < 0 || at + m.length > end) return false;
            pos = at + m.length;
        }
        return true;
    };
}

/**
 * EventBridge compares numbers to six digits after the decimal point. Within +/-1e9 the scaled
 * values are exact integers in a double; beyond that, doubles are compared as they are.
 */
export function compareNumbers(a: number, b: number): number {
    if (a === b) return 0;
    if (Math.abs(a) < 1e9 && Math.abs(b) < 1e9) return Math.round(a * 1e6) - Math.round(b * 1e6);
    return a - b;
}

const LOWER_OPS = new Set([">", ">="]);
const UPPER_OPS = new Set(["<", "<="]);
const NUMERIC_SHAPE = `["=", n], ["<", n], ["<=", n], [">", n], [">=", n] or a range [">"|">=", low, "<"|"<=", high]`;

function numericOperand(value: unknown, op: string, path: string, ctx: string): number {
    if (typeof value !== "number" || !Number.isFinite(value)) {
        fail(path, `numeric operand of "${op}" must be a number${ctx}, got ${describeValue(value)}`);
    }
    return value;
}

function compare(op: string, bound: number): (x: number) => boolean {
    switch (op) {
        case "=": return (x) => compareNumbers(x, bound) === 0;
        case "<": return (x) => compareNumbers(x, bound) < 0;
        case "<=": return (x) => compareNumbers(x, bound) <= 0;
        case ">": return (x) => compareNumbers(x, bound) > 0;
        default: return (x) => compareNumbers(x, bound) >= 0;
    }
}

function numericTest(operand: unknown, path: string, ctx: string): (x: number) => boolean {
    if (!Array.isArray(operand)) fail(path, `numeric operator needs an array: ${NUMERIC_SHAPE}${ctx}, got ${describeValue(operand)}`);
    if (operand.length !== 2 && operand.length !== 4) {
        fail(path, `numeric operator needs one or two comparisons: ${NUMERIC_SHAPE}${ctx}, got ${show(operand)}`);
    }
    const op1 = operand[0];
    if (typeof op1 !== "string" || !(op1 === "=" || LOWER_OPS.has(op1) || UPPER_OPS.has(op1))) {
        fail(path, `numeric comparison operator must be one of "=", "<", "<=", ">", ">="${ctx}, got ${show(op1)}`);
    }
    const n1 = numericOperand(operand[1], op1, path, ctx);
    const first = compare(op1, n1);
    if (operand.length === 2) return first;
    if (!LOWER_OPS.has(op1)) {
        fail(path, `a numeric range starts with the lower bound (">" or ">=") and ends with the upper bound ("<" or "<=")${ctx}, got ${show(operand)}`);
    }
    const op2 = operand[2];
    if (typeof op2 !== "string" || !UPPER_OPS.has(op2)) {
        fail(path, `the second numeric comparison must be "<" or "<="${ctx}, got ${show(op2)}`);
    }
    const n2 = numericOperand(operand[3], op2, path, ctx);
    if (compareNumbers(n1, n2) >= 0) fail(path, `numeric range lower bound must be less than its upper bound${ctx}, got ${show(operand)}`);
    const second = compare(op2, n2);
    return (x) => first(x) && second(x);
}

/** Returns the positive test that anything-but negates. */
function anythingButTest(operand: unknown, path: string, ctx: string): (x: Scalar) => boolean {
    const what = `anything-but`;
    if (typeof operand === "string") return (x) => x === operand;
    if (typeof operand === "number") {
        if (!Number.isFinite(operand)) fail(path, `${what} number must be finite${ctx}, got ${operand}`);
        return (x) => typeof x === "number" && compareNumbers(x, operand) === 0;
    }
    if (Array.isArray(operand)) {
        if (operand.length === 0) fail(path, `${what} list must not be empty${ctx}`);
        const allStrings = operand.every((x) => typeof x === "string");
        const allNumbers = operand.every((x) => typeof x === "number" && Number.isFinite(x));
        if (!allStrings && !allNumbers) {
            fail(path, `${what} list must hold only strings or only numbers${ctx}, got ${show(operand)}`);
        }
        if (allStrings) {
            const set = new Set<string>(operand as string[]);
            return (x) => typeof x === "string" && set.has(x);
        }
        const numbers = operand as number[];
        return (x) => typeof x === "number" && numbers.some((n) => compareNumbers(x, n) === 0);
    }
    if (isPlainObject(operand)) {
        const keys = Object.keys(operand);
        if (keys.length !== 1) {
            fail(path, `${what} object takes exactly one of prefix, suffix, equals-ignore-case, wildcard${ctx}, got ${keys.length === 0 ? "{}" : keys.map((k) => JSON.stringify(k)).join(", ")}`);
        }
        const inner = keys[0];
        const value = operand[inner];
        const strings = (): string[] => {
            const list = Array.isArray(value) ? value : [value];
            if (Array.isArray(value) && value.length === 0) fail(path, `${what} ${inner} list must not be empty${ctx}`);
            for (const s of list) {
                if (typeof s !== "string") fail(path, `${what} ${inner} must be a string or a list of strings${ctx}, got ${describeValue(s)}`);
                if ((inner === "prefix" || inner === "suffix") && s === "") fail(path, `${what} ${inner} must not be an empty string${ctx}`);
            }
            return list as string[];
        };
        switch (inner) {
            case "prefix": {
                const list = strings();
                return (x) => typeof x === "string" && list.some((p) => x.startsWith(p));
            }
            case "suffix": {
                const list = strings();
                return (x) => typeof x === "string" && list.some((p) => x.endsWith(p));
            }
            case "equals-ignore-case": {
                const tests = strings().map(equalsIgnoreCase);
                return (x) => typeof x === "string" && tests.some((t) => t(x));
            }
            case "wildcard": {
                const tests = strings().map((w) => wildcardMatcher(w, path, `${what} wildcard`));
                return (x) => typeof x === "string" && tests.some((t) => t(x));
            }
            default:
                fail(path, `${what} does not support ${JSON.stringify(inner)}${ctx} (supported: prefix, suffix, equals-ignore-case, wildcard)`);
        }
    }
    return fail(path, `${what} takes a string, a number, a list of strings or numbers, or { prefix | suffix | equals-ignore-case | wildcard }${ctx}, got ${describeValue(operand)}`);
}
