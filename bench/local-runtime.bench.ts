// The local runtime's start-up time, GET /restaurant/{id} latency and throughput, the time a
// poison event takes to reach the DLQ with the default time scale, and a burst on one restaurant
// (rounds of C concurrent requests, as `seq 200 | xargs -P200 curl` does): do healthy events all get
// counted, or do consumer timeouts dead-letter some? Loopback only, bounded counts.
// Run: npx ts-node --transpile-only bench/local-runtime.bench.ts [--requests N] [--concurrency C] [--burst C] [--rounds R] [--burst-only]
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { FlowEvent, formatFlow } from "../local/flow";
import { startLocalRuntime } from "../local/runtime";
import { ProgramRun } from "../plan/engine";
import { runStack } from "../plan/runStack";

const { values } = parseArgs({
    options: { requests: { type: "string" }, concurrency: { type: "string" }, burst: { type: "string" }, rounds: { type: "string" }, "burst-only": { type: "boolean" } },
});
const REQUESTS = Math.min(Number(values.requests ?? 2000), 20_000);
const CONCURRENCY = Math.min(Number(values.concurrency ?? 8), 64);
const BURST = Math.min(Number(values.burst ?? 200), 500);
const ROUNDS = Math.min(Number(values.rounds ?? 2), 10);
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function get(url: string, via = agent): Promise<number> {
    return new Promise((resolve, reject) => {
        http.get(url, { agent: via }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
        }).on("error", reject);
    });
}

function percentile(sorted: number[], p: number): number {
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
    if (values["burst-only"]) {
        console.log(await burst(await runStack("dev")));
        return;
    }
    let t = performance.now();
    const rt = await startLocalRuntime({ stack: "dev", port: 0, memory: true, functionLogs: "discard" });
    const startupMs = performance.now() - t;
    const ids = rt.seeded.restaurants ?? ["r-nasi-lemak-house"];
    const url = (i: number) => `${rt.urls.http}/restaurant/${ids[i % ids.length]}`;
    try {
        for (let i = 0; i < 50; i++) await get(url(i)); // warm-up

        const latencies: number[] = [];
        for (let i = 0; i < Math.min(500, REQUESTS); i++) {
            const s = performance.now();
            const status = await get(url(i));
            latencies.push(performance.now() - s);
            if (status !== 200) throw new Error(`request ${i} answered ${status}`);
        }
        latencies.sort((a, b) => a - b);

        let next = 0;
        let failed = 0;
        t = performance.now();
        await Promise.all(
            Array.from({ length: CONCURRENCY }, async () => {
                while (next < REQUESTS) if ((await get(url(next++))) !== 200) failed++;
            }),
        );
        const seconds = (performance.now() - t) / 1000;

        // A poison event (valid envelope, invalid detail) once the queue is idle: time from PutEvents to the DLQ.
        const queue = rt.queues.find((q) => q.dlq)!;
        const idleBy = performance.now() + 60_000;
        for (;;) {
            const q = (await rt.state()).queues.find((x) => x.name === queue.name)!;
            if ((q.visible === 0 && q.inFlight === 0) || performance.now() > idleBy) break;
            await new Promise((r) => setTimeout(r, 50));
        }
        const events = new EventBridgeClient({ endpoint: rt.urls.eventbridge, region: "us-east-1", credentials: { accessKeyId: "l", secretAccessKey: "l" } });
        t = performance.now();
        const put = await events.send(
            new PutEventsCommand({ Entries: [{ EventBusName: rt.model.rules[0].busName, Source: "bellyfed.restaurants", DetailType: "RestaurantViewed", Detail: '{"poison":true}' }] }),
        );
        const eventId = put.Entries?.[0]?.EventId;
        let poisonMs = NaN;
        while (performance.now() - t < 30_000) {
            if (rt.dlqMessages(queue.name).messages.some((m) => m.body.includes(`"id":"${eventId}"`))) {
                poisonMs = performance.now() - t;
                break;
            }
            await new Promise((r) => setTimeout(r, 20));
        }
        const inDlq = rt.dlqMessages(queue.name).messages.length;
        events.destroy();

        const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
        console.log(`local runtime, stack dev, in memory (time scale ${rt.timeScale}), node ${process.version}`);
        console.log(`  start-up (graph under mocks + dynalite + seed + warm workers): ${fmt(startupMs)}`);
        console.log(`  GET /restaurant/{id}, sequential x${latencies.length}: p50 ${fmt(percentile(latencies, 50))}, p95 ${fmt(percentile(latencies, 95))}, p99 ${fmt(percentile(latencies, 99))}`);
        console.log(`  GET /restaurant/{id}, ${REQUESTS} requests at concurrency ${CONCURRENCY}: ${(REQUESTS / seconds).toFixed(0)} req/s (${failed} not 200)`);
        console.log(`  poison event: PutEvents -> analytics DLQ after ${queue.maxReceiveCount} receives: ${fmt(poisonMs)} (DLQ holds ${inDlq} message(s))`);
        const state = await rt.state();
        console.log(`  functions: ${state.functions.map((f) => `${f.logicalName} ${f.invocations} invocations, ${f.environments} environments`).join("; ")}`);
        await rt.stop();
        console.log(await burst(await runStack("dev")));
    } finally {
        agent.destroy();
        await rt.stop();
    }
}

