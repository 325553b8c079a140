/** API Gateway HTTP API (payload 2.0) proxy responses: always a string JSON body and CORS headers. */

export interface HttpResponse {
    statusCode: number;
    headers: Record<string, string>;
    body: string;
}

/** The CORS part of a response: echoes the request's Origin when allowed, else the first allowed origin. */
export function corsHeaders(allowedOrigins: string[], requestOrigin: string | undefined): Record<string, string> {
    const allowOrigin = allowedOrigins.includes("*")
        ? "*"
        : requestOrigin && allowedOrigins.includes(requestOrigin)
          ? requestOrigin
          : (allowedOrigins[0] ?? "null");
    return {
        "Access-Control-Allow-Origin": allowOrigin,
        "Access-Control-Allow-Methods": "GET,OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type,Authorization",
        Vary: "Origin",
    };
}

export function jsonResponse(statusCode: number, body: unknown, cors: Record<string, string>, extra: Record<string, string> = {}): HttpResponse {
    return {
        statusCode,
        headers: { "Content-Type": "application/json", ...cors, ...extra },
        body: JSON.stringify(body),
    };
}

/** Reads the comma-separated allowed origins that the stack puts in the function's environment. */
export function allowedOriginsFromEnv(value: string | undefined): string[] {
    const origins = (value ?? "*").split(",").map((o) => o.trim()).filter(Boolean);
    return origins.length > 0 ? origins : ["*"];
}

/** The Origin header of a payload 2.0 event (API Gateway lower-cases header names). */
export function requestOrigin(event: { headers?: Record<string, string | undefined> }): string | undefined {
    return event.headers?.origin ?? event.headers?.Origin;
}
