/**
 * The operations CLI: `npm run ops -- <command>` (also the package's `bellyfed-ops` bin, which runs
 * this file from a checkout and its compiled dist/ops/cli.js from an installed package).
 *
 * `runOps(argv, io)` runs one command in-process and resolves with its exit code (0 success, 1 a
 * failed check, 2 bad usage: see errors.ts); everything outside the code (streams, AWS clients, time,
 * the prompt, the local runtime's HTTP client) comes from `io`, so tests need no child processes.
 * `main()` is the process entry point.
 */
import { parseArgs } from "util";
import { exitWhenFlushed } from "../plan/exitWhenFlushed";
import { describeError } from "./aws";
import { dlqInspect, dlqRedrive, MAX_MOVE_RATE } from "./commands/dlq";
import { eventsPut } from "./commands/events";
import { patternTest } from "./commands/pattern";
import { queuesCommand } from "./commands/queues";
import { MAX_METRIC_DAYS, rulesCleanup, rulesCommand } from "./commands/rules";
import { CommonOptions, Ctx, OpsIO } from "./context";
import { errorDocument } from "./errorDocument";
import { EXIT_OK, UsageError } from "./errors";
import {
    BIN_INVOCATION,
    CHECKOUT_INVOCATION,
    commandHelp,
    commandHelpDocument,
    generalHelp,
    generalHelpDocument,
    groupHelp,
    groupHelpDocument,
    HelpContext,
    HelpSpec,
    OptionSpec,
} from "./help";
import { checkStack, findProjectDir } from "./stacks";

export type { OpsIO } from "./context";

type Values = Record<string, string | boolean | undefined>;

interface CommandSpec extends HelpSpec {
    /** Names of the positional arguments after the command words (all optional to the parser). */
    positionals: string[];
    /** false: the command never needs a stack (pattern test). */
    stack: boolean;
    run(ctx: Ctx, values: Values, positionals: string[]): Promise<number>;
}

const COMMON: Record<string, OptionSpec> = {
    stack: {
        type: "string",
        value: "NAME",
        help: "the stack whose resources to work on (its stack=NAME tag; Pulumi.<NAME>.yaml of the Pulumi project in or above the current directory, if any)",
    },
    json: { type: "boolean", help: 'machine output: one JSON document on stdout (on failure: {"error": {"message", "exitCode"}})' },
    region: { type: "string", value: "REGION", help: "AWS region (default: the SDK's: AWS_REGION, your profile)" },
    "endpoint-url": { type: "string", value: "URL", help: "send AWS calls to this endpoint (any AWS-compatible one)" },
    local: { type: "string", value: "URL", help: "work against a running local runtime (npm start), e.g. http://localhost:3000" },
    help: { type: "boolean", short: "h", help: "show this help" },
};

const BUS: OptionSpec = { type: "string", value: "NAME|ARN", help: "the bus (default: the one tagged project=bellyfed and stack=NAME)" };
const QUEUE_PREFIX: OptionSpec = { type: "string", value: "PREFIX", help: "only look at queues whose name starts with PREFIX (faster discovery in busy accounts)" };
const TARGET_DLQ: OptionSpec = { type: "boolean", help: "the queue's EventBridge target DLQ (events EventBridge could not deliver to it) instead of its SQS DLQ" };
const SAMPLES: OptionSpec = { type: "string", value: "N", help: "sample messages shown per group (default 3)" };
const VISIBILITY: OptionSpec = {
    type: "string",
    value: "S",
    help: "seconds a read message stays hidden at a time; the command extends it while it works (default 60)",
};
/** How the AWS-or-local commands take their target: a stack on AWS, or a local runtime (where --stack is optional). */
const TARGET = "(--stack NAME | --local URL)";

