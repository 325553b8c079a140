/**
 * The local API Gateway HTTP API: route selection (most specific route wins, as API Gateway
 * documents: literal segments over `{param}`, `{param}` over `{proxy+}`, a method over ANY,
 * `$default` last), payload format 2.0 events, the Lambda proxy response mapping, and the API's
 * CORS configuration (preflight answered by the API; backend CORS headers replaced by the API's).
 */
import { randomUUID } from "crypto";
import { ApiSpec, CorsSpec, RouteSpec } from "./model";

export interface IncomingRequest {
    method: string;
    /** Path and query as received, e.g. `/restaurant/r-1?x=1`. */
    url: string;
    /** Raw header pairs as received (node's `req.rawHeaders`). */
    rawHeaders: string[];
    body: Buffer;
    sourceIp: string;
}

export interface OutgoingResponse {
    status: number;
    headers: [string, string][];
    body: Buffer;
}

export interface RouteMatch {
    api: ApiSpec;
    route: RouteSpec;
    pathParameters?: Record<string, string>;
}

/** Specificity of a route for a request path, or undefined when it does not match. Higher wins. */
function matchRoute(route: RouteSpec, method: string, segments: string[]): { score: number[]; params: Record<string, string> } | undefined {
    if (route.routeKey === "$default") return { score: [0], params: {} };
    if (route.method !== method && route.method !== "ANY") return undefined;
    const pattern = route.path!.split("/").slice(1);
    const params: Record<string, string> = {};
    const score: number[] = [1];
    for (let i = 0; i < pattern.length; i++) {
        const part = pattern[i];
        const greedy = /^\{([A-Za-z0-9_]+)\+\}$/.exec(part);
        if (greedy) {
            if (i !== pattern.length - 1 || segments.length <= i) return undefined;
            params[greedy[1]] = segments.slice(i).map(decode).join("/");
            score.push(1);
            return { score: [...score, route.method === "ANY" ? 0 : 1], params };
        }
        if (i >= segments.length) return undefined;
        const param = /^\{([A-Za-z0-9_]+)\}$/.exec(part);
        if (param) {
            if (segments[i] === "") return undefined;
            params[param[1]] = decode(segments[i]);
            score.push(2);
        } else if (part === segments[i]) {
            score.push(3);
        } else {
            return undefined;
        }
    }
    if (segments.length !== pattern.length) return undefined;
    return { score: [...score, 9, route.method === "ANY" ? 0 : 1], params };
}

function decode(segment: string): string {
    try {
        return decodeURIComponent(segment);
    } catch {
        return segment;
    }
}

function compareScores(a: number[], b: number[]): number {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const d = (a[i] ?? -1) - (b[i] ?? -1);
        if (d !== 0) return d;
    }
    return 0;
}

