/**
 * `npm start` / `npm start -- --stack prod --port 0 --memory`: the local runtime from the command
 * line. Prints the banner (URLs, routes, seeded ids, time scale) and one line per event as it flows;
 * Ctrl-C (SIGINT/SIGTERM) stops it cleanly.
 */
import * as path from "path";
import { parseArgs } from "util";
import { availableStacks, PROJECT_ROOT, StackFileError, UnknownStackError } from "../plan/stackFiles";
import { StackConfigError } from "../stacks/config";
import { LocalDataError } from "./dynamo";
import { formatFlow } from "./flow";
import { LocalModelError } from "./model";
import { DEFAULT_PORT, LocalRuntime, PortInUseError, startLocalRuntime } from "./runtime";
import { DECIMAL, formatMs, parseTimeScale, POISON_BUDGET_MS, TimeScaleError } from "./timing";

export const USAGE = `Usage: npm start -- [--stack NAME] [--port N] [--memory] [--quiet] [--fail-rate R] [--time-scale S] [--logs]

Runs the whole platform on this machine: the real Pulumi program of the stack is run under Pulumi's
mock engine and every resource of its graph gets a local twin (tables on an embedded DynamoDB,
functions in worker threads, queues, event source mappings, the event bus, the HTTP API).

  --stack NAME      stack config Pulumi.<NAME>.yaml (default dev; stacks: ${availableStacks().join(", ")})
  --port N          HTTP port of the API, EventBridge endpoint and /_local: 0 to 65535 (default ${DEFAULT_PORT}; 0 = a free port)
  --memory          tables and queues in memory only: none of their data is kept after a stop (default:
                    on disk under .local-data/<stack>, seeded on first start; function logs are files either way,
                    in .local-data/<stack>/logs/memory-<port>/ for an in-memory runtime)
  --quiet           do not print a line per event
  --fail-rate R     make consumer invocations fail with probability R (decimal, 0..1), half after their side effects
  --time-scale S    multiply every AWS duration the platform waits (visibility timeouts, retention, delays,
                    batching windows; function timeouts stay real time) by S (decimal, 0 < S <= 1; default
                    from the graph: a poison message reaches its DLQ within ${formatMs(POISON_BUDGET_MS)})
  --logs            print the functions' own log lines (default: .local-data/<stack>/logs/<function>.log)
  -h, --help        this help

Exit codes: 0 stopped cleanly, 1 could not start (unknown stack, port in use, bad graph), 2 bad usage,
130 exit forced by a second signal. npm reports a stop by Ctrl-C or SIGTERM as 130 or 143 and does not
wait for it: to supervise the runtime, run it without npm (one process that gets the signals itself):
  node -r ts-node/register/transpile-only local/cli.ts [flags]`;

export interface CliIo {
    out(text: string): void;
    err(text: string): void;
}

export interface CliOptions {
    stack: string;
    port: number;
    memory: boolean;
    quiet: boolean;
    failRate: number;
    timeScale?: number;
    logs: boolean;
}

export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

/** Parses the command line; bad values are UsageErrors naming the flag. */
export function parseCliArgs(argv: string[]): CliOptions | "help" {
    let values: Record<string, string | boolean | undefined>;
    try {
        ({ values } = parseArgs({
            args: argv,
            options: {
                stack: { type: "string" },
                port: { type: "string" },
                memory: { type: "boolean" },
                quiet: { type: "boolean" },
                "fail-rate": { type: "string" },
                "time-scale": { type: "string" },
                logs: { type: "boolean" },
                help: { type: "boolean", short: "h" },
            },
            strict: true,
            allowPositionals: false,
        }));
    } catch (error) {
        throw new UsageError((error as Error).message);
    }
    if (values.help) return "help";
    // Decimal digits only: Number() would also take "0xC1C", "1e3", " 80 " or "".
    const portText = values.port === undefined ? String(DEFAULT_PORT) : String(values.port);
    const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 0 && port <= 65535)) {
        throw new UsageError(`--port must be a whole number from 0 to 65535 in decimal digits (0 = a free port), got "${values.port}"`);
    }
    const failRateText = values["fail-rate"] === undefined ? "0" : String(values["fail-rate"]);
    const failRate = DECIMAL.test(failRateText) ? Number(failRateText) : NaN;
    if (!(failRate >= 0 && failRate <= 1)) {
        throw new UsageError(`--fail-rate must be a probability from 0 to 1 as a decimal number (e.g. 0.3), got "${values["fail-rate"]}"`);
    }
    let timeScale: number | undefined;
    if (values["time-scale"] !== undefined) {
        try {
            timeScale = parseTimeScale(String(values["time-scale"]));
        } catch (error) {
            if (error instanceof TimeScaleError) throw new UsageError(error.message);
            throw error;
        }
    }
    return {
        stack: (values.stack as string | undefined) ?? "dev",
        port,
        memory: Boolean(values.memory),
        quiet: Boolean(values.quiet),
        failRate,
        timeScale,
        logs: Boolean(values.logs),
    };
}