/** Parses a whole number option, naming the flag and the range in the error. */
function int(values: Values, flag: string, command: string, fallback: number, min: number, max: number): number {
    const raw = values[flag];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (typeof raw !== "string" || raw.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
        throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got "${String(raw)}"`, command);
    }
    return n;
}

const str = (values: Values, key: string) => values[key] as string | undefined;
const bool = (values: Values, key: string) => values[key] === true;

const COMMANDS: CommandSpec[] = [
    {
        name: "queues",
        summary: "depth, in-flight, delayed, age of oldest message, DLQ depth and a health verdict per ProcessedQueue",
        usage: `queues ${TARGET} [--watch [--interval S]] [--max-age S] [--max-depth N]`,
        description:
            "Finds the stack's ProcessedQueues by their tags (project=bellyfed, stack=NAME, bellyfed:processed-queue) and shows\n" +
            "each queue's visible / in-flight / delayed counts (GetQueueAttributes), the age of its oldest message (CloudWatch\n" +
            "ApproximateAgeOfOldestMessage), its DLQ and target-DLQ depth, and a verdict. Exit 1 when any queue is unhealthy:\n" +
            "a DLQ or target DLQ holds messages, the oldest message is older than --max-age, or --max-depth or more wait\n" +
            "(default: the stack's queue-depth alarm threshold). --watch discovers the queues once, then refreshes their counts.",
        examples: ["queues --stack prod", "queues --stack prod --watch --interval 30", "queues --local http://localhost:3000 --json"],
        options: {
            watch: { type: "boolean", help: "refresh until Ctrl-C" },
            interval: { type: "string", value: "S", help: "seconds between refreshes with --watch (default 10)" },
            "max-age": { type: "string", value: "S", help: "oldest-message age (seconds) that makes a queue unhealthy (default: maxReceiveCount x visibility timeout + 300, as the age alarm)" },
            "max-depth": {
                type: "string",
                value: "N",
                help: "visible messages (>= N) that make a queue unhealthy (default: the stack's bellyfed:alarms.queueDepth, as the queue-depth alarm; 1000 when unset)",
            },
            "queue-prefix": QUEUE_PREFIX,
        },
        positionals: [],
        stack: true,
        run: (ctx, v) =>
            queuesCommand(ctx, {
                watch: bool(v, "watch"),
                intervalSeconds: int(v, "interval", "queues", 10, 1, 3600),
                thresholds: {
                    maxAgeSeconds: v["max-age"] === undefined ? undefined : int(v, "max-age", "queues", 0, 1, 1209600),
                    maxDepth: v["max-depth"] === undefined ? undefined : int(v, "max-depth", "queues", 0, 1, 1e9),
                },
                prefix: str(v, "queue-prefix"),
            }),
    },
    {
        name: "dlq inspect",
        summary: "read a DLQ without losing anything and group its messages: invalid (why) vs valid (safe to redrive)",
        usage: `dlq inspect <queue> ${TARGET} [--target-dlq] [--max N] [--samples N] [--visibility-timeout S]`,
        description:
            "<queue> is a ProcessedQueue name (or the name or URL of its queue, DLQ or target DLQ, or a route for its target\n" +
            "DLQ, e.g. platform-bus/restaurant-viewed); --target-dlq picks the queue's EventBridge target DLQ instead of its SQS\n" +
            "DLQ. Receives up to --max messages with a visibility timeout (extended while it reads), re-validates each body\n" +
            "against the event catalog (envelope, then the detail's zod schema), then makes every message visible again\n" +
            "(ChangeMessageVisibility 0): nothing is deleted. Receiving is not free: every read adds 1 to each message's\n" +
            "ApproximateReceiveCount (the DLQ has no redrive policy, so nothing moves because of it). Prints the count per\n" +
            "group, samples, and how many messages were left unread. Exit 1 when poison (invalid) messages are found.",
        examples: [
            "dlq inspect analytics-queue --stack prod",
            "dlq inspect analytics-queue --stack prod --max 500 --json",
            "dlq inspect analytics-queue --stack prod --target-dlq",
        ],
        options: {
            max: { type: "string", value: "N", help: "most messages to read (default 100)" },
            "target-dlq": TARGET_DLQ,
            samples: SAMPLES,
            "visibility-timeout": VISIBILITY,
            "queue-prefix": QUEUE_PREFIX,
        },
        positionals: ["queue"],
        stack: true,
        run: (ctx, v, [queue]) =>
            dlqInspect(ctx, {
                queue: required(queue, "<queue>", "dlq inspect"),
                targetDlq: bool(v, "target-dlq"),
                samples: int(v, "samples", "dlq inspect", 3, 0, 100),
                read: { max: int(v, "max", "dlq inspect", 100, 1, 100000), visibilityTimeout: int(v, "visibility-timeout", "dlq inspect", 60, 1, 43200), waitSeconds: 1 },
                prefix: str(v, "queue-prefix"),
            }),
    },
    {
        name: "dlq redrive",
        summary: "move DLQ messages back to their source queue (SQS message move task, or --only-valid)",
        usage: `dlq redrive <queue> ${TARGET} [--dry-run] [--max-per-second N | [--target-dlq] --only-valid [--max N]]`,
        description:
            "Default: checks that the queue is the DLQ of its source (the source's RedrivePolicy names it and its\n" +
            "RedriveAllowPolicy allows it), that both queues have the same type (FIFO/standard), that no move task is running\n" +
            `and that --max-per-second is within SQS's limit (${MAX_MOVE_RATE}); then starts an SQS message move task and shows its progress\n` +
            "until it completes. --only-valid moves only messages that pass validation: receive, send to the source, delete\n" +
            "from the DLQ only after the send succeeded; poison messages stay in the DLQ, hidden while it works (their\n" +
            "visibility is extended) and visible again at the end. It reads until a receive finds the DLQ empty, then says\n" +
            "how many messages SQS still counts (ApproximateNumberOfMessages + NotVisible). A message sent but not deleted is\n" +
            "reported as a possible duplicate (the consumer counts an event id once). --dry-run checks and counts without\n" +
            "moving anything. Exit 1 if a check fails, the task fails, or messages are left, unread or not moved cleanly.",
        examples: [
            "dlq redrive analytics-queue --stack prod --dry-run",
            "dlq redrive analytics-queue --stack prod --max-per-second 50",
            "dlq redrive analytics-queue --stack prod --only-valid",
            "dlq redrive analytics-queue --stack prod --target-dlq --only-valid",
        ],
        options: {
            "only-valid": { type: "boolean", help: "move only messages that pass validation; leave poison ones in the DLQ" },
            "dry-run": { type: "boolean", help: "run the checks and say what would move; move nothing" },
            "target-dlq": { type: "boolean", help: "redrive the queue's EventBridge target DLQ (needs --only-valid: SQS move tasks only take SQS DLQs)" },
            "max-per-second": { type: "string", value: "N", help: `move task rate, 1-${MAX_MOVE_RATE} (default: SQS chooses)` },
            max: { type: "string", value: "N", help: "with --only-valid: most messages to read (default: until the DLQ is drained)" },
            "poll-interval": { type: "string", value: "S", help: "seconds between move-task progress checks (default 5)" },
            samples: SAMPLES,
            "visibility-timeout": VISIBILITY,
            "queue-prefix": QUEUE_PREFIX,
        },
        positionals: ["queue"],
        stack: true,
        run: (ctx, v, [queue]) =>
            dlqRedrive(ctx, {
                queue: required(queue, "<queue>", "dlq redrive"),
                targetDlq: bool(v, "target-dlq"),
                onlyValid: bool(v, "only-valid"),
                dryRun: bool(v, "dry-run"),
                maxPerSecond: v["max-per-second"] === undefined ? undefined : maxRate(v),
                pollSeconds: int(v, "poll-interval", "dlq redrive", 5, 1, 300),
                samples: int(v, "samples", "dlq redrive", 3, 0, 100),
                read: { max: int(v, "max", "dlq redrive", Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER), visibilityTimeout: int(v, "visibility-timeout", "dlq redrive", 60, 1, 43200), waitSeconds: 1 },
                prefix: str(v, "queue-prefix"),
            }),
    },
    {
        name: "rules",
        summary: "every rule on the stack's bus: pattern, state, targets (DLQ, retry), matched/invoked/failed counts; flags",
        usage: `rules ${TARGET} [--days N] [--bus NAME|ARN]`,
        description:
            "Lists the rules on the stack's bus (found by its project=bellyfed and stack tags, or --bus) with ListRules,\n" +
            "ListTargetsByRule and the CloudWatch metrics MatchedEvents, Invocations and FailedInvocations (AWS/Events,\n" +
            "EventBusName + RuleName; RuleName alone for the default bus) over --days. Flags rules with no matches in the\n" +
            "window, rules the stack does not declare (no bellyfed:rule tag), disabled rules, targets without a DLQ and failed\n" +
            "invocations; notes when CloudWatch has no datapoint for any rule. Exit 1 when anything is flagged.",
        examples: ["rules --stack prod --days 30", "rules --stack dev --json"],
        options: {
            days: { type: "string", value: "N", help: `metrics window in days, 1-${MAX_METRIC_DAYS} (default 14)` },
            bus: BUS,
        },
        positionals: [],
        stack: true,
        run: (ctx, v) => rulesCommand(ctx, { bus: str(v, "bus"), days: int(v, "days", "rules", 14, 1, MAX_METRIC_DAYS) }),
    },
    {
        name: "rules cleanup",
        summary: "delete unused rules the stack does not declare (lists them and asks first)",
        usage: "rules cleanup --unused --stack NAME [--days N] [--bus NAME|ARN] [--dry-run] [--yes] [--allow-no-metrics]",
        description:
            "Finds rules with no MatchedEvents over --days; keeps every rule the stack declares (it says which code declares\n" +
            "it, from the offline plan in a checkout) and every rule an AWS service manages; lists the rest and asks before\n" +
            "deleting them (RemoveTargets, then DeleteRule). Without a terminal it refuses unless --yes is given (exit 2).\n" +
            "When CloudWatch returned no datapoint for any rule of the bus (wrong region, or metrics missing), \"no matches\"\n" +
            "proves nothing: it refuses (exit 1) unless --allow-no-metrics is given. AWS only.",
        examples: ["rules cleanup --unused --days 30 --stack prod --dry-run", "rules cleanup --unused --days 30 --stack prod --yes"],
        options: {
            unused: { type: "boolean", help: "select rules with no matches over --days (required)" },
            days: { type: "string", value: "N", help: `window in days, 1-${MAX_METRIC_DAYS} (default 14)` },
            bus: BUS,
            yes: { type: "boolean", short: "y", help: "do not ask for confirmation" },
            "dry-run": { type: "boolean", help: "list what would be deleted; delete nothing" },
            "allow-no-metrics": { type: "boolean", help: "delete even when CloudWatch has no datapoint for any rule of the bus" },
        },
        positionals: [],
        stack: true,
        run: (ctx, v) =>
            rulesCleanup(ctx, {
                bus: str(v, "bus"),
                days: int(v, "days", "rules cleanup", 14, 1, MAX_METRIC_DAYS),
                unused: bool(v, "unused"),
                yes: bool(v, "yes"),
                dryRun: bool(v, "dry-run"),
                allowNoMetrics: bool(v, "allow-no-metrics"),
            }),
    },
    {
        name: "pattern test",
        summary: "does this event match this pattern? offline, with the local runtime's matcher (and --aws: EventBridge's)",
        usage: "pattern test --pattern <json|@file> --event <json|@file> [--aws]",
        description:
            "Matches offline with event-patterns/ (the matcher the local runtime routes with) and names every field that\n" +
            "failed and why. Envelope fields the event leaves out (version, id, account, time, region, resources) are filled in\n" +
            "as EventBridge would. --aws also calls EventBridge's TestEventPattern and reports a disagreement. A malformed\n" +
            "pattern is an error naming the field (exit 2). Exit 0 on a match, 1 on no match or a disagreement.",
        examples: [
            `pattern test --pattern '{"detail-type":["RestaurantViewed"]}' --event @event.json`,
            `pattern test --pattern @pattern.json --event @event.json --aws --region eu-west-1`,
        ],
        options: {
            pattern: { type: "string", value: "JSON|@FILE", help: "the event pattern" },
            event: { type: "string", value: "JSON|@FILE", help: "the event (an EventBridge envelope, or part of one)" },
            aws: { type: "boolean", help: "also ask EventBridge's TestEventPattern (needs credentials)" },
        },
        positionals: [],
        stack: false,
        run: (ctx, v) => patternTest(ctx, { pattern: str(v, "pattern"), event: str(v, "event"), aws: bool(v, "aws") }),
    },
    {
        name: "events put",
        summary: "validate a detail against the event catalog and publish it to the stack's bus (test event routing)",
        usage: `events put <detail-type> --detail <json|@file> ${TARGET} [--bus NAME|ARN] [--allow-invalid]`,
        description:
            "Validates the detail against the catalog's zod schema (each issue named), publishes it with PutEvents and\n" +
            "prints the event id. PutEvents answers 200 even when an entry fails: a per-entry ErrorCode is printed and the\n" +
            "exit code is 1. PutEvents is never sent twice: when it fails without saying whether the event was published (a\n" +
            "5xx, a timeout), the command says so (exit 1) instead of risking a duplicate. --allow-invalid publishes a detail\n" +
            "that fails validation (to test the poison-message path). With --local it publishes to the local runtime's\n" +
            "EventBridge endpoint.",
        examples: [
            `events put RestaurantViewed --stack dev --detail '{"version":1,"restaurantId":"r-1","viewedAt":"2024-05-01T12:00:00Z","requestId":"ops-test"}'`,
            "events put RestaurantViewed --local http://localhost:3000 --detail @detail.json",
        ],
        options: {
            detail: { type: "string", value: "JSON|@FILE", help: "the event's detail" },
            bus: BUS,
            "allow-invalid": { type: "boolean", help: "publish even when the detail fails the catalog schema" },
        },
        positionals: ["detail-type"],
        stack: true,
        run: (ctx, v, [detailType]) => eventsPut(ctx, { detailType, detail: str(v, "detail"), bus: str(v, "bus"), allowInvalid: bool(v, "allow-invalid") }),
    },
];

