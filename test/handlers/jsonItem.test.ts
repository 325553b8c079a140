import { NumberValue } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import { jsonNumber, toJsonItem } from "../../handlers/runtime/jsonItem";

const isNumberValue = (v: unknown): v is { value: string } => v instanceof NumberValue;

describe("DynamoDB item to JSON", () => {
    for (const [digits, json] of [
        ["42", 42],
        ["-0.5", -0.5],
        ["1.50", 1.5],
        ["0.1", 0.1],
        ["9007199254740992", 9007199254740992],
        ["9007199254740993", "9007199254740993"],
        ["12345678901234567890123", "12345678901234567890123"],
        ["0.1000000000000000000001", "0.1000000000000000000001"],
        ["1E+3", 1000],
    ] as const) {
        it(`writes the DynamoDB number ${digits} as ${JSON.stringify(json)}`, () => {
            expect(jsonNumber(digits)).to.equal(json);
        });
    }

    it("writes sets as arrays, binary as base64 and keeps lists, maps, strings, booleans and null", () => {
        const item = {
            tags: new Set(["a", "b"]),
            counts: new Set([NumberValue.from("1"), NumberValue.from("2")]),
            photo: new Uint8Array([104, 105]),
            list: [NumberValue.from("3"), "x", null, true],
            map: { deep: { n: NumberValue.from("99999999999999999999") } },
        };
        expect(JSON.parse(JSON.stringify(toJsonItem(item, isNumberValue)))).to.deep.equal({
            tags: ["a", "b"],
            counts: [1, 2],
            photo: "aGk=",
            list: [3, "x", null, true],
            map: { deep: { n: "99999999999999999999" } },
        });
    });
});
