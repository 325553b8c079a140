import * as net from "net";

/**
 * A TCP server that accepts every connection and never answers: what a hung AWS endpoint looks like
 * to the SDK (the connection succeeds, the response never comes). Use its `endpoint` as a client's
 * endpoint to prove a handler answers anyway.
 */
export interface BlackHole {
    endpoint: string;
    /** Connections accepted so far. */
    connections(): number;
    close(): Promise<void>;
}

export async function startBlackHole(): Promise<BlackHole> {
    const sockets = new Set<net.Socket>();
    let accepted = 0;
    const server = net.createServer((socket) => {
        accepted++;
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => undefined);
        socket.resume(); // read and drop the request
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    return {
        endpoint: `http://127.0.0.1:${port}`,
        connections: () => accepted,
        close: async () => {
            for (const socket of sockets) socket.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

/** A Lambda context whose remaining time counts down in real time from `ms`. */
export function contextWithRemaining(ms: number): { awsRequestId: string; getRemainingTimeInMillis: () => number } {
    const end = Date.now() + ms;
    return { awsRequestId: "ctx-1", getRemainingTimeInMillis: () => end - Date.now() };
}

/** Runs `fn` and returns its result with the elapsed milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
    const started = Date.now();
    const result = await fn();
    return { result, ms: Date.now() - started };
}
