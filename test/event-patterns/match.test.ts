// The matcher's table of cases, taken from the EventBridge user guide's examples ("Event patterns",
// "Comparison operators", "Arrays", "Null values and empty strings", "Content filtering"),
// positive and negative, grouped per operator. One `it` per case.
import { expect } from "chai";
import { compileEventPattern, matchesEventPattern, EventPattern } from "../../event-patterns";

type Case = [name: string, pattern: EventPattern, event: Record<string, unknown>, expected: boolean];

/** The EC2 state-change event of the user guide / Event Ruler examples. */
const ec2 = {
    version: "0",
    id: "ddddd4-aaaa-7777-4444-345dd43cc333",
    "detail-type": "EC2 Instance State-change Notification",
    source: "aws.ec2",
    account: "012345679012",
    time: "2017-10-02T16:24:49Z",
    region: "us-east-1",
    resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
    detail: {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-000000aaaaaa00000",
        state: "running",
    },
};

function detail(patch: Record<string, unknown>): Record<string, unknown> {
    return { ...ec2, detail: { ...ec2.detail, ...patch } };
}

function withDetail(d: Record<string, unknown>): Record<string, unknown> {
    return { ...ec2, detail: d };
}

const groups: Record<string, Case[]> = {
    "exact values and structure": [
        ["matches source, detail-type and a nested field", { source: ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], detail: { state: ["running"] } }, ec2, true],
        ["fails when one field differs (AND across fields)", { source: ["aws.ec2"], detail: { state: ["terminated"] } }, ec2, false],
        ["matches any value of the array (OR within a field)", { source: ["aws.ec2", "aws.fargate"] }, ec2, true],
        ["fails when no value of the array is equal", { source: ["aws.s3", "aws.fargate"] }, ec2, false],
        ["is case-sensitive", { source: ["AWS.EC2"] }, ec2, false],
        ["does not normalize strings (no trimming)", { source: ["aws.ec2 "] }, ec2, false],
        ["ignores event fields the pattern does not name", { region: ["us-east-1"] }, ec2, true],
        ["fails when a named field is missing", { detail: { "no-such-field": ["x"] } }, ec2, false],
        ["needs the same nesting: a top-level key does not match a nested field", { state: ["running"] }, ec2, false],
        ["matches numbers", { detail: { "c-count": [5] } }, ec2, true],
        ["fails on a different number", { detail: { "c-count": [6] } }, ec2, false],
        ["a number does not match the same digits as a string", { detail: { "c-count": ["5"] } }, ec2, false],
        ["a string does not match the same digits as a number", { detail: { code: [5] } }, detail({ code: "5" }), false],
        ["matches numbers written differently (3.018e2 = 301.8)", { detail: { "x-limit": [3.018e2] } }, ec2, true],
        ["matches true", { detail: { enabled: [true] } }, detail({ enabled: true }), true],
        ["true does not match false", { detail: { enabled: [true] } }, detail({ enabled: false }), false],
        ["true does not match the string \"true\"", { detail: { enabled: [true] } }, detail({ enabled: "true" }), false],
        ["matches deeper nesting (Macie example: trigger.risk)", { source: ["aws.macie"], detail: { "risk-score": [80], trigger: { risk: [8] } } }, { source: "aws.macie", detail: { "risk-score": 80, trigger: { risk: 8, "alert-type": "basic" } } }, true],
        ["fails deeper nesting on another value", { detail: { trigger: { risk: [9] } } }, { detail: { trigger: { risk: 8 } } }, false],
        ["a nested pattern does not match a scalar field", { detail: { state: { name: ["running"] } } }, ec2, false],
        ["a leaf pattern does not match an object field", { detail: ["x"] }, ec2, false],
        ["matches an IPv6 literal written another way (addresses compare as addresses)", { detail: { ip: ["2001:db8::1"] } }, detail({ ip: "2001:DB8:0:0:0:0:0:1" }), true],
        ["does not match a different IPv6 address", { detail: { ip: ["2001:db8::1"] } }, detail({ ip: "2001:db8::2" }), false],
        ["matches a key containing a dot literally", { detail: { "a.b": ["x"] } }, detail({ "a.b": "x" }), true],
    ],
    "null values and empty strings": [
        ["[null] matches a null value", { detail: { responseElements: [null] } }, detail({ responseElements: null }), true],
        ["[\"\"] matches an empty string", { detail: { eventVersion: [""] } }, detail({ eventVersion: "" }), true],
        ["[\"\"] does not match null (not interchangeable)", { detail: { responseElements: [""] } }, detail({ responseElements: null }), false],
        ["[null] does not match an empty string", { detail: { eventVersion: [null] } }, detail({ eventVersion: "" }), false],
        ["[null] does not match a missing field", { detail: { responseElements: [null] } }, ec2, false],
    ],
    "arrays in events": [
        ["matches when the intersection with an event array is non-empty (resources)", { resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000", "arn:other"] }, ec2, true],
        ["matches the second element of the event array", { resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"] }, { resources: ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x", "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"] }, true],
        ["fails when no element is in the pattern", { resources: ["arn:x"] }, ec2, false],
        ["an empty event array matches nothing", { resources: ["arn:x"] }, { resources: [] }, false],
        ["matches inside an array of objects", { employees: { firstName: ["Anna"] } }, { employees: [{ firstName: "John", lastName: "Doe" }, { firstName: "Anna", lastName: "Smith" }] }, true],
        ["matches inside nested arrays of objects", { employees: { firstName: ["Peter"] } }, { employees: [[{ firstName: "John" }, { firstName: "Anna" }], [{ firstName: "Peter" }]] }, true],
        ["requires fields of one nested pattern to match in the same array element", { employees: { firstName: ["Anna"], lastName: ["Jones"] } }, { employees: [{ firstName: "Anna", lastName: "Smith" }, { firstName: "Peter", lastName: "Jones" }] }, false],
        ["matches two fields in the same array element", { employees: { firstName: ["Anna"], lastName: ["Smith"] } }, { employees: [{ firstName: "Anna", lastName: "Smith" }, { firstName: "Peter", lastName: "Jones" }] }, true],
        ["operators apply to each element of an event array", { detail: { tags: [{ prefix: "Ins" }] } }, detail({ tags: ["Custom_Alert", "Insider"] }), true],
    ],
    prefix: [
        ["matches a prefix (time starts with 2017-10-02)", { time: [{ prefix: "2017-10-02" }] }, ec2, true],
        ["fails on another prefix", { time: [{ prefix: "2017-10-03" }] }, ec2, false],
        ["is case-sensitive", { region: [{ prefix: "US-" }] }, ec2, false],
        ["only matches strings, not numbers", { detail: { "c-count": [{ prefix: "5" }] } }, ec2, false],
        ["does not match a missing field", { detail: { nothing: [{ prefix: "a" }] } }, ec2, false],
        ["equals-ignore-case prefix matches any casing (EventB)", { detail: { service: [{ prefix: { "equals-ignore-case": "EventB" } }] } }, detail({ service: "eventbridge" }), true],
        ["equals-ignore-case prefix matches upper case", { detail: { service: [{ prefix: { "equals-ignore-case": "eventb" } }] } }, detail({ service: "EVENTBRIDGE" }), true],
        ["equals-ignore-case prefix fails on another prefix", { detail: { service: [{ prefix: { "equals-ignore-case": "eventb" } }] } }, detail({ service: "lambda" }), false],
    ],
    suffix: [
        ["matches a suffix (FileName ends with .png)", { detail: { FileName: [{ suffix: ".png" }] } }, detail({ FileName: "photo.png" }), true],
        ["fails on another suffix", { detail: { FileName: [{ suffix: ".png" }] } }, detail({ FileName: "photo.jpg" }), false],
        ["is case-sensitive", { detail: { FileName: [{ suffix: ".png" }] } }, detail({ FileName: "photo.PNG" }), false],
        ["matches source ending with ec2", { source: [{ suffix: "ec2" }] }, ec2, true],
        ["equals-ignore-case suffix matches .PNG", { detail: { FileName: [{ suffix: { "equals-ignore-case": ".png" } }] } }, detail({ FileName: "photo.PNG" }), true],
        ["equals-ignore-case suffix matches tbridge in any case", { detail: { service: [{ suffix: { "equals-ignore-case": "tBridge" } }] } }, detail({ service: "EVENTBRIDGE" }), true],
        ["equals-ignore-case suffix fails on another suffix", { detail: { FileName: [{ suffix: { "equals-ignore-case": ".png" } }] } }, detail({ FileName: "photo.gif" }), false],
        ["only matches strings", { detail: { "c-count": [{ suffix: "5" }] } }, ec2, false],
    ],
    "equals-ignore-case": [
        ["matches another casing (Name is alice)", { detail: { Name: [{ "equals-ignore-case": "alice" }] } }, detail({ Name: "Alice" }), true],
        ["matches the same casing", { source: [{ "equals-ignore-case": "aws.ec2" }] }, ec2, true],
        ["matches all upper case", { source: [{ "equals-ignore-case": "AWS.EC2" }] }, ec2, true],
        ["fails on a different string", { detail: { Name: [{ "equals-ignore-case": "alice" }] } }, detail({ Name: "Alicia" }), false],
        ["is not a prefix match", { detail: { Name: [{ "equals-ignore-case": "ali" }] } }, detail({ Name: "Alice" }), false],
        ["only matches strings", { detail: { flag: [{ "equals-ignore-case": "true" }] } }, detail({ flag: true }), false],
    ],
    wildcard: [
        ["* matches a run of characters (Simple*Service)", { detail: { name: [{ wildcard: "Simple*Service" }] } }, detail({ name: "SimpleQueueService" }), true],
        ["* matches nothing at all", { detail: { name: [{ wildcard: "Simple*Service" }] } }, detail({ name: "SimpleService" }), true],
        ["fails when the fixed parts differ", { detail: { name: [{ wildcard: "Simple*Service" }] } }, detail({ name: "SimpleQueueServices" }), false],
        ["*.png matches a suffix", { detail: { FileName: [{ wildcard: "*.png" }] } }, detail({ FileName: "dir/photo.png" }), true],
        ["*.png treats the dot literally", { detail: { FileName: [{ wildcard: "*.png" }] } }, detail({ FileName: "photoxpng" }), false],
        ["several wildcards (dir/*/*.png)", { detail: { FilePath: [{ wildcard: "dir/*/*.png" }] } }, detail({ FilePath: "dir/2024/a.png" }), true],
        ["several wildcards fail when a part is missing", { detail: { FilePath: [{ wildcard: "dir/*/*.png" }] } }, detail({ FilePath: "dir/a.png" }), false],
        ["*Title* matches in the middle", { detail: { doc: [{ wildcard: "*Title*" }] } }, detail({ doc: "The Title Page" }), true],
        ["a lone * matches any string", { detail: { state: [{ wildcard: "*" }] } }, ec2, true],
        ["a lone * matches the empty string", { detail: { e: [{ wildcard: "*" }] } }, detail({ e: "" }), true],
        ["\\* matches a literal asterisk", { detail: { s: [{ wildcard: "a\\*b" }] } }, detail({ s: "a*b" }), true],
        ["\\* does not act as a wildcard", { detail: { s: [{ wildcard: "a\\*b" }] } }, detail({ s: "axxb" }), false],
        ["\\\\ matches a literal backslash", { detail: { s: [{ wildcard: "a\\\\*" }] } }, detail({ s: "a\\bc" }), true],
        ["regex characters are literal", { detail: { s: [{ wildcard: "a.(b)+*" }] } }, detail({ s: "a.(b)+zzz" }), true],
        ["is case-sensitive", { detail: { name: [{ wildcard: "simple*" }] } }, detail({ name: "SimpleService" }), false],
        ["matches across line breaks", { detail: { s: [{ wildcard: "a*b" }] } }, detail({ s: "a\nb" }), true],
        ["only matches strings", { detail: { "c-count": [{ wildcard: "*" }] } }, ec2, false],
        ["segments are found in order (a*b*c on aXbYc)", { detail: { s: [{ wildcard: "a*b*c" }] } }, detail({ s: "aXbYc" }), true],
        ["segments out of order do not match (a*b*c on acb)", { detail: { s: [{ wildcard: "a*b*c" }] } }, detail({ s: "acb" }), false],
        ["the prefix and suffix parts cannot overlap (ab*ba on aba)", { detail: { s: [{ wildcard: "ab*ba" }] } }, detail({ s: "aba" }), false],
        ["a*a needs two characters", { detail: { s: [{ wildcard: "a*a" }] } }, detail({ s: "a" }), false],
        ["a*a matches aa", { detail: { s: [{ wildcard: "a*a" }] } }, detail({ s: "aa" }), true],
        ["many wildcards against a long non-matching value", { detail: { s: [{ wildcard: "*a*a*a*a*a*a*a*a*a*a*b" }] } }, detail({ s: "a".repeat(20000) }), false],
    ],
    "anything-but": [
        ["matches a value other than the string (state is not initializing)", { detail: { state: [{ "anything-but": "initializing" }] } }, ec2, true],
        ["fails on the excluded string", { detail: { state: [{ "anything-but": "running" }] } }, ec2, false],
        ["matches a number other than the excluded one", { detail: { "x-limit": [{ "anything-but": 123 }] } }, ec2, true],
        ["fails on the excluded number", { detail: { "x-limit": [{ "anything-but": 301.8 }] } }, ec2, false],
        ["matches a value outside the string list", { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } }, ec2, true],
        ["fails on a value in the string list", { detail: { state: [{ "anything-but": ["stopped", "running"] }] } }, ec2, false],
        ["matches a number outside the number list", { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } }, ec2, true],
        ["fails on a number in the number list", { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } }, detail({ "x-limit": 200 }), false],
        ["a numeric exclusion does not exclude the same digits as a string", { detail: { code: [{ "anything-but": 5 }] } }, detail({ code: "5" }), true],
        ["does not match a missing field", { detail: { missing: [{ "anything-but": "x" }] } }, ec2, false],
        ["matches null (null is not the excluded string)", { detail: { v: [{ "anything-but": "x" }] } }, detail({ v: null }), true],
        ["anything-but prefix matches a value without the prefix (Region is not us-)", { region: [{ "anything-but": { prefix: "us-" } }] }, { ...ec2, region: "eu-west-1" }, true],
        ["anything-but prefix fails on a value with the prefix", { region: [{ "anything-but": { prefix: "us-" } }] }, ec2, false],
        ["anything-but prefix (state not init*) matches running", { detail: { state: [{ "anything-but": { prefix: "init" } }] } }, ec2, true],
        ["anything-but prefix (state not init*) fails on initializing", { detail: { state: [{ "anything-but": { prefix: "init" } }] } }, detail({ state: "initializing" }), false],
        ["anything-but suffix matches a file that is not .png", { detail: { FileName: [{ "anything-but": { suffix: ".png" } }] } }, detail({ FileName: "a.jpg" }), true],
        ["anything-but suffix fails on a .png file", { detail: { FileName: [{ "anything-but": { suffix: ".png" } }] } }, detail({ FileName: "a.png" }), false],
        ["anything-but equals-ignore-case matches another value", { detail: { state: [{ "anything-but": { "equals-ignore-case": "initializing" } }] } }, ec2, true],
        ["anything-but equals-ignore-case fails on another casing", { detail: { state: [{ "anything-but": { "equals-ignore-case": "initializing" } }] } }, detail({ state: "INITIALIZING" }), false],
        ["anything-but equals-ignore-case list fails on a listed value in any case", { detail: { state: [{ "anything-but": { "equals-ignore-case": ["stopped", "Running"] } }] } }, ec2, false],
        ["anything-but wildcard matches a path without /lib/", { detail: { FilePath: [{ "anything-but": { wildcard: "*/lib/*" } }] } }, detail({ FilePath: "/usr/bin/node" }), true],
        ["anything-but wildcard fails on a path with /lib/", { detail: { FilePath: [{ "anything-but": { wildcard: "*/lib/*" } }] } }, detail({ FilePath: "/usr/lib/node" }), false],
        ["anything-but wildcard list fails when any wildcard matches", { detail: { FilePath: [{ "anything-but": { wildcard: ["*/lib/*", "*/bin/*"] } }] } }, detail({ FilePath: "/usr/bin/node" }), false],
        ["matches an event array when some element is not excluded", { detail: { tags: [{ "anything-but": "Insider" }] } }, detail({ tags: ["Custom_Alert", "Insider"] }), true],
        ["fails on an event array whose elements are all excluded", { detail: { tags: [{ "anything-but": ["Custom_Alert", "Insider"] }] } }, detail({ tags: ["Custom_Alert", "Insider"] }), false],
    ],
    numeric: [
        ["> 0, <= 5 matches 5 (c-count)", { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }] } }, ec2, true],
        ["> 0, <= 5 fails on 6", { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }] } }, detail({ "c-count": 6 }), false],
        ["> 0, <= 5 fails on 0 (open lower bound)", { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }] } }, detail({ "c-count": 0 }), false],
        [">= 0, < 5 matches 0 (closed lower bound)", { detail: { "c-count": [{ numeric: [">=", 0, "<", 5] }] } }, detail({ "c-count": 0 }), true],
        [">= 0, < 5 fails on 5 (open upper bound)", { detail: { "c-count": [{ numeric: [">=", 0, "<", 5] }] } }, ec2, false],
        ["< 10 matches 3 (d-count)", { detail: { "d-count": [{ numeric: ["<", 10] }] } }, ec2, true],
        ["< 10 fails on 10", { detail: { "d-count": [{ numeric: ["<", 10] }] } }, detail({ "d-count": 10 }), false],
        ["<= 10 matches 10", { detail: { "d-count": [{ numeric: ["<=", 10] }] } }, detail({ "d-count": 10 }), true],
        ["> 3 fails on 3", { detail: { "d-count": [{ numeric: [">", 3] }] } }, ec2, false],
        [">= 3 matches 3", { detail: { "d-count": [{ numeric: [">=", 3] }] } }, ec2, true],
        ["= 3.018e2 matches 301.8 (x-limit)", { detail: { "x-limit": [{ numeric: ["=", 3.018e2] }] } }, ec2, true],
        ["= 301 fails on 301.8", { detail: { "x-limit": [{ numeric: ["=", 301] }] } }, ec2, false],
        ["matches negative numbers", { detail: { t: [{ numeric: ["<", 0] }] } }, detail({ t: -40.5 }), true],
        ["matches decimals with six digits", { detail: { p: [{ numeric: [">", 0.000001] }] } }, detail({ p: 0.000002 }), true],
        ["only matches JSON numbers, not numeric strings", { detail: { n: [{ numeric: [">", 0] }] } }, detail({ n: "5" }), false],
        ["does not match a missing field", { detail: { n: [{ numeric: [">", 0] }] } }, ec2, false],
        ["does not match booleans or null", { detail: { n: [{ numeric: [">=", 0] }] } }, detail({ n: null }), false],
        ["compares to six decimal places (= 0.1 matches 0.1000001)", { detail: { p: [{ numeric: ["=", 0.1] }] } }, detail({ p: 0.1000001 }), true],
        ["a difference in the sixth decimal place counts", { detail: { p: [{ numeric: ["=", 0.1] }] } }, detail({ p: 0.100001 }), false],
        ["matches large numbers", { detail: { bytes: [{ numeric: [">=", 4e9] }] } }, detail({ bytes: 4294967296 }), true],
        ["matches when one element of an event array is in range", { detail: { n: [{ numeric: [">", 10] }] } }, detail({ n: [1, 2, 11] }), true],
        ["complex example: prefix, anything-but and numeric together", { time: [{ prefix: "2017-10-02" }], detail: { state: [{ "anything-but": "initializing" }], "c-count": [{ numeric: [">", 0, "<=", 5] }], "d-count": [{ numeric: ["<", 10] }], "x-limit": [{ "anything-but": [100, 200, 300] }] } }, ec2, true],
        ["complex example fails when one numeric condition fails", { time: [{ prefix: "2017-10-02" }], detail: { "c-count": [{ numeric: [">", 0, "<=", 4] }], "d-count": [{ numeric: ["<", 10] }] } }, ec2, false],
    ],
    exists: [
        ["exists true matches a present field", { detail: { "c-count": [{ exists: true }] } }, ec2, true],
        ["exists true fails on a missing field", { detail: { "e-count": [{ exists: true }] } }, ec2, false],
        ["exists true matches a null value", { detail: { v: [{ exists: true }] } }, detail({ v: null }), true],
        ["exists true matches an empty string", { detail: { v: [{ exists: true }] } }, detail({ v: "" }), true],
        ["exists true fails on an object (exists works on leaves only)", { detail: { "c-count": [{ exists: true }] } }, detail({ "c-count": { c1: 100 } }), false],
        ["exists true fails on an empty array", { detail: { v: [{ exists: true }] } }, detail({ v: [] }), false],
        ["exists false matches a missing field (no detail.c-count)", { detail: { "c-count": [{ exists: false }] } }, withDetail({ state: ["initializing", "running"] }), true],
        ["exists false matches when the field is an object (not a leaf)", { detail: { "c-count": [{ exists: false }] } }, withDetail({ state: ["initializing", "running"], "c-count": { c1: 100 } }), true],
        ["exists false fails on a present field", { detail: { "c-count": [{ exists: false }] } }, ec2, false],
        ["exists false fails on a null value", { detail: { v: [{ exists: false }] } }, detail({ v: null }), false],
        ["exists false matches when the parent object is missing", { detail: { parent: { child: [{ exists: false }] } } }, ec2, true],
        ["exists false matches an empty array", { detail: { v: [{ exists: false }] } }, detail({ v: [] }), true],
        ["exists false OR a value: matches the value", { detail: { state: [{ exists: false }, "running"] } }, ec2, true],
        ["exists false OR a value: matches absence", { detail: { mode: [{ exists: false }, "fast"] } }, ec2, true],
        ["exists false OR a value: fails on another value", { detail: { state: [{ exists: false }, "stopped"] } }, ec2, false],
    ],
    cidr: [
        ["matches an IPv4 address in 10.0.0.0/24", { detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } }, ec2, true],
        ["matches the last address of the block", { detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } }, detail({ "source-ip": "10.0.0.255" }), true],
        ["fails outside the block", { detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } }, detail({ "source-ip": "10.0.1.0" }), false],
        ["/8 matches a wider range", { detail: { "source-ip": [{ cidr: "10.0.0.0/8" }] } }, detail({ "source-ip": "10.200.3.4" }), true],
        ["/0 matches every IPv4 address", { detail: { "source-ip": [{ cidr: "0.0.0.0/0" }] } }, detail({ "source-ip": "203.0.113.9" }), true],
        ["a block written with host bits set covers the whole network", { detail: { "source-ip": [{ cidr: "10.0.0.77/24" }] } }, detail({ "source-ip": "10.0.0.1" }), true],
        ["matches IPv6 addresses in 2001:db8::/32", { detail: { "source-ip": [{ cidr: "2001:db8::/32" }] } }, detail({ "source-ip": "2001:db8:1234::1" }), true],
        ["fails on IPv6 outside the block", { detail: { "source-ip": [{ cidr: "2001:db8::/32" }] } }, detail({ "source-ip": "2001:db9::1" }), false],
        ["an IPv4 block does not match IPv6 addresses", { detail: { "source-ip": [{ cidr: "0.0.0.0/0" }] } }, detail({ "source-ip": "::1" }), false],
        ["does not match a string that is not an address", { detail: { "source-ip": [{ cidr: "10.0.0.0/8" }] } }, detail({ "source-ip": "10.0.0.999" }), false],
        ["does not match a hostname", { detail: { "source-ip": [{ cidr: "10.0.0.0/8" }] } }, detail({ "source-ip": "example.com" }), false],
    ],
    $or: [
        ["matches when the first alternative matches (metricName)", { source: ["aws.cloudwatch"], $or: [{ metricName: ["CPUUtilization", "ReadLatency"] }, { namespace: ["AWS/EC2", "AWS/ES"] }] }, { source: "aws.cloudwatch", metricName: "ReadLatency" }, true],
        ["matches when the second alternative matches (namespace)", { source: ["aws.cloudwatch"], $or: [{ metricName: ["CPUUtilization", "ReadLatency"] }, { namespace: ["AWS/EC2", "AWS/ES"] }] }, { source: "aws.cloudwatch", namespace: "AWS/ES" }, true],
        ["fails when no alternative matches", { source: ["aws.cloudwatch"], $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2"] }] }, { source: "aws.cloudwatch", metricName: "Other", namespace: "AWS/RDS" }, false],
        ["fails when an alternative matches but a sibling field does not", { source: ["aws.cloudwatch"], $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2"] }] }, { source: "aws.ec2", metricName: "CPUUtilization" }, false],
        ["an alternative with several fields needs all of them (AND inside OR)", { $or: [{ metricName: ["CPUUtilization"] }, { metricType: ["MetricType"], namespace: ["AWS/EC2"] }] }, { metricType: "MetricType", namespace: "AWS/ES" }, false],
        ["an alternative with several fields matches when all match", { $or: [{ metricName: ["CPUUtilization"] }, { metricType: ["MetricType"], namespace: ["AWS/EC2"] }] }, { metricType: "MetricType", namespace: "AWS/EC2" }, true],
        ["works nested in an object (detail.$or)", { detail: { $or: [{ "c-count": [{ numeric: [">", 0, "<=", 5] }] }, { "d-count": [{ numeric: ["<", 10] }] }] } }, detail({ "c-count": 50 }), true],
        ["nested $or fails when neither alternative matches", { detail: { $or: [{ "c-count": [{ numeric: [">", 0, "<=", 5] }] }, { "d-count": [{ numeric: ["<", 10] }] }] } }, detail({ "c-count": 50, "d-count": 50 }), false],
        ["parallel $or at two levels must both match", { $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2"] }], detail: { $or: [{ source: ["aws.cloudwatch"] }, { "detail-type": ["CloudWatch Alarm State Change"] }] } }, { namespace: "AWS/EC2", detail: { source: "aws.cloudwatch" } }, true],
        ["parallel $or fails when the inner one fails", { $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2"] }], detail: { $or: [{ source: ["aws.cloudwatch"] }, { "detail-type": ["CloudWatch Alarm State Change"] }] } }, { namespace: "AWS/EC2", detail: { source: "aws.ec2" } }, false],
        ["$or nested inside an alternative", { source: ["aws.cloudwatch"], $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2"], $or: [{ metricId: [1234] }, { spaceId: [1000] }] }] }, { source: "aws.cloudwatch", namespace: "AWS/EC2", spaceId: 1000 }, true],
        ["$or nested inside an alternative fails when the inner $or fails", { source: ["aws.cloudwatch"], $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2"], $or: [{ metricId: [1234] }, { spaceId: [1000] }] }] }, { source: "aws.cloudwatch", namespace: "AWS/EC2", spaceId: 1 }, false],
        ["$or inside an array of objects matches within one element", { items: { $or: [{ a: [1] }, { b: [2] }], c: [3] } }, { items: [{ a: 1, c: 0 }, { b: 2, c: 3 }] }, true],
        ["$or inside an array of objects fails across elements", { items: { $or: [{ a: [1] }, { b: [2] }], c: [3] } }, { items: [{ a: 1, c: 0 }, { b: 0, c: 3 }] }, false],
    ],
};

describe("event patterns: matching (EventBridge documented examples)", () => {
    for (const [group, cases] of Object.entries(groups)) {
        describe(group, () => {
            for (const [name, pattern, event, expected] of cases) {
                it(`${expected ? "matches" : "does not match"}: ${name}`, () => {
                    expect(matchesEventPattern(pattern, event)).to.equal(expected);
                });
            }
        });
    }

    describe("compiled patterns", () => {
        it("give the same answers as matchesEventPattern for every case above", () => {
            const answers = Object.values(groups).flat().map(([, pattern, event]) => compileEventPattern(pattern).matches(event));
            const expected = Object.values(groups).flat().map(([, , , e]) => e);
            expect(answers).to.deep.equal(expected);
        });

        it("keep the pattern they were compiled from", () => {
            const pattern = { source: ["aws.ec2"] };
            expect(compileEventPattern(pattern).pattern).to.equal(pattern);
        });
    });

    describe("events that are not JSON objects", () => {
        for (const [label, event] of [["null", null], ["a string", JSON.stringify(ec2)], ["an array", [ec2]], ["a number", 1]] as const) {
            it(`does not match ${label}`, () => {
                expect(matchesEventPattern({ source: [{ exists: false }] }, event)).to.equal(false);
            });
        }
    });
});