function maxRate(values: Values): number {
    const raw = values["max-per-second"];
    const n = Number(raw);
    if (typeof raw !== "string" || raw.trim() === "" || !Number.isInteger(n) || n < 1) {
        throw new UsageError(`--max-per-second must be a whole number from 1 to ${MAX_MOVE_RATE}, got "${String(raw)}"`, "dlq redrive");
    }
    if (n > MAX_MOVE_RATE) throw new UsageError(`--max-per-second ${n} is above SQS's limit of ${MAX_MOVE_RATE} messages per second for a message move task`, "dlq redrive");
    return n;
}

function required(value: string | undefined, what: string, command: string): string {
    if (!value) throw new UsageError(`${what} is required`, command);
    return value;
}

/** Words that take a sub-command, and the sub-commands. */
const GROUPS: Record<string, string[]> = { dlq: ["inspect", "redrive"], pattern: ["test"], events: ["put"], rules: ["cleanup"] };

const ALL_STRING_OPTIONS = new Set(
    [COMMON, ...COMMANDS.map((c) => c.options)].flatMap((o) => Object.entries(o).filter(([, s]) => s.type === "string").map(([k]) => `--${k}`)),
);

/** Finds the command words in argv (options may come before them) and returns the command. */
function findCommand(argv: string[]): { spec?: CommandSpec; words: string[]; rest: string[] } {
    const words: string[] = [];
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg.startsWith("-")) {
            rest.push(arg);
            if (ALL_STRING_OPTIONS.has(arg) && i + 1 < argv.length) rest.push(argv[++i]);
            continue;
        }
        const expectsWord = words.length === 0 || (words.length === 1 && GROUPS[words[0]] !== undefined && GROUPS[words[0]].includes(arg));
        if (expectsWord && words.length < 2) words.push(arg);
        else rest.push(arg);
    }
    const name = words.join(" ");
    return { spec: COMMANDS.find((c) => c.name === name), words, rest };
}

