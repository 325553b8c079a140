// Validation: every pattern EventBridge rejects (where cheap to know) is an EventPatternError whose
// path names the field and whose message starts with that path.
import { expect } from "chai";
import { EventPatternError, matchesEventPattern, parseEventPattern, validateEventPattern } from "../../event-patterns";

type Bad = [name: string, pattern: unknown, path: string, message: string];

function errorOf(fn: () => unknown): EventPatternError {
    try {
        fn();
    } catch (err) {
        expect(err).to.be.instanceOf(EventPatternError);
        return err as EventPatternError;
    }
    throw new Error("expected an EventPatternError, nothing was thrown");
}

const bad: Bad[] = [
    // the pattern as a whole
    ["a pattern that is an array", [{ source: ["x"] }], "(pattern)", "an event pattern must be a JSON object, got array"],
    ["a pattern that is null", null, "(pattern)", "an event pattern must be a JSON object, got null"],
    ["a pattern that is a string", "{}", "(pattern)", "an event pattern must be a JSON object, got string"],
    ["an empty pattern", {}, "(pattern)", "an event pattern must name at least one field"],
    ["a pattern that is a class instance (e.g. an unresolved Output)", new (class OutputImpl {})(), "(pattern)", "got an instance of OutputImpl (not a plain JSON object; resolve it first, e.g. inside .apply)"],
    ["a pattern that is a Promise", Promise.resolve({ source: ["x"] }), "(pattern)", "got an instance of Promise (not a plain JSON object; resolve it first"],
    ["a matcher that is a Date", { time: [new Date(0)] }, "time", "got an instance of Date (not a plain JSON object)"],
    // structure
    ["a leaf that is a string", { source: "aws.ec2" }, "source", 'must be an array of matchers or a nested object, got string "aws.ec2"'],
    ["a nested leaf that is a number", { detail: { location: { city: 5 } } }, "detail.location.city", "must be an array of matchers or a nested object, got number 5"],
    ["a leaf that is null", { detail: { x: null } }, "detail.x", "must be an array of matchers or a nested object, got null"],
    ["an operator used as a field", { detail: { prefix: "us-" } }, "detail.prefix", 'operators go inside the field\'s array, e.g. "field": [{ "prefix": "us-" }]'],
    ["an empty nested object", { detail: {} }, "detail", "a nested pattern object must name at least one field"],
    ["an empty array", { source: [] }, "source", "the array of matchers must not be empty"],
    ["an empty nested array", { detail: { state: [] } }, "detail.state", "the array of matchers must not be empty"],
    ["an array inside the matcher array", { source: [["aws.ec2"]] }, "source", "each matcher must be a string, number, boolean, null or an operator object, got array"],
    ["a non-finite number", { detail: { n: [Infinity] } }, "detail.n", "exact value must be a finite number"],
    ["an undefined matcher", { detail: { n: [undefined] } }, "detail.n", "got undefined"],
    // operator objects
    ["an empty operator object", { source: [{}] }, "source", "an operator object needs one operator, got {}"],
    ["an operator object with two keys", { detail: { x: [{ prefix: "a", suffix: "b" }] } }, "detail.x", 'an operator object has exactly one operator, got 2: "prefix", "suffix"'],
    ["an unknown operator", { detail: { x: [{ contains: "a" }] } }, "detail.x", 'unknown operator "contains"'],
    ["an operator with the wrong case", { source: [{ Prefix: "a" }] }, "source", 'unknown operator "Prefix"'],
    ["the position of the bad matcher", { source: ["a", { bogus: 1 }] }, "source", "(matcher #2)"],
    // prefix / suffix
    ["a prefix that is a number", { source: [{ prefix: 1 }] }, "source", "prefix must be a string or { \"equals-ignore-case\": string }, got number 1"],
    ["a prefix that is a list", { source: [{ prefix: ["a", "b"] }] }, "source", "prefix must be a string"],
    ["a prefix object with another operator", { source: [{ prefix: { wildcard: "a*" } }] }, "source", 'prefix takes a string or { "equals-ignore-case": string }'],
    ["a prefix equals-ignore-case that is a number", { source: [{ prefix: { "equals-ignore-case": 1 } }] }, "source", "prefix equals-ignore-case must be a string, got number 1"],
    ["a suffix that is null", { detail: { f: [{ suffix: null }] } }, "detail.f", "suffix must be a string or { \"equals-ignore-case\": string }, got null"],
    ["a suffix equals-ignore-case that is a list", { detail: { f: [{ suffix: { "equals-ignore-case": [".png"] } }] } }, "detail.f", "suffix equals-ignore-case must be a string, got array"],
    // equals-ignore-case / wildcard
    ["equals-ignore-case with a number", { source: [{ "equals-ignore-case": 5 }] }, "source", "equals-ignore-case must be a string, got number 5"],
    ["a wildcard that is a number", { source: [{ wildcard: 5 }] }, "source", "wildcard must be a string, got number 5"],
    ["a wildcard with consecutive asterisks", { detail: { f: [{ wildcard: "a**b" }] } }, "detail.f", 'wildcard "a**b" has consecutive wildcard characters at position 1'],
    ["a wildcard with an invalid escape", { detail: { f: [{ wildcard: "a\\b" }] } }, "detail.f", "has an invalid escape at position 1"],
    ["a wildcard ending with a backslash", { detail: { f: [{ wildcard: "a\\" }] } }, "detail.f", "has an invalid escape at position 1"],
    // exists
    ["exists with a string", { detail: { c: [{ exists: "true" }] } }, "detail.c", 'exists must be true or false, got string "true"'],
    ["exists with a number", { detail: { c: [{ exists: 1 }] } }, "detail.c", "exists must be true or false, got number 1"],
    // numeric
    ["numeric that is not an array", { detail: { price: [{ numeric: 5 }] } }, "detail.price", "numeric operator needs an array"],
    ["numeric with a string operand", { detail: { price: [{ numeric: [">", "0"] }] } }, "detail.price", 'numeric operand of ">" must be a number, got string "0"'],
    ["numeric with a string upper bound", { detail: { price: [{ numeric: [">", 0, "<", "5"] }] } }, "detail.price", 'numeric operand of "<" must be a number, got string "5"'],
    ["numeric with an unknown comparison", { detail: { price: [{ numeric: ["==", 5] }] } }, "detail.price", 'numeric comparison operator must be one of "=", "<", "<=", ">", ">=", got "=="'],
    ["numeric with only an operator", { detail: { price: [{ numeric: [">"] }] } }, "detail.price", "numeric operator needs one or two comparisons"],
    ["numeric with three comparisons", { detail: { price: [{ numeric: [">", 0, "<", 5, "<", 6] }] } }, "detail.price", "numeric operator needs one or two comparisons"],
    ["numeric range with the upper bound first", { detail: { price: [{ numeric: ["<", 5, ">", 0] }] } }, "detail.price", "a numeric range starts with the lower bound"],
    ["numeric range with two lower bounds", { detail: { price: [{ numeric: [">", 0, ">=", 5] }] } }, "detail.price", 'the second numeric comparison must be "<" or "<=", got ">="'],
    ["numeric = followed by a second comparison", { detail: { price: [{ numeric: ["=", 0, "<", 5] }] } }, "detail.price", "a numeric range starts with the lower bound"],
    ["numeric range with bounds reversed", { detail: { price: [{ numeric: [">", 10, "<", 5] }] } }, "detail.price", "numeric range lower bound must be less than its upper bound"],
    ["numeric range with equal bounds", { detail: { price: [{ numeric: [">=", 5, "<=", 5] }] } }, "detail.price", "numeric range lower bound must be less than its upper bound"],
    ["numeric with NaN", { detail: { price: [{ numeric: [">", NaN] }] } }, "detail.price", 'numeric operand of ">" must be a number'],
    // anything-but
    ["anything-but null", { detail: { s: [{ "anything-but": null }] } }, "detail.s", "anything-but takes a string, a number, a list of strings or numbers"],
    ["anything-but boolean", { detail: { s: [{ "anything-but": true }] } }, "detail.s", "anything-but takes a string, a number"],
    ["anything-but mixed list", { detail: { s: [{ "anything-but": ["a", 1] }] } }, "detail.s", "anything-but list must hold only strings or only numbers"],
    ["anything-but list with null", { detail: { s: [{ "anything-but": ["a", null] }] } }, "detail.s", "anything-but list must hold only strings or only numbers"],
    ["anything-but empty list", { detail: { s: [{ "anything-but": [] }] } }, "detail.s", "anything-but list must not be empty"],
    ["anything-but with an unsupported operator", { detail: { s: [{ "anything-but": { numeric: [">", 1] } }] } }, "detail.s", 'anything-but does not support "numeric"'],
    ["anything-but object with two keys", { detail: { s: [{ "anything-but": { prefix: "a", suffix: "b" } }] } }, "detail.s", "anything-but object takes exactly one of prefix, suffix, equals-ignore-case, wildcard"],
    ["anything-but with an empty object", { detail: { s: [{ "anything-but": {} }] } }, "detail.s", "got {}"],
    ["anything-but prefix that is a number", { detail: { s: [{ "anything-but": { prefix: 1 } }] } }, "detail.s", "anything-but prefix must be a string or a list of strings, got number 1"],
    ["anything-but prefix that is empty", { detail: { s: [{ "anything-but": { prefix: "" } }] } }, "detail.s", "anything-but prefix must not be an empty string"],
    ["anything-but suffix that is empty", { detail: { s: [{ "anything-but": { suffix: "" } }] } }, "detail.s", "anything-but suffix must not be an empty string"],
    ["anything-but equals-ignore-case with a number", { detail: { s: [{ "anything-but": { "equals-ignore-case": 1 } }] } }, "detail.s", "anything-but equals-ignore-case must be a string or a list of strings"],
    ["anything-but wildcard with consecutive asterisks", { detail: { s: [{ "anything-but": { wildcard: "**" } }] } }, "detail.s", "anything-but wildcard \"**\" has consecutive wildcard characters"],
    // cidr
    ["cidr that is not a string", { detail: { ip: [{ cidr: 10 }] } }, "detail.ip", "cidr must be a string such as \"10.0.0.0/24\", got number 10"],
    ["cidr without a mask", { detail: { ip: [{ cidr: "10.0.0.0" }] } }, "detail.ip", 'exactly one "/" is required'],
    ["cidr with a non-numeric mask", { detail: { ip: [{ cidr: "10.0.0.0/x" }] } }, "detail.ip", "the mask bits after \"/\" must be a non-negative integer"],
    ["cidr with a bad address", { detail: { ip: [{ cidr: "10.0.0.300/8" }] } }, "detail.ip", '"10.0.0.300" is not an IPv4 or IPv6 address'],
    ["cidr with a hostname", { detail: { ip: [{ cidr: "example.com/8" }] } }, "detail.ip", '"example.com" is not an IPv4 or IPv6 address'],
    ["cidr /32 (EventBridge needs mask bits < 32)", { detail: { ip: [{ cidr: "10.0.0.1/32" }] } }, "detail.ip", "IPv4 mask bits must be < 32"],
    ["cidr /128 for IPv6", { detail: { ip: [{ cidr: "2001:db8::1/128" }] } }, "detail.ip", "IPv6 mask bits must be < 128"],
    ["cidr IPv6 with too many groups", { detail: { ip: [{ cidr: "1:2:3:4:5:6:7:8:9/64" }] } }, "detail.ip", "is not an IPv4 or IPv6 address"],
    // $or
    ["$or that is an object", { $or: { a: ["x"] } }, "$or", "must be an array of at least two pattern objects, got object"],
    ["$or with one alternative", { $or: [{ a: ["x"] }] }, "$or", "must be an array of at least two pattern objects, got an array of 1"],
    ["$or with an empty array", { detail: { $or: [] } }, "detail.$or", "got an array of 0"],
    ["$or with a non-object alternative", { $or: [{ a: ["x"] }, ["b"]] }, "$or[1]", "each $or alternative must be a pattern object, got array"],
    ["$or with an empty alternative", { $or: [{ a: ["x"] }, {}] }, "$or[1]", "a $or alternative must name at least one field"],
    ["a bad leaf inside $or", { $or: [{ a: ["x"] }, { detail: { x: [{ numeric: [">", "1"] }] } }] }, "$or[1].detail.x", 'numeric operand of ">" must be a number'],
    ["a bad leaf inside a nested $or", { detail: { $or: [{ a: ["x"] }, { b: "y" }] } }, "detail.$or[1].b", "must be an array of matchers or a nested object"],
    ["an operator name used as a field inside $or", { $or: [{ numeric: [123] }, { prefix: ["abc"] }] }, "$or[0].numeric", '"numeric" is a reserved operator name and cannot be a field name inside $or'],
    ["an operator name nested inside $or", { $or: [{ a: ["x"] }, { detail: { exists: [true] } }] }, "$or[1].detail.exists", "reserved operator name"],
];

