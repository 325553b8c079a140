import { expect } from "chai";
import { applyCors, buildHttpEvent, IncomingRequest, mapLambdaResult, preflight, selectRoute } from "../../local/httpApi";
import { ApiSpec, CorsSpec, RouteSpec } from "../../local/model";

function route(routeKey: string, functionName = routeKey): RouteSpec {
    const [method, path] = routeKey === "$default" ? [undefined, undefined] : routeKey.split(" ");
    return { urn: routeKey, logicalName: routeKey, routeKey, method, path, functionName, payloadFormatVersion: "2.0" };
}

function api(routeKeys: string[], cors?: CorsSpec): ApiSpec {
    return { urn: "api", logicalName: "api", id: "abc123", cors, routes: routeKeys.map((k) => route(k)) };
}

function request(method: string, url: string, headers: Record<string, string> = {}, body = ""): IncomingRequest {
    return { method, url, rawHeaders: Object.entries(headers).flat(), body: Buffer.from(body), sourceIp: "127.0.0.1" };
}

const CORS: CorsSpec = { allowOrigins: ["https://bellyfed.com"], allowMethods: ["GET", "OPTIONS"], allowHeaders: ["content-type", "authorization"], exposeHeaders: [], allowCredentials: false, maxAge: 3600 };

describe("local HTTP API (API Gateway HTTP API semantics)", () => {
    describe("route selection", () => {
        const apis = [api(["GET /restaurant/{id}", "GET /restaurant/{id}/stats", "GET /restaurant/top", "ANY /files/{proxy+}", "GET /files/{proxy+}", "$default"])];
        const cases: [string, string, string, Record<string, string> | undefined][] = [
            ["GET", "/restaurant/r-1", "GET /restaurant/{id}", { id: "r-1" }],
            ["GET", "/restaurant/r-1/stats", "GET /restaurant/{id}/stats", { id: "r-1" }],
            ["GET", "/restaurant/top", "GET /restaurant/top", undefined],
            ["GET", "/files/a/b.txt", "GET /files/{proxy+}", { proxy: "a/b.txt" }],
            ["PUT", "/files/a", "ANY /files/{proxy+}", { proxy: "a" }],
            ["POST", "/restaurant/r-1", "$default", undefined],
            ["GET", "/restaurant/not%20valid", "GET /restaurant/{id}", { id: "not valid" }],
        ];
        for (const [method, path, expected, params] of cases) {
            it(`${method} ${path} -> ${expected}`, () => {
                const match = selectRoute(apis, method, path);
                expect(match?.route.routeKey).to.equal(expected);
                expect(match?.pathParameters).to.deep.equal(params);
            });
        }

        it("matches nothing when no route fits and there is no $default", () => {
            expect(selectRoute([api(["GET /restaurant/{id}"])], "GET", "/restaurants")).to.equal(undefined);
            expect(selectRoute([api(["GET /restaurant/{id}"])], "GET", "/restaurant/")).to.equal(undefined);
        });
    });

    describe("payload format 2.0 event", () => {
        const match = selectRoute([api(["GET /restaurant/{id}"])], "GET", "/restaurant/r-1")!;
        const event: any = buildHttpEvent(
            { ...request("GET", "/restaurant/r-1?lang=en&tag=a&tag=b", { Host: "localhost:3000", "User-Agent": "curl/8", Cookie: "a=1; b=2", "X-Trace": "t1" }), rawHeaders: ["Host", "localhost:3000", "User-Agent", "curl/8", "Cookie", "a=1; b=2", "X-Trace", "t1", "x-trace", "t2"] },
            match,
            "123456789012",
            Date.UTC(2026, 0, 2, 3, 4, 5),
        );

        it("carries the route, raw path and query, and the path parameters", () => {
            expect(event).to.include({ version: "2.0", routeKey: "GET /restaurant/{id}", rawPath: "/restaurant/r-1", rawQueryString: "lang=en&tag=a&tag=b", isBase64Encoded: false });
            expect(event.pathParameters).to.deep.equal({ id: "r-1" });
        });

        it("lower-cases header names, joins repeated headers and query values with commas, splits cookies out", () => {
            expect(event.headers).to.deep.equal({ host: "localhost:3000", "user-agent": "curl/8", "x-trace": "t1,t2" });
            expect(event.queryStringParameters).to.deep.equal({ lang: "en", tag: "a,b" });
            expect(event.cookies).to.deep.equal(["a=1", "b=2"]);
        });

        it("fills the request context like API Gateway", () => {
            expect(event.requestContext).to.deep.include({ accountId: "123456789012", apiId: "abc123", domainName: "localhost:3000", stage: "$default", routeKey: "GET /restaurant/{id}", time: "02/Jan/2026:03:04:05 +0000", timeEpoch: Date.UTC(2026, 0, 2, 3, 4, 5) });
            expect(event.requestContext.http).to.deep.equal({ method: "GET", path: "/restaurant/r-1", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "curl/8" });
            expect(event.requestContext.requestId).to.be.a("string").and.not.equal("");
        });

        it("passes a text body as is and a binary body base64-encoded", () => {
            const text: any = buildHttpEvent(request("POST", "/x", { "Content-Type": "application/json" }, '{"a":1}'), match, "1");
            expect(text).to.include({ body: '{"a":1}', isBase64Encoded: false });
            const binary: any = buildHttpEvent(request("POST", "/x", { "Content-Type": "image/png" }, "\u0001\u0002"), match, "1");
            expect(binary).to.include({ body: Buffer.from("\u0001\u0002").toString("base64"), isBase64Encoded: true });
        });
    });

    describe("Lambda proxy response mapping", () => {
        it("uses statusCode, headers, cookies and body", () => {
            const res = mapLambdaResult({ statusCode: 201, headers: { "X-A": "1" }, cookies: ["s=1"], body: "created" });
            expect(res.status).to.equal(201);
            expect(res.headers).to.deep.include.members([["X-A", "1"], ["set-cookie", "s=1"]]);
            expect(res.body.toString()).to.equal("created");
        });

        it("decodes a base64 body", () => {
            expect(mapLambdaResult({ statusCode: 200, body: Buffer.from("hi").toString("base64"), isBase64Encoded: true }).body.toString()).to.equal("hi");
        });

        it("infers a 200 JSON response from a result without statusCode", () => {
            const res = mapLambdaResult({ hello: "world" });
            expect([res.status, res.body.toString()]).to.deep.equal([200, '{"hello":"world"}']);
            expect(res.headers).to.deep.include(["content-type", "application/json"]);
        });

        it("answers 500 for an invalid statusCode or a non-string body", () => {
            expect(mapLambdaResult({ statusCode: "abc" }).status).to.equal(500);
            expect(mapLambdaResult({ statusCode: 200, body: { a: 1 } }).status).to.equal(500);
            expect(JSON.parse(mapLambdaResult({ statusCode: 99 }).body.toString())).to.deep.equal({ message: "Internal Server Error" });
        });
    });

    describe("CORS", () => {
        it("answers a preflight from an allowed origin with the configured headers", () => {
            const res = preflight(CORS, request("OPTIONS", "/restaurant/x", { Origin: "https://bellyfed.com", "Access-Control-Request-Method": "GET" }))!;
            expect(res.status).to.equal(204);
            expect(Object.fromEntries(res.headers)).to.deep.equal({
                "access-control-allow-origin": "https://bellyfed.com",
                "access-control-allow-methods": "GET,OPTIONS",
                "access-control-allow-headers": "content-type,authorization",
                "access-control-max-age": "3600",
            });
        });

        it("answers a preflight from another origin without CORS headers", () => {
            expect(preflight(CORS, request("OPTIONS", "/x", { Origin: "https://evil.example", "Access-Control-Request-Method": "GET" }))!.headers).to.deep.equal([]);
        });

        it("is not a preflight without Origin and Access-Control-Request-Method, or without a CORS configuration", () => {
            expect(preflight(CORS, request("OPTIONS", "/x", { Origin: "https://bellyfed.com" }))).to.equal(undefined);
            expect(preflight(undefined, request("OPTIONS", "/x", { Origin: "https://bellyfed.com", "Access-Control-Request-Method": "GET" }))).to.equal(undefined);
        });

        it("replaces the backend's CORS headers with the API's", () => {
            const backend = { status: 200, headers: [["Access-Control-Allow-Origin", "*"], ["content-type", "application/json"]] as [string, string][], body: Buffer.from("{}") };
            const allowed = applyCors(CORS, request("GET", "/x", { Origin: "https://bellyfed.com" }), backend);
            expect(allowed.headers).to.deep.equal([["content-type", "application/json"], ["access-control-allow-origin", "https://bellyfed.com"]]);
            const other = applyCors(CORS, request("GET", "/x", { Origin: "https://evil.example" }), backend);
            expect(other.headers).to.deep.equal([["content-type", "application/json"]]);
        });

        it("answers * for any origin when allowOrigins is *", () => {
            const res = applyCors({ ...CORS, allowOrigins: ["*"] }, request("GET", "/x", { Origin: "http://localhost:5173" }), { status: 200, headers: [], body: Buffer.alloc(0) });
            expect(res.headers).to.deep.equal([["access-control-allow-origin", "*"]]);
        });
    });
});
