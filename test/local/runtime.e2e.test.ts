import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { expect } from "chai";
import { randomUUID } from "crypto";
import * as net from "net";
import { LocalRuntime } from "../../local/runtime";
import { eventually, request, startTestRuntime } from "../support/localRuntime";

/** The analytics queue: the one the RestaurantViewed rule delivers to (found in the state, not by name). */
async function analyticsQueue(rt: LocalRuntime) {
    const target = rt.model.rules[0].targets[0].resource!;
    const state = await rt.state();
    return state.queues.find((q) => q.name === target)!;
}

async function views(rt: LocalRuntime, id: string): Promise<number> {
    const { body } = await request(`${rt.urls.http}/restaurant/${id}/stats`);
    return body.views.total;
}

/** Waits until the analytics queue has nothing visible or in flight. */
async function drained(rt: LocalRuntime) {
    await eventually(() => analyticsQueue(rt), (q) => q.visible === 0 && q.inFlight === 0, { what: "analytics queue drained" });
}

function viewedEnvelope(restaurantId: string, id = randomUUID()) {
    return {
        version: "0",
        id,
        "detail-type": "RestaurantViewed",
        source: "bellyfed.restaurants",
        account: "123456789012",
        time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        region: "us-east-1",
        resources: [],
        detail: { version: 1, restaurantId, viewedAt: new Date().toISOString(), requestId: `req-${id}` },
    };
}