const good: Array<[name: string, pattern: unknown]> = [
    ["the documented EC2 pattern", { source: ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], detail: { state: ["terminated"] } }],
    ["exact values of every JSON type", { detail: { a: ["s", 1, -2.5, true, false, null, ""] } }],
    ["every operator", { detail: { a: [{ prefix: "x" }, { prefix: { "equals-ignore-case": "x" } }, { suffix: "x" }, { suffix: { "equals-ignore-case": "x" } }, { "equals-ignore-case": "x" }, { wildcard: "a*b\\*c\\\\" }, { exists: true }, { exists: false }, { numeric: ["=", 1] }, { numeric: [">=", 0, "<", 1] }, { cidr: "10.0.0.0/8" }, { cidr: "2001:db8::/32" }] } }],
    ["every anything-but form", { detail: { a: [{ "anything-but": "x" }, { "anything-but": 1 }, { "anything-but": ["x", "y"] }, { "anything-but": [1, 2] }, { "anything-but": { prefix: "x" } }, { "anything-but": { suffix: "x" } }, { "anything-but": { "equals-ignore-case": ["x", "y"] } }, { "anything-but": { wildcard: ["*/lib/*", "*/bin/*"] } }] } }],
    ["an operator name as an ordinary field outside $or", { detail: { prefix: ["x"] } }],
    ["a field literally named like an operator value", { wildcard: [{ wildcard: "*" }] }],
    ["$or at the top and nested", { $or: [{ a: ["x"] }, { b: ["y"], $or: [{ c: [1] }, { d: [2] }] }], detail: { $or: [{ e: ["z"] }, { f: [{ exists: false }] }] } }],
    ["an empty prefix", { source: [{ prefix: "" }] }],
];

