// explainEventPatternMatch: which field failed and why (what `ops pattern test` prints).
import { expect } from "chai";
import { compileEventPattern, explainEventPatternMatch, EventPattern, MatchFailure } from "../../event-patterns";

const viewed: EventPattern = { source: ["bellyfed.restaurants"], "detail-type": ["RestaurantViewed"] };

const event = {
    version: "0",
    id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "RestaurantViewed",
    source: "bellyfed.restaurants",
    account: "111122223333",
    time: "2024-05-01T12:00:00Z",
    region: "us-east-1",
    resources: [],
    detail: { restaurantId: "r-1", price: 12.5, tags: ["thai", "vegan"], location: { city: "Paris" } },
};

type Case = [name: string, pattern: EventPattern, event: unknown, failures: MatchFailure[]];

const cases: Case[] = [
    ["an exact value that differs", viewed, { ...event, "detail-type": "X" }, [
        { path: "detail-type", reason: 'value "X" is not one of ["RestaurantViewed"]' },
    ]],
    ["every failing field, in pattern order", viewed, { ...event, source: "other", "detail-type": "X" }, [
        { path: "source", reason: 'value "other" is not one of ["bellyfed.restaurants"]' },
        { path: "detail-type", reason: 'value "X" is not one of ["RestaurantViewed"]' },
    ]],
    ["a missing field", { detail: { cuisine: ["thai"] } }, event, [
        { path: "detail.cuisine", reason: 'field is missing, expected one of ["thai"]' },
    ]],
    ["a missing field the event spells differently", { "detail-type": ["RestaurantViewed"] }, { DetailType: "RestaurantViewed" }, [
        { path: "detail-type", reason: 'field is missing, expected one of ["RestaurantViewed"] (the event has "DetailType"; field names are case-sensitive)' },
    ]],
    ["an operator that does not match", { detail: { restaurantId: [{ prefix: "x-" }] } }, event, [
        { path: "detail.restaurantId", reason: 'value "r-1" does not match [{"prefix":"x-"}]' },
    ]],
    ["a numeric range", { detail: { price: [{ numeric: [">", 0, "<=", 10] }] } }, event, [
        { path: "detail.price", reason: 'value 12.5 does not match [{"numeric":[">",0,"<=",10]}]' },
    ]],
    ["a numeric string against a numeric matcher", { detail: { price: [{ numeric: [">", 0] }] } }, { ...event, detail: { price: "12.5" } }, [
        { path: "detail.price", reason: 'value "12.5" does not match [{"numeric":[">",0]}] (numbers match JSON numbers only, not numeric strings)' },
    ]],
    ["an event array where no element matches", { detail: { tags: ["italian", "french"] } }, event, [
        { path: "detail.tags", reason: 'none of the values ["thai","vegan"] is one of ["italian","french"]' },
    ]],
    ["exists: true on a missing field", { detail: { cuisine: [{ exists: true }] } }, event, [
        { path: "detail.cuisine", reason: "field is missing, expected it to exist" },
    ]],
    ["exists: true on an object", { detail: { location: [{ exists: true }] } }, event, [
        { path: "detail.location", reason: 'field has no value (an object {"city":"Paris"}), expected it to exist' },
    ]],
    ["exists: false on a present field", { detail: { restaurantId: [{ exists: false }] } }, event, [
        { path: "detail.restaurantId", reason: 'field exists (value "r-1"), expected it to be absent' },
    ]],
    ["a leaf pattern on an object field", { detail: { location: ["Paris"] } }, event, [
        { path: "detail.location", reason: 'field has no value (an object {"city":"Paris"}), expected one of ["Paris"]' },
    ]],
    ["a nested pattern on a scalar field", { detail: { restaurantId: { id: ["r-1"] } } }, event, [
        { path: "detail.restaurantId", reason: 'expected an object with nested fields, found string "r-1"' },
    ]],
    ["detail given as a JSON string (PutEvents' Detail, unparsed)", { detail: { restaurantId: ["r-1"] } }, { ...event, detail: '{"restaurantId":"r-1"}' }, [
        { path: "detail", reason: 'expected an object with nested fields, found string "{\\"restaurantId\\":\\"r-1\\"}" (a JSON string: EventBridge matches parsed JSON, parse it first)' },
    ]],
    ["a deep nested field", { detail: { location: { city: ["Lyon"] } } }, event, [
        { path: "detail.location.city", reason: 'value "Paris" is not one of ["Lyon"]' },
    ]],
    ["$or with no matching alternative", { $or: [{ source: ["a"] }, { detail: { price: [{ numeric: ["<", 5] }] } }] }, event, [
        { path: "$or", reason: "none of the 2 $or alternatives matches" },
        { path: "$or[0].source", reason: 'value "bellyfed.restaurants" is not one of ["a"]' },
        { path: "$or[1].detail.price", reason: 'value 12.5 does not match [{"numeric":["<",5]}]' },
    ]],
    ["a nested $or", { detail: { $or: [{ a: ["x"] }, { b: ["y"] }] } }, event, [
        { path: "detail.$or", reason: "none of the 2 $or alternatives matches" },
        { path: "detail.$or[0].a", reason: 'field is missing, expected one of ["x"]' },
        { path: "detail.$or[1].b", reason: 'field is missing, expected one of ["y"]' },
    ]],
    ["an array of objects where no element matches", { detail: { items: { qty: [{ numeric: [">", 2] }] } } }, { detail: { items: [{ qty: 1 }, { qty: 2 }] } }, [
        { path: "detail.items", reason: "none of the 2 array elements matches the nested pattern" },
        { path: "detail.items[0].qty", reason: 'value 1 does not match [{"numeric":[">",2]}]' },
        { path: "detail.items[1].qty", reason: 'value 2 does not match [{"numeric":[">",2]}]' },
    ]],
    ["a long array of objects (details the first three)", { items: { qty: [9] } }, { items: [{ qty: 1 }, { qty: 2 }, { qty: 3 }, { qty: 4 }] }, [
        { path: "items", reason: "none of the 4 array elements matches the nested pattern (the first 3 are detailed)" },
        { path: "items[0].qty", reason: "value 1 is not one of [9]" },
        { path: "items[1].qty", reason: "value 2 is not one of [9]" },
        { path: "items[2].qty", reason: "value 3 is not one of [9]" },
    ]],
    ["an event that is not an object", viewed, "{}", [
        { path: "(event)", reason: 'an event must be a JSON object, got string "{}" (parse the event\'s JSON text first)' },
    ]],
    ["an event that is null", viewed, null, [
        { path: "(event)", reason: "an event must be a JSON object, got null" },
    ]],
];