/** Sends raw bytes to the runtime's port and reads the answer until the server closes the connection. */
function rawRequest(httpUrl: string, text: string): Promise<{ status: number; headers: Record<string, string>; body: string; closed: boolean }> {
    const { hostname, port } = new URL(httpUrl);
    return new Promise((resolve, reject) => {
        const socket = net.connect(Number(port), hostname);
        let data = "";
        const finish = (closed: boolean) => {
            clearTimeout(timer);
            socket.destroy();
            const [head, ...rest] = data.split("\r\n\r\n");
            const [statusLine, ...headerLines] = head.split("\r\n");
            const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
            resolve({ status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n"), closed });
        };
        const timer = setTimeout(() => finish(false), 5000);
        socket.on("data", (chunk) => (data += chunk.toString("utf8")));
        socket.on("end", () => finish(true));
        socket.on("error", (error) => ((error as NodeJS.ErrnoException).code === "ECONNRESET" ? finish(true) : reject(error)));
        socket.write(text);
    });
}

describe("local runtime, end to end (dev stack, in memory)", function () {
    this.timeout(30_000);
    let rt: LocalRuntime;
    let events: EventBridgeClient;
    before(async () => {
        rt = await startTestRuntime();
        events = new EventBridgeClient({ endpoint: rt.urls.eventbridge, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" }, maxAttempts: 1 });
    });
    after(async () => {
        events?.destroy();
        await rt?.stop();
    });

    describe("restaurant query (GET /restaurant/{id})", () => {
        it("answers a seeded restaurant with 200 and the API's CORS headers", async () => {
            const res = await request(`${rt.urls.http}/restaurant/r-nasi-lemak-house`, { headers: { Origin: "http://localhost:5173" } });
            expect(res.status).to.equal(200);
            expect(res.body).to.include({ restaurantId: "r-nasi-lemak-house", name: "Nasi Lemak House" });
            expect(res.headers.get("access-control-allow-origin")).to.equal("*");
            expect(res.headers.get("content-type")).to.equal("application/json");
        });

        it("answers an unknown restaurant with 404 JSON", async () => {
            const res = await request(`${rt.urls.http}/restaurant/r-does-not-exist`, { headers: { Origin: "http://localhost:5173" } });
            expect([res.status, res.body]).to.deep.equal([404, { message: "Restaurant r-does-not-exist not found" }]);
            expect(res.headers.get("access-control-allow-origin")).to.equal("*");
        });

        it("answers a malformed id with 400 JSON", async () => {
            const res = await request(`${rt.urls.http}/restaurant/not%20valid!`);
            expect(res.status).to.equal(400);
            expect(res.body.message).to.match(/Invalid restaurant id/);
        });

        it("answers a path no route serves with 404 {message: Not Found}", async () => {
            const res = await request(`${rt.urls.http}/restaurants`);
            expect([res.status, res.body]).to.deep.equal([404, { message: "Not Found" }]);
        });

        it("adds no CORS headers to a request without Origin (a plain curl), as API Gateway does", async () => {
            const res = await request(`${rt.urls.http}/restaurant/r-nasi-lemak-house`);
            expect(res.status).to.equal(200);
            expect([...res.headers.keys()].filter((h) => h.startsWith("access-control-"))).to.deep.equal([]);
        });

        it("answers HEAD on a GET-only route with 404, as an HTTP API does (HEAD is a route method of its own)", async () => {
            const res = await fetch(`${rt.urls.http}/restaurant/r-nasi-lemak-house`, { method: "HEAD" });
            expect([res.status, await res.text()]).to.deep.equal([404, ""]);
        });

        it("answers a CORS preflight itself, as the API's corsConfiguration says", async () => {
            const res = await request(`${rt.urls.http}/restaurant/r-1`, { method: "OPTIONS", headers: { Origin: "http://localhost:5173", "Access-Control-Request-Method": "GET" } });
            expect(res.status).to.equal(204);
            expect(res.headers.get("access-control-allow-methods")).to.equal("GET,OPTIONS");
            expect(res.headers.get("access-control-max-age")).to.equal("3600");
        });
    });

    describe("analytics flow (bus -> rule -> queue -> consumer)", () => {
        it("N queries make /stats show N views", async () => {
            const n = 5;
            for (let i = 0; i < n; i++) expect((await request(`${rt.urls.http}/restaurant/r-pho-saigon`)).status).to.equal(200);
            const total = await eventually(() => views(rt, "r-pho-saigon"), (v) => v >= n, { what: `${n} views of r-pho-saigon` });
            await drained(rt);
            expect([total, await views(rt, "r-pho-saigon")]).to.deep.equal([n, n]);
        });

        it("counts a duplicated message (SQS at-least-once) once", async () => {
            const queue = await analyticsQueue(rt);
            const body = JSON.stringify(viewedEnvelope("r-dim-sum-palace"));
            for (let i = 0; i < 2; i++) {
                const sent = await request(`${rt.urls.http}/_local/queues/${queue.name}/messages`, { method: "POST", body: JSON.stringify({ body }) });
                expect(sent.status).to.equal(200);
            }
            await drained(rt);
            expect(await views(rt, "r-dim-sum-palace")).to.equal(1);
        });

        it("sends a poison event put through the PutEvents endpoint to the analytics DLQ, counting nothing", async () => {
            const result = await events.send(
                new PutEventsCommand({
                    Entries: [{ EventBusName: rt.model.rules[0].busName, Source: "bellyfed.restaurants", DetailType: "RestaurantViewed", Detail: JSON.stringify({ restaurantId: "r-satay-corner" }) }],
                }),
            );
            expect(result.FailedEntryCount).to.equal(0);
            const eventId = result.Entries![0].EventId!;
            const queue = await analyticsQueue(rt);
            const dlq = await eventually(
                async () => (await request(`${rt.urls.http}/_local/queues/${queue.name}/dlq`)).body,
                (d) => d.messages.some((m: any) => JSON.parse(m.body).id === eventId),
                { what: "poison event in the DLQ" },
            );
            const message = dlq.messages.find((m: any) => JSON.parse(m.body).id === eventId);
            expect(message.receiveCount).to.equal(5);
            expect(dlq.dlq).to.equal(queue.dlq!.name);
            expect(await views(rt, "r-satay-corner")).to.equal(0);
        });
    });

    describe("requests the HTTP parser rejects", () => {
        it("answers an oversized URL with 431 JSON and closes the connection", async () => {
            const res = await rawRequest(rt.urls.http, `GET /restaurant/${"r".repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
            expect(res).to.include({ status: 431, closed: true });
            expect(res.headers["content-type"]).to.equal("application/json");
            expect(JSON.parse(res.body).message).to.match(/^Request Header Fields Too Large/);
        });

        it("answers oversized headers with 431 JSON and closes the connection", async () => {
            const res = await rawRequest(rt.urls.http, `GET /restaurant/r-laksa-lane HTTP/1.1\r\nHost: localhost\r\nX-Big: ${"x".repeat(20_000)}\r\n\r\n`);
            expect(res).to.include({ status: 431, closed: true });
            expect(JSON.parse(res.body)).to.have.keys("message");
        });

        it("answers a malformed request with 400 JSON and closes the connection", async () => {
            const res = await rawRequest(rt.urls.http, "NOT A REQUEST\r\n\r\n");
            expect(res).to.include({ status: 400, closed: true });
            expect(res.headers["content-type"]).to.equal("application/json");
            expect(JSON.parse(res.body)).to.deep.equal({ message: "Bad Request: malformed HTTP request" });
        });

        it("still serves ordinary requests", async () => {
            expect((await request(`${rt.urls.http}/restaurant/r-laksa-lane`)).status).to.equal(200);
        });
    });

    describe("PutEvents endpoint (AWS JSON 1.1)", () => {
        it("rejects more than 10 entries with ValidationException, as the SDK sees it", async () => {
            const entries = Array.from({ length: 11 }, () => ({ Source: "test", DetailType: "T", Detail: "{}" }));
            const error = await events.send(new PutEventsCommand({ Entries: entries })).catch((e) => e);
            expect(error.name).to.equal("ValidationException");
            expect(error.message).to.match(/less than or equal to 10/);
        });

        it("answers a malformed body with an AWS-style error JSON and 400", async () => {
            const res = await request(rt.urls.eventbridge, { method: "POST", headers: { "X-Amz-Target": "AWSEvents.PutEvents", "Content-Type": "application/x-amz-json-1.1" }, body: "{nope" });
            expect(res.status).to.equal(400);
            expect(res.body.__type).to.equal("SerializationException");
            expect(res.body.message).to.match(/not valid JSON/);
        });

        it("answers a request without X-Amz-Target with UnknownOperationException, never as PutEvents", async () => {
            const res = await request(rt.urls.eventbridge, { method: "POST", headers: { "Content-Type": "application/x-amz-json-1.1" }, body: JSON.stringify({ Entries: [{ Source: "s", DetailType: "T", Detail: "{}" }] }) });
            expect([res.status, res.body.__type]).to.deep.equal([400, "UnknownOperationException"]);
            expect(res.headers.get("x-amzn-errortype")).to.equal("UnknownOperationException");
        });

        it("rejects an empty EventBusName with ValidationException, as AWS's length constraint (1-1600) does, instead of using the default bus", async () => {
            const error = await events.send(new PutEventsCommand({ Entries: [{ Source: "bellyfed.test", DetailType: "T", Detail: "{}", EventBusName: "" }] })).catch((e) => e);
            expect(error.name).to.equal("ValidationException");
            expect(error.message).to.equal("1 validation error detected: Value '' at 'entries.1.member.eventBusName' failed to satisfy constraint: Member must have length greater than or equal to 1");
        });

        it("answers a body over the size limit with 413 and an AWS-style error document", async () => {
            const res = await request(rt.urls.eventbridge, { method: "POST", headers: { "X-Amz-Target": "AWSEvents.PutEvents" }, body: "x".repeat(11 * 1024 * 1024) });
            expect(res.status).to.equal(413);
            expect(res.body).to.have.keys("__type", "message");
            expect(res.body.__type).to.equal("ValidationException");
            expect(res.headers.get("x-amzn-errortype")).to.equal("ValidationException");
        });

        it("reports a per-entry failure with FailedEntryCount and still delivers the rest", async () => {
            const result = await events.send(
                new PutEventsCommand({ Entries: [{ Source: "bellyfed.test", DetailType: "T", Detail: "not json" }, { Source: "bellyfed.test", DetailType: "T", Detail: "{}" }] }),
            );
            expect(result.FailedEntryCount).to.equal(1);
            expect(result.Entries![0]).to.include({ ErrorCode: "MalformedDetail" });
            expect(result.Entries![1].EventId).to.be.a("string");
        });
    });

    describe("/_local endpoints", () => {
        it("GET /_local/state reports endpoints, tables, queues with their DLQ, rules and functions", async () => {
            const { body } = await request(rt.urls.state);
            expect(body.stack).to.equal("dev");
            expect(body.endpoints).to.include({ http: rt.urls.http, dynamodb: rt.urls.dynamodb, eventbridge: rt.urls.eventbridge });
            expect(body.tables.find((t: any) => t.logicalName === "restaurants").itemCount).to.equal(6);
            const queue = body.queues.find((q: any) => q.maxReceiveCount === 5);
            expect(queue).to.include.keys("name", "visible", "inFlight");
            expect(queue.dlq).to.include.keys("name", "visible");
            expect(body.rules[0].matched).to.be.greaterThan(0);
            expect(body.functions.map((f: any) => Object.keys(f))).to.deep.include.members([["name", "logicalName", "invocations", "errors", "timeouts", "coldStarts", "environments", "injectedFaults"]]);
        });

        it("names each DLQ and target DLQ by name, logical name, URL, ARN and tags, with the rules delivering to a target DLQ (what ops --local looks up)", async () => {
            const { body } = await request(rt.urls.state);
            const queue = body.queues.find((q: any) => q.maxReceiveCount === 5);
            const spec = (name: string) => rt.model.queues.find((q) => q.name === name)!;
            const dlq = spec(queue.dlq.name);
            expect(queue.dlq).to.deep.include({ logicalName: dlq.logicalName, url: dlq.url, arn: dlq.arn, tags: dlq.tags });
            const [targetDlq] = queue.targetDlqs;
            const rule = rt.model.rules.find((r) => r.targets.some((t) => t.deadLetterQueue === targetDlq.name))!;
            expect(targetDlq).to.deep.include({ logicalName: spec(targetDlq.name).logicalName, url: spec(targetDlq.name).url, arn: spec(targetDlq.name).arn, rules: [rule.name] });
            // The route a target DLQ keeps the events of, as the stack tags it (and the ops CLI names it on AWS).
            expect(targetDlq.tags["bellyfed:route"]).to.equal("platform-bus/restaurant-viewed");
            expect(body.rules.find((r: any) => r.name === rule.name).tags["bellyfed:rule"]).to.equal("platform-bus/restaurant-viewed");
            expect(queue.tags["bellyfed:queue-role"]).to.equal("source");
        });

        it("lists functions sorted by logical name, the same on every start", async () => {
            const { body } = await request(rt.urls.state);
            const names = body.functions.map((f: any) => f.logicalName);
            expect(names).to.deep.equal([...names].sort());
        });

        it("answers 404 JSON naming the queues for an unknown queue", async () => {
            const res = await request(`${rt.urls.http}/_local/queues/nope/dlq`);
            expect(res.status).to.equal(404);
            expect(res.body.message).to.match(/^Unknown queue "nope". Queues: /);
            expect((await request(`${rt.urls.http}/_local/queues/nope/redrive`, { method: "POST" })).status).to.equal(404);
        });

        it("reads and redrives the EventBridge target DLQ of a queue with ?target=1", async () => {
            const queue = await analyticsQueue(rt);
            expect(queue.targetDlqs).to.have.length(1);
            const targetDlq = queue.targetDlqs[0].name;
            const base = `${rt.urls.http}/_local/queues/${queue.name}`;
            expect((await request(`${base}/dlq?target=1`)).body).to.deep.equal({ queue: queue.name, dlq: targetDlq, messages: [] });

            // An event EventBridge could not deliver, as it lands in the target DLQ.
            const before = await views(rt, "r-satay-corner");
            const undelivered = JSON.stringify(viewedEnvelope("r-satay-corner"));
            await request(`${rt.urls.http}/_local/queues/${targetDlq}/messages`, { method: "POST", body: JSON.stringify({ body: undelivered }) });
            const peeked = (await request(`${base}/dlq?target=${encodeURIComponent(targetDlq)}`)).body;
            expect(peeked).to.deep.include({ queue: queue.name, dlq: targetDlq });
            expect(peeked.messages.map((m: any) => m.body)).to.deep.equal([undelivered]);
            // The SQS DLQ is another queue: untouched.
            expect((await request(`${base}/dlq`)).body.dlq).to.equal(queue.dlq!.name);

            const moved = await request(`${base}/redrive?target=1`, { method: "POST", body: JSON.stringify({ messageIds: [peeked.messages[0].messageId] }) });
            expect(moved.body).to.deep.equal({ moved: 1, notFound: [] });
            expect((await request(`${base}/dlq?target=1`)).body.messages).to.deep.equal([]);
            await eventually(() => views(rt, "r-satay-corner"), (n) => n === before + 1, { what: "the redriven view counted" });
        });

        it("answers ?target= naming no target DLQ of the queue with 404 JSON listing them", async () => {
            const queue = await analyticsQueue(rt);
            const res = await request(`${rt.urls.http}/_local/queues/${queue.name}/dlq?target=nope`);
            expect(res.status).to.equal(404);
            expect(res.body.message).to.equal(`"nope" is not a target DLQ of queue ${queue.name}. Its target DLQs: ${queue.targetDlqs[0].name}`);
        });

        describe("a redrive body that is not {} or { messageIds } moves nothing (400 naming the problem)", () => {
            const bad: [string, string, RegExp][] = [
                ["a misspelled key", JSON.stringify({ messageId: ["m-1"] }), /^Unknown field "messageId" in the redrive body: the only field is "messageIds"/],
                ["a list", "[1]", /^The redrive body must be empty, \{\} \(every DLQ message\) or \{ "messageIds": \["<message id>", \.\.\.\] \}, got \[1\]$/],
                ["null", "null", /^The redrive body must be empty, .*got null$/],
                ["a list with an empty id", JSON.stringify({ messageIds: [""] }), /^messageIds must be a list of message id strings, got \[""\]$/],
            ];
            for (const [what, body, message] of bad) {
                it(`rejects ${what}`, async () => {
                    const queue = await analyticsQueue(rt);
                    const parked = (await request(`${rt.urls.http}/_local/queues/${queue.dlq!.name}/messages`, { method: "POST", body: JSON.stringify({ body: `parked ${what}` }) })).body.messageId;
                    const res = await request(`${rt.urls.http}/_local/queues/${queue.name}/redrive`, { method: "POST", body });
                    expect(res.status).to.equal(400);
                    expect(res.body.message).to.match(message);
                    const dlq = (await request(`${rt.urls.http}/_local/queues/${queue.name}/dlq`)).body;
                    expect(dlq.messages.map((m: any) => m.messageId)).to.include(parked);
                });
            }
        });

        it("answers a queue name with malformed percent-encoding with 400 JSON", async () => {
            const res = await request(`${rt.urls.http}/_local/queues/%ZZ/dlq`);
            expect([res.status, res.body]).to.deep.equal([400, { message: 'The queue name in the path is not valid percent-encoding: "%ZZ"' }]);
        });

        it("answers a message body over SQS's 1 MiB limit with 400 JSON naming the limit", async () => {
            const queue = await analyticsQueue(rt);
            const res = await request(`${rt.urls.http}/_local/queues/${queue.name}/messages`, { method: "POST", body: JSON.stringify({ body: "x".repeat(3 * 1024 * 1024) }) });
            expect([res.status, res.body]).to.deep.equal([400, { message: `queue ${queue.name}: message body is 3145728 bytes, over the 1048576-byte limit` }]);
        });

        it("rejects a message body with a key besides \"body\", naming it, and sends nothing", async () => {
            const queue = await analyticsQueue(rt);
            const res = await request(`${rt.urls.http}/_local/queues/${queue.dlq!.name}/messages`, { method: "POST", body: JSON.stringify({ body: "x", extra: 1 }) });
            expect([res.status, res.body.message]).to.deep.equal([400, 'Unknown field "extra" in the message body: its field is "body" ({ "body": "<message body string>" })']);
            expect((await request(`${rt.urls.http}/_local/queues/${queue.name}/dlq`)).body.messages.map((m: any) => m.body)).not.to.include("x");
        });

        it("rejects a faults body with a key besides \"failRate\", naming it, and changes nothing", async () => {
            const res = await request(`${rt.urls.http}/_local/faults`, { method: "POST", body: JSON.stringify({ failRate: 1, x: 1 }) });
            expect([res.status, res.body.message]).to.deep.equal([400, 'Unknown field "x" in the faults body: its field is "failRate" ({ "failRate": <number from 0 to 1> })']);
            expect((await request(`${rt.urls.http}/_local/faults`)).body).to.deep.equal({ failRate: 0 });
        });

        for (const [what, body, hex, index] of [
            ["a NUL character", "a\u0000b", "0", 1],
            ["a lone surrogate", "\ud800", "D800", 0],
        ] as const) {
            it(`rejects a message body with ${what} with 400 InvalidMessageContents, as SQS does`, async () => {
                const queue = await analyticsQueue(rt);
                const res = await request(`${rt.urls.http}/_local/queues/${queue.dlq!.name}/messages`, { method: "POST", body: JSON.stringify({ body }) });
                expect(res.status).to.equal(400);
                expect(res.body.message).to.equal(
                    `queue ${queue.dlq!.name}: InvalidMessageContents: invalid character '#x${hex}' at index ${index} of the message body; the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`,
                );
            });
        }

        it("shows a scaled visibility timeout rounded for display (990, not 989.9999999999999)", async () => {
            const { body } = await request(rt.urls.state);
            const ms = body.queues.find((q: any) => q.maxReceiveCount === 5).visibilityTimeoutMs;
            expect(Number.isInteger(ms * 1000)).to.equal(true);
            expect(ms).to.equal(Math.round(rt.queues.find((q) => q.maxReceiveCount === 5)!.visibilityTimeoutMs * 1000) / 1000);
        });

        it("reports its data folder in the state (null in memory): another runtime's start tells a held folder from a stale lock by it", async () => {
            expect((await request(rt.urls.state)).body.dataDir).to.equal(null);
        });

        it("rejects a redrive body whose messageIds is not a list of strings", async () => {
            const queue = await analyticsQueue(rt);
            const res = await request(`${rt.urls.http}/_local/queues/${queue.name}/redrive`, { method: "POST", body: JSON.stringify({ messageIds: "m-1" }) });
            expect([res.status, res.body.message]).to.deep.equal([400, 'messageIds must be a list of message id strings, got "m-1"']);
        });
    });
});

describe("local runtime: injected faults in /_local/state", function () {
    this.timeout(30_000);
    let rt: LocalRuntime;
    before(async () => {
        // Every batch fails before its function runs: the event source mapping's fault, not the function's.
        rt = await startTestRuntime({ failRate: 1, timeScale: 0.002, random: () => 0 });
    });
    after(() => rt?.stop());

    it("counts each batch --fail-rate failed as the consumer's injectedFaults, not as its invocations or errors", async () => {
        expect((await request(`${rt.urls.http}/restaurant/r-roti-canai-stall`)).status).to.equal(200);
        const queue = await eventually(() => analyticsQueue(rt), (q) => q.dlq!.visible === 1, { what: "the view in the DLQ" });
        const consumer = rt.model.mappings.find((m) => m.queue === queue.name)!.functionName;
        const counters = (await rt.state()).functions.find((f) => f.name === consumer)!;
        expect({ injectedFaults: counters.injectedFaults, invocations: counters.invocations, errors: counters.errors }).to.deep.equal({
            injectedFaults: queue.maxReceiveCount,
            invocations: 0,
            errors: 0,
        });
    });
});

describe("local runtime: redrive after a transient fault", function () {
    this.timeout(30_000);
    let rt: LocalRuntime;
    before(async () => {
        // Every consumer invocation fails (half after counting): messages end in the DLQ.
        rt = await startTestRuntime({ failRate: 1, timeScale: 0.002 });
    });
    after(() => rt?.stop());

    it("drains the DLQ back through the consumer once the fault is gone, counting each view once", async () => {
        for (let i = 0; i < 3; i++) expect((await request(`${rt.urls.http}/restaurant/r-roti-canai-stall`)).status).to.equal(200);
        const queue = await analyticsQueue(rt);
        await eventually(() => analyticsQueue(rt), (q) => q.dlq!.visible === 3, { what: "3 messages in the DLQ" });

        expect((await request(`${rt.urls.http}/_local/faults`, { method: "POST", body: JSON.stringify({ failRate: 0 }) })).body).to.deep.equal({ failRate: 0 });
        const redrive = await request(`${rt.urls.http}/_local/queues/${queue.name}/redrive`, { method: "POST" });
        expect(redrive.body).to.deep.include({ moved: 3 });

        await drained(rt);
        const after = await analyticsQueue(rt);
        expect(after.dlq!.visible).to.equal(0);
        expect(await views(rt, "r-roti-canai-stall")).to.equal(3);
    });

    it("moves only the DLQ messages named in messageIds", async () => {
        await rt.setFailRate(1);
        for (let i = 0; i < 2; i++) await request(`${rt.urls.http}/restaurant/r-laksa-lane`);
        const queue = await analyticsQueue(rt);
        const { body: dlq } = await eventually(() => request(`${rt.urls.http}/_local/queues/${queue.name}/dlq`), (r) => r.body.messages.length === 2, { what: "2 messages in the DLQ" });
        rt.setFailRate(0);
        const chosen = dlq.messages[0].messageId;
        const res = await request(`${rt.urls.http}/_local/queues/${queue.name}/redrive`, { method: "POST", body: JSON.stringify({ messageIds: [chosen, "m-unknown"] }) });
        expect(res.body).to.deep.equal({ moved: 1, notFound: ["m-unknown"] });
        const left = (await request(`${rt.urls.http}/_local/queues/${queue.name}/dlq`)).body.messages.map((m: any) => m.messageId);
        expect(left).to.deep.equal([dlq.messages[1].messageId]);
    });
});