/** The start-up banner: where everything is, what runs, what to try. */
export function banner(runtime: LocalRuntime, options: Pick<CliOptions, "failRate" | "logs">): string {
    const { model, urls } = runtime;
    const lines: string[] = [];
    const rel = (p: string) => path.relative(PROJECT_ROOT, p) || ".";
    lines.push(`Bellyfed local runtime: stack ${runtime.stack}, ${runtime.memory ? "tables and queues in memory (nothing kept)" : `data on disk in ${rel(runtime.dataDir!)}`}`);
    lines.push("");
    lines.push(`  HTTP API      ${urls.http}`);
    lines.push(`  DynamoDB      ${urls.dynamodb}`);
    lines.push(`  EventBridge   ${urls.eventbridge}   (PutEvents, AWS JSON 1.1)`);
    lines.push(`  State         ${urls.state}`);
    lines.push(`  Time scale    ${runtime.timing.describe()}`);
    if (options.failRate > 0) lines.push(`  Fault rate    ${options.failRate} of consumer invocations fail (half after their side effects)`);
    lines.push(`  Function logs ${options.logs || !runtime.logDir ? "printed here" : `${rel(runtime.logDir)}/<function>.log`}`);
    const recovery = runtime.recovery;
    if (recovery?.uncleanStop) {
        const who = [recovery.uncleanStop.pid ? `pid ${recovery.uncleanStop.pid}` : undefined, recovery.uncleanStop.since ? `started ${recovery.uncleanStop.since}` : undefined].filter(Boolean).join(", ");
        lines.push(
            `  Recovered     the previous runtime${who ? ` (${who})` : ""} did not stop cleanly (killed or crashed): ` +
                `restored ${recovery.restoredMessages} queued message(s) from its queue snapshot and journal (${recovery.journalEntries} journal entries)`,
        );
    } else if (recovery && recovery.restoredMessages > 0) {
        lines.push(`  Restored      ${recovery.restoredMessages} queued message(s) kept from the last stop`);
    }
    lines.push("");
    lines.push("Routes");
    for (const r of runtime.routes) lines.push(`  ${r.routeKey.padEnd(32)} -> ${r.functionName}`);
    if (runtime.queues.length > 0) {
        lines.push("Queues");
        for (const q of runtime.queues) {
            const details = [`visibility ${formatMs(q.visibilityTimeoutMs)}`];
            if (q.dlq) details.push(`DLQ ${q.dlq} after ${q.maxReceiveCount} receives`);
            if (q.targetDlqs.length) details.push(`rule target DLQ ${q.targetDlqs.join(", ")}`);
            lines.push(`  ${q.name}${q.consumers.length ? ` -> ${q.consumers.join(", ")}` : ""} (${details.join("; ")})`);
        }
    }
    if (model.rules.length > 0) {
        lines.push("Rules");
        for (const r of model.rules) {
            lines.push(`  ${r.name} on ${r.busName}${r.enabled ? "" : " (disabled)"}: ${r.patternText ?? r.scheduleExpression ?? ""} -> ${r.targets.map((t) => t.resource ?? t.arn).join(", ") || "no targets"}`);
        }
    }
    for (const [table, ids] of Object.entries(runtime.seeded)) {
        if (ids.length === 0) continue;
        const how = runtime.seededNow.includes(table) ? "seeded now" : "table kept from an earlier start: not re-seeded";
        lines.push(`Sample ${table} (${how}): ${ids.join(", ")}`);
    }
    for (const warning of runtime.warnings) lines.push(`Warning: ${warning}`);
    const sample = Object.values(runtime.seeded)[0]?.[0];
    // The simplest GET route that ends in one {parameter}: e.g. GET /restaurant/{id}.
    const route = runtime.routes
        .filter((r) => /^GET \S*\/\{[A-Za-z0-9_]+\}$/.test(r.routeKey) && (r.routeKey.match(/\{/g) ?? []).length === 1)
        .sort((a, b) => a.routeKey.length - b.routeKey.length)[0];
    lines.push("");
    lines.push("Try");
    if (sample && route) {
        const url = `${urls.http}${route.routeKey.slice(4).replace(/\{[^}]+\}/, sample)}`;
        lines.push(`  curl -i ${url}`);
    }
    lines.push(`  curl ${urls.state}`);
    lines.push("");
    lines.push(`Started in ${formatMs(runtime.startupMs)}. Ctrl-C to stop.`);
    return `${lines.join("\n")}\n`;
}

/**
 * Errors whose message says all there is to say (a bad stack config or file, an unknown stack, a
 * graph the runtime cannot follow, a port or data folder in use): printed without a stack trace.
 * Matched by class, or by name for a class from another copy of its module (the program under the
 * mock engine is re-evaluated on every run).
 */
const EXPECTED_START_ERRORS = [UnknownStackError, StackFileError, StackConfigError, LocalModelError, PortInUseError, LocalDataError];

export function isExpectedStartError(error: unknown): error is Error {
    return error instanceof Error && EXPECTED_START_ERRORS.some((type) => error instanceof type || error.name === type.name);
}

/** Runs the CLI until `stopSignal` resolves (SIGINT/SIGTERM in the real process). Returns the exit code. */
export async function main(argv: string[], io: CliIo, stopSignal: (stop: () => void) => void, start: typeof startLocalRuntime = startLocalRuntime): Promise<number> {
    let options: CliOptions | "help";
    try {
        options = parseCliArgs(argv);
    } catch (error) {
        io.err(`${(error as Error).message}\n\n${USAGE}\n`);
        return 2;
    }
    if (options === "help") {
        io.out(`${USAGE}\n`);
        return 0;
    }
    const opts = options;
    let runtime: LocalRuntime;
    try {
        runtime = await start({
            stack: opts.stack,
            port: opts.port,
            memory: opts.memory,
            failRate: opts.failRate,
            timeScale: opts.timeScale,
            functionLogs: opts.logs ? "inherit" : "file",
            onFlow: opts.quiet ? undefined : (event) => io.out(`${formatFlow(event)}\n`),
        });
    } catch (error) {
        if (isExpectedStartError(error)) {
            io.err(`${error.message}\n`);
        } else {
            io.err(`Could not start the local runtime: ${(error as Error).stack ?? error}\n`);
        }
        return 1;
    }
    io.out(banner(runtime, opts));
    await new Promise<void>((resolve) => stopSignal(resolve));
    io.out("Stopping: refusing new requests (503), finishing the running requests and batches, saving the queues, closing...\n");
    await runtime.stop();
    io.out("Stopped.\n");
    return 0;
}

if (require.main === module) {
    // Lambda runs Node 22; the SDK's notice about Node 20 is noise in this terminal.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    const io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
    main(process.argv.slice(2), io, (stop) => {
        // Ctrl-C under `npm start` reaches this process twice (from the terminal and forwarded by
        // npm): signals within 2 s of the first are the same request. A later one forces the exit.
        let first: number | undefined;
        const onSignal = () => {
            if (first === undefined) {
                first = Date.now();
                stop();
            } else if (Date.now() - first > 2000) {
                process.stderr.write("Forced exit.\n");
                process.exit(130);
            }
        };
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
    }).then((code) => process.exit(code));
}