describe("event patterns: validation", () => {
    describe("rejected patterns name the field", () => {
        for (const [name, pattern, path, message] of bad) {
            it(`${name} -> ${path}`, () => {
                const err = errorOf(() => validateEventPattern(pattern));
                expect(err.path).to.equal(path);
                expect(err.message.startsWith(`${path}: `), err.message).to.equal(true);
                expect(err.message).to.include(message);
            });
        }
    });

    describe("accepted patterns", () => {
        for (const [name, pattern] of good) {
            it(`accepts ${name}`, () => {
                expect(() => validateEventPattern(pattern)).not.to.throw();
            });
        }
    });

    describe("parseEventPattern", () => {
        it("parses JSON text into the validated pattern", () => {
            expect(parseEventPattern('{ "source": ["aws.ec2"], "detail": { "n": [{ "numeric": [">", 1] }] } }')).to.deep.equal({
                source: ["aws.ec2"],
                detail: { n: [{ numeric: [">", 1] }] },
            });
        });

        it("returns an object pattern as given once valid", () => {
            const pattern = { source: ["aws.ec2"] };
            expect(parseEventPattern(pattern)).to.equal(pattern);
        });

        it("reports JSON syntax errors with the path (pattern)", () => {
            const err = errorOf(() => parseEventPattern('{ "source": ["aws.ec2", }'));
            expect(err.path).to.equal("(pattern)");
            expect(err.message).to.match(/^\(pattern\): invalid JSON: /);
        });

        it("reports empty text with the path (pattern)", () => {
            const err = errorOf(() => parseEventPattern("  "));
            expect(err.message).to.equal("(pattern): the pattern is empty: expected a JSON object");
        });

        it("reports a JSON text that is not an object", () => {
            const err = errorOf(() => parseEventPattern('["aws.ec2"]'));
            expect(err.message).to.equal("(pattern): an event pattern must be a JSON object, got array");
        });

        it("names the field of an invalid pattern given as text", () => {
            const err = errorOf(() => parseEventPattern('{ "detail": { "location": { "city": "Paris" } } }'));
            expect(err.path).to.equal("detail.location.city");
        });
    });

    describe("EventPatternError", () => {
        it("is an Error with name, path and reason", () => {
            const err = new EventPatternError("detail.x", "bad");
            expect(err).to.be.instanceOf(Error);
            expect([err.name, err.path, err.reason, err.message]).to.deep.equal(["EventPatternError", "detail.x", "bad", "detail.x: bad"]);
        });
    });

    describe("matching an invalid pattern", () => {
        it("throws the validation error instead of answering", () => {
            const err = errorOf(() => matchesEventPattern({ source: "aws.ec2" }, { source: "aws.ec2" }));
            expect(err.path).to.equal("source");
        });
    });
});