/**
 * The burst, on a fresh runtime as `npm start` runs it (data on disk, a flow line per event, one warm
 * environment per function): ROUNDS rounds of BURST concurrent requests for one restaurant, a
 * connection each, then wait until the queue is idle. Every 200 must become a counted view; none may
 * reach the DLQ.
 */
async function burst(run: ProgramRun<unknown>): Promise<string> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bellyfed-bench-"));
    const flowLines = fs.createWriteStream(os.devNull);
    const batchMs: number[] = [];
    const onFlow = (event: FlowEvent) => {
        flowLines.write(`${formatFlow(event)}\n`);
        if (event.kind === "batch-processed") batchMs.push(event.durationMs);
    };
    const rt = await startLocalRuntime({ run, stack: "dev", port: 0, dataDir, functionLogs: "file", onFlow });
    const burstAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    try {
        const queue = rt.queues.find((q) => q.dlq)!;
        const hot = rt.seeded.restaurants?.at(-1) ?? "r-satay-corner";
        const views = async () => {
            const res = await fetch(`${rt.urls.http}/restaurant/${hot}/stats`);
            return ((await res.json()) as { views: { total: number } }).views.total;
        };
        const consumer = () => rt.state().then((s) => s.functions.find((f) => f.name === queue.consumers[0])!);
        const t = performance.now();
        let ok = 0;
        for (let round = 0; round < ROUNDS; round++) {
            const statuses = await Promise.all(Array.from({ length: BURST }, () => get(`${rt.urls.http}/restaurant/${hot}`, burstAgent).catch(() => 0)));
            ok += statuses.filter((s) => s === 200).length;
        }
        const burstSeconds = (performance.now() - t) / 1000;
        const drainBy = performance.now() + 120_000;
        for (;;) {
            const q = (await rt.state()).queues.find((x) => x.name === queue.name)!;
            if ((q.visible === 0 && q.inFlight === 0 && q.delayed === 0) || performance.now() > drainBy) break;
            await new Promise((r) => setTimeout(r, 100));
        }
        const drainSeconds = (performance.now() - t) / 1000;
        const c = await consumer();
        return (
            `  burst on a fresh on-disk runtime: ${ROUNDS} x ${BURST} concurrent GET /restaurant/${hot}: ${ok} answered 200 in ${burstSeconds.toFixed(1)} s; ` +
            `${await views()} views counted, ${rt.dlqMessages(queue.name).messages.length} dead-lettered, consumer ${c.timeouts} timeouts / ${c.errors} errors ` +
            `in ${c.invocations} invocations (slowest batch that completed: ${Math.max(0, ...batchMs)} ms); queue idle after ${drainSeconds.toFixed(1)} s`
        );
    } finally {
        burstAgent.destroy();
        await rt.stop();
        flowLines.end();
        fs.rmSync(dataDir, { recursive: true, force: true });
    }
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