function parseFor(spec: CommandSpec, rest: string[]): { values: Values; positionals: string[] } {
    const options = { ...COMMON, ...spec.options };
    const config = Object.fromEntries(Object.entries(options).map(([k, s]) => [k, s.short ? { type: s.type, short: s.short } : { type: s.type }]));
    try {
        const parsed = parseArgs({ args: rest, options: config as any, allowPositionals: true, strict: true });
        return { values: parsed.values as Values, positionals: parsed.positionals };
    } catch (error) {
        throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ""), spec.name);
    }
}

/** Runs one ops command; resolves with the exit code. Never throws. */
export async function runOps(argv: string[], io: OpsIO = {}): Promise<number> {
    const stderr = io.stderr ?? process.stderr;
    const stdout = io.stdout ?? process.stdout;
    const invocation = io.invocation ?? CHECKOUT_INVOCATION;
    const { spec, words, rest } = findCommand(argv);
    // Guessed before parsing, so that a usage error is a JSON document too; the parsed flag decides after.
    let json = rest.includes("--json");
    let command = spec?.name ?? "";
    const help = (): HelpContext => ({ invocation, commands: COMMANDS, common: COMMON, groups: GROUPS, projectDir: findProjectDir(io.cwd ?? process.cwd()) });
    /** Help is text, or with --json one JSON document; either way exit 0. */
    const showHelp = (text: (ctx: HelpContext) => string, document: (ctx: HelpContext) => unknown): number => {
        const ctx = help();
        stdout.write(json ? `${JSON.stringify(document(ctx), null, 2)}\n` : `${text(ctx)}\n`);
        return EXIT_OK;
    };
    const wantsHelp = rest.includes("--help") || rest.includes("-h");
    try {
        if (words[0] === "help") {
            const named = words.slice(1).concat(rest.filter((r) => !r.startsWith("-")));
            const target = COMMANDS.find((c) => c.name === named.join(" "));
            if (target) return showHelp((ctx) => commandHelp(target, ctx), (ctx) => commandHelpDocument(target, ctx));
            if (named.length === 1 && GROUPS[named[0]]) return showHelp((ctx) => groupHelp(named[0], ctx), (ctx) => groupHelpDocument(named[0], ctx));
            return showHelp(generalHelp, generalHelpDocument);
        }
        if (!spec) {
            if (words.length === 0) {
                if (wantsHelp) return showHelp(generalHelp, generalHelpDocument);
                throw new UsageError("no command given");
            }
            const group = GROUPS[words[0]];
            if (group && words.length === 1 && words[0] !== "rules") {
                if (wantsHelp) return showHelp((ctx) => groupHelp(words[0], ctx), (ctx) => groupHelpDocument(words[0], ctx));
                command = "";
                throw new UsageError(`\`${words[0]}\` needs a sub-command: ${group.map((g) => `${words[0]} ${g}`).join(", ")} (\`${invocation} ${words[0]} --help\` shows them)`);
            }
            throw new UsageError(`unknown command "${words.join(" ")}"`);
        }
        const { values, positionals } = parseFor(spec, rest);
        json = bool(values, "json");
        if (values.help) return showHelp((ctx) => commandHelp(spec, ctx), (ctx) => commandHelpDocument(spec, ctx));
        if (positionals.length > spec.positionals.length) {
            throw new UsageError(`unexpected argument "${positionals[spec.positionals.length]}"`, spec.name);
        }
        const opts: CommonOptions = {
            stack: str(values, "stack"),
            json: bool(values, "json"),
            region: str(values, "region"),
            endpointUrl: str(values, "endpoint-url"),
            local: str(values, "local"),
        };
        if (opts.local && opts.endpointUrl) throw new UsageError("--local and --endpoint-url cannot be combined", spec.name);
        const ctx = new Ctx(io, opts);
        if (opts.stack !== undefined && spec.stack) checkStack(ctx.projectDir, opts.stack);
        return await spec.run(ctx, values, positionals);
    } catch (error) {
        const e = describeError(error);
        stderr.write(`error: ${e.message}\n`);
        if (e instanceof UsageError) {
            const usageOf = COMMANDS.find((c) => c.name === (e.command ?? command));
            stderr.write(`\n${usageOf ? `Usage: ${invocation} ${usageOf.usage}\n(\`${invocation} ${usageOf.name} --help\` for the options)` : `Run \`${invocation} --help\` for the commands.`}\n`);
        }
        if (json) stdout.write(`${JSON.stringify(errorDocument(e.message, e.exitCode))}\n`);
        return e.exitCode;
    }
}

/**
 * The process entry point (`npm run ops`, the `bellyfed-ops` bin): Ctrl-C handling, and the exit once
 * stdout and stderr are flushed (a piped --json document arrives whole). `invocation` is how the
 * operator ran it, for the command lines help and hints print: `npm run ops` runs this file as the
 * main module; the bin (bin/bellyfed-ops.js, installed or linked) requires it and calls main(), and
 * an installed package has no `npm run ops`.
 */
export function main(argv = process.argv.slice(2), invocation = require.main === module ? CHECKOUT_INVOCATION : BIN_INVOCATION): void {
    // The SDK's multi-line NodeVersionSupportWarning (Node 20) would bury the command's own output; this is
    // the SDK's documented switch (aws/aws-sdk-js-v3#7983). An explicit setting of the variable is kept.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    const controller = new AbortController();
    let interrupted = 0;
    process.on("SIGINT", () => {
        // First Ctrl-C: finish the current step (releases held messages, stops --watch); second: exit now.
        if (++interrupted > 1) process.exit(130);
        controller.abort();
    });
    runOps(argv, { signal: controller.signal, invocation }).then(exitWhenFlushed);
}

if (require.main === module) main();
