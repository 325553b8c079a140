/**
 * Turns a DynamoDB item, as lib-dynamodb unmarshalls it with `wrapNumbers: true`, into a value
 * `JSON.stringify` writes faithfully:
 * - sets (SS, NS, BS) become arrays (JSON.stringify writes a Set as `{}`);
 * - numbers (NumberValue) become JSON numbers when a JS number holds them exactly, else strings
 *   with all their digits (DynamoDB keeps 38 digits; 2^53 + 1 or 0.1000000000000000000001 would
 *   silently change as a JS number, and lib-dynamodb's default unmarshalling throws on them);
 * - binary (B, BS) becomes base64 (JSON.stringify writes a Uint8Array as an object of bytes).
 *
 * `isNumberValue` recognises lib-dynamodb's NumberValue; the caller passes it so that nothing of the
 * SDK is captured here (the handlers require the SDK inside their factories).
 */
export function toJsonItem(value: unknown, isNumberValue: (v: unknown) => v is { value: string }): unknown {
    if (value === null || typeof value !== "object") return value;
    if (isNumberValue(value)) return jsonNumber(value.value);
    if (value instanceof Set) return [...value].map((v) => toJsonItem(v, isNumberValue));
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
    if (Array.isArray(value)) return value.map((v) => toJsonItem(v, isNumberValue));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonItem(v, isNumberValue)]));
}

/**
 * A DynamoDB number string as a JSON number when a double holds it exactly, else the string itself.
 * Exact means: the double prints back as the same digits, or the number has at most 15 significant
 * digits (every such decimal survives the round trip through a double: "1.50" is 1.5).
 */
export function jsonNumber(digits: string): number | string {
    const n = Number(digits);
    if (!Number.isFinite(n)) return digits;
    return String(n) === digits || significantDigits(digits) <= 15 ? n : digits;
}

function significantDigits(digits: string): number {
    const mantissa = digits.replace(/^[+-]/, "").split(/[eE]/)[0].replace(".", "");
    return mantissa.replace(/^0+/, "").replace(/0+$/, "").length;
}