/** The route API Gateway would pick for a method and raw path. */
export function selectRoute(apis: ApiSpec[], method: string, rawPath: string): RouteMatch | undefined {
    const segments = rawPath.split("/").slice(1);
    let best: { match: RouteMatch; score: number[] } | undefined;
    for (const api of apis) {
        for (const route of api.routes) {
            const m = matchRoute(route, method, segments);
            if (!m) continue;
            if (!best || compareScores(m.score, best.score) > 0) {
                best = { match: { api, route, pathParameters: route.routeKey === "$default" || Object.keys(m.params).length === 0 ? undefined : m.params }, score: m.score };
            }
        }
    }
    return best?.match;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

/** The payload format 2.0 event of a request, as API Gateway builds it. */
export function buildHttpEvent(request: IncomingRequest, match: RouteMatch, accountId: string, now = Date.now()): Record<string, unknown> {
    const queryIndex = request.url.indexOf("?");
    const rawPath = queryIndex >= 0 ? request.url.slice(0, queryIndex) : request.url;
    const rawQueryString = queryIndex >= 0 ? request.url.slice(queryIndex + 1) : "";
    const headers: Record<string, string> = {};
    const cookies: string[] = [];
    for (let i = 0; i < request.rawHeaders.length; i += 2) {
        const name = request.rawHeaders[i].toLowerCase();
        const value = request.rawHeaders[i + 1];
        if (name === "cookie") {
            cookies.push(...value.split(";").map((c) => c.trim()).filter(Boolean));
            continue;
        }
        headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
    }
    let queryStringParameters: Record<string, string> | undefined;
    if (rawQueryString) {
        queryStringParameters = {};
        for (const pair of rawQueryString.split("&")) {
            if (!pair) continue;
            const eq = pair.indexOf("=");
            const key = decode((eq >= 0 ? pair.slice(0, eq) : pair).replace(/\+/g, " "));
            const value = decode((eq >= 0 ? pair.slice(eq + 1) : "").replace(/\+/g, " "));
            queryStringParameters[key] = queryStringParameters[key] === undefined ? value : `${queryStringParameters[key]},${value}`;
        }
    }
    const contentType = headers["content-type"] ?? "";
    const hasBody = request.body.length > 0;
    const isText = !contentType || TEXT_TYPES.test(contentType);
    const date = new Date(now);
    const month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][date.getUTCMonth()];
    const pad = (n: number) => String(n).padStart(2, "0");
    const time = `${pad(date.getUTCDate())}/${month}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
    const host = headers.host ?? "localhost";
    const event: Record<string, unknown> = {
        version: "2.0",
        routeKey: match.route.routeKey,
        rawPath,
        rawQueryString,
        headers,
        requestContext: {
            accountId,
            apiId: match.api.id,
            domainName: host,
            domainPrefix: host.split(".")[0],
            http: {
                method: request.method,
                path: rawPath,
                protocol: "HTTP/1.1",
                sourceIp: request.sourceIp,
                userAgent: headers["user-agent"] ?? "",
            },
            requestId: randomUUID(),
            routeKey: match.route.routeKey,
            stage: "$default",
            time,
            timeEpoch: now,
        },
        isBase64Encoded: hasBody && !isText,
    };
    if (cookies.length > 0) event.cookies = cookies;
    if (queryStringParameters) event.queryStringParameters = queryStringParameters;
    if (match.pathParameters) event.pathParameters = match.pathParameters;
    if (hasBody) event.body = isText ? request.body.toString("utf8") : request.body.toString("base64");
    return event;
}

export function jsonError(status: number, message: string): OutgoingResponse {
    return { status, headers: [["content-type", "application/json"]], body: Buffer.from(JSON.stringify({ message })) };
}

/**
 * Maps a function's payload 2.0 result to the HTTP response. A result without `statusCode` is
 * taken as the body of a 200 JSON response (API Gateway's inference). A malformed result is 500.
 */
export function mapLambdaResult(result: unknown): OutgoingResponse {
    if (result === null || typeof result !== "object" || !("statusCode" in result)) {
        const body = typeof result === "string" ? result : JSON.stringify(result);
        return { status: 200, headers: [["content-type", "application/json"]], body: Buffer.from(body) };
    }
    const r = result as { statusCode: unknown; headers?: Record<string, unknown>; cookies?: unknown; body?: unknown; isBase64Encoded?: unknown };
    const status = Number(r.statusCode);
    if (!Number.isInteger(status) || status < 100 || status > 599) return jsonError(500, "Internal Server Error");
    const headers: [string, string][] = [];
    for (const [name, value] of Object.entries(r.headers ?? {})) {
        if (value !== undefined && value !== null) headers.push([name, String(value)]);
    }
    if (Array.isArray(r.cookies)) for (const cookie of r.cookies) headers.push(["set-cookie", String(cookie)]);
    if (r.body !== undefined && r.body !== null && typeof r.body !== "string") return jsonError(500, "Internal Server Error");
    const text = (r.body as string | undefined) ?? "";
    const body = r.isBase64Encoded === true ? Buffer.from(text, "base64") : Buffer.from(text);
    if (!headers.some(([n]) => n.toLowerCase() === "content-type") && text !== "") headers.push(["content-type", "application/json"]);
    return { status, headers, body };
}

function header(request: IncomingRequest, name: string): string | undefined {
    for (let i = 0; i < request.rawHeaders.length; i += 2) if (request.rawHeaders[i].toLowerCase() === name) return request.rawHeaders[i + 1];
    return undefined;
}

function allowedOrigin(cors: CorsSpec, origin: string): string | undefined {
    if (cors.allowOrigins.includes(origin)) return origin;
    if (cors.allowOrigins.includes("*")) return cors.allowCredentials ? origin : "*";
    // Origins may use a wildcard subdomain: https://*.example.com
    for (const allowed of cors.allowOrigins) {
        if (!allowed.includes("*")) continue;
        const pattern = new RegExp(`^${allowed.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*")}$`);
        if (pattern.test(origin)) return origin;
    }
    return undefined;
}

/** A CORS preflight the API answers itself (204), or undefined when the request is not one. */
export function preflight(cors: CorsSpec | undefined, request: IncomingRequest): OutgoingResponse | undefined {
    if (!cors || request.method !== "OPTIONS") return undefined;
    const origin = header(request, "origin");
    const method = header(request, "access-control-request-method");
    if (!origin || !method) return undefined;
    const headers: [string, string][] = [];
    const allowOrigin = allowedOrigin(cors, origin);
    if (allowOrigin) {
        headers.push(["access-control-allow-origin", allowOrigin]);
        if (cors.allowMethods.length > 0) headers.push(["access-control-allow-methods", cors.allowMethods.join(",")]);
        const requested = header(request, "access-control-request-headers");
        if (cors.allowHeaders.includes("*") && requested) headers.push(["access-control-allow-headers", requested]);
        else if (cors.allowHeaders.length > 0) headers.push(["access-control-allow-headers", cors.allowHeaders.join(",")]);
        if (cors.maxAge !== undefined) headers.push(["access-control-max-age", String(cors.maxAge)]);
        if (cors.allowCredentials) headers.push(["access-control-allow-credentials", "true"]);
    }
    return { status: 204, headers, body: Buffer.alloc(0) };
}

/**
 * The API's CORS headers on a response: the backend's Access-Control-* headers are dropped (API
 * Gateway ignores them when the API has a CORS configuration) and the configured ones are added when
 * the request carries an allowed Origin.
 */
export function applyCors(cors: CorsSpec | undefined, request: IncomingRequest, response: OutgoingResponse): OutgoingResponse {
    if (!cors) return response;
    const headers = response.headers.filter(([name]) => !name.toLowerCase().startsWith("access-control-"));
    const origin = header(request, "origin");
    const allowOrigin = origin ? allowedOrigin(cors, origin) : undefined;
    if (allowOrigin) {
        headers.push(["access-control-allow-origin", allowOrigin]);
        if (cors.exposeHeaders.length > 0) headers.push(["access-control-expose-headers", cors.exposeHeaders.join(",")]);
        if (cors.allowCredentials) headers.push(["access-control-allow-credentials", "true"]);
    }
    return { ...response, headers };
}