describe("event patterns: explain", () => {
    it("reports a match with no failures", () => {
        expect(explainEventPatternMatch(viewed, event)).to.deep.equal({ matched: true, failures: [] });
    });

    it("reports no failures when a $or alternative matched even though another failed", () => {
        const pattern = { $or: [{ source: ["nope"] }, { "detail-type": ["RestaurantViewed"] }] };
        expect(explainEventPatternMatch(pattern, event)).to.deep.equal({ matched: true, failures: [] });
    });

    it("reports no failures when a later array element matched", () => {
        const pattern = { items: { qty: [2] } };
        expect(explainEventPatternMatch(pattern, { items: [{ qty: 1 }, { qty: 2 }] })).to.deep.equal({ matched: true, failures: [] });
    });

    for (const [name, pattern, ev, failures] of cases) {
        it(`explains ${name}`, () => {
            expect(explainEventPatternMatch(pattern, ev)).to.deep.equal({ matched: false, failures });
        });
    }

    it("agrees with compiled patterns' explain", () => {
        const compiled = compileEventPattern(viewed);
        expect(compiled.explain({ ...event, "detail-type": "X" })).to.deep.equal(explainEventPatternMatch(viewed, { ...event, "detail-type": "X" }));
    });

    it("agrees with matching on every case", () => {
        const answers = cases.map(([, pattern, ev]) => compileEventPattern(pattern).matches(ev));
        expect(answers).to.deep.equal(cases.map(() => false));
    });
});
