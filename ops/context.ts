import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { AwsClients, createClients } from "./aws";
import { OpsError, UsageError } from "./errors";
import { CHECKOUT_INVOCATION } from "./help";
import { LocalRuntime } from "./local";
import { PlanRun, runOfflinePlan } from "./plan";
import { withRetry } from "./retry";
import { findProjectDir } from "./stacks";

export interface Writer {
    write(text: string): unknown;
}

/**
 * Everything the CLI touches outside its own code, injectable so tests run commands in-process:
 * output streams, AWS clients, time, the local runtime's HTTP client, the prompt and the plan.
 */
export interface OpsIO {
    stdout?: Writer;
    stderr?: Writer;
    /** Where the confirmation prompt reads from (default process.stdin). */
    stdin?: NodeJS.ReadableStream;
    /** Whether a person is at a terminal: prompts are allowed, --watch clears the screen. Default: stdin and stdout are TTYs. */
    isTTY?: boolean;
    /** Asks a question and resolves with the answer (default: readline on stdin/stderr). */
    prompt?: (question: string) => Promise<string>;
    /** Clients to use instead of creating them (tests pass mocked ones). */
    clients?: Partial<AwsClients>;
    sleep?: (ms: number) => Promise<void>;
    now?: () => Date;
    random?: () => number;
    fetch?: typeof fetch;
    /** Aborting it stops --watch and progress polling after the current step. */
    signal?: AbortSignal;
    /** Runs the offline plan of a stack (default plan/runStack, in a checkout), to say which code declares a rule. */
    planStack?: (stack: string) => Promise<PlanRun>;
    /** Base directory for `@file` arguments and where the Pulumi project (stack files) is looked up from (default process.cwd()). */
    cwd?: string;
    /**
     * How the operator runs the CLI, for the command lines help and hints print: `npm run ops --` (the
     * default, a checkout) or `bellyfed-ops` (the package's bin).
     */
    invocation?: string;
}

export interface CommonOptions {
    stack?: string;
    json: boolean;
    region?: string;
    endpointUrl?: string;
    local?: string;
}

/** What a command runs with: the parsed common options and the (lazily created) outside world. */
export class Ctx {
    private clients?: AwsClients;
    private runtime?: LocalRuntime;
    private plans = new Map<string, Promise<PlanRun>>();
    private project?: { dir: string | undefined };
    readonly sleep: (ms: number) => Promise<void>;
    readonly now: () => Date;

    constructor(
        readonly io: OpsIO,
        readonly opts: CommonOptions,
    ) {
        this.sleep = io.sleep ?? ((ms) => abortableSleep(ms, io.signal));
        this.now = io.now ?? (() => new Date());
    }

    out(text = ""): void {
        (this.io.stdout ?? process.stdout).write(`${text}\n`);
    }

    err(text: string): void {
        (this.io.stderr ?? process.stderr).write(`${text}\n`);
    }

    /** One JSON document on stdout. */
    json(value: unknown): void {
        this.out(JSON.stringify(value, null, 2));
    }

    /** How the operator runs the CLI (`npm run ops --` or `bellyfed-ops`), for the command lines hints print. */
    get invocation(): string {
        return this.io.invocation ?? CHECKOUT_INVOCATION;
    }

    /**
     * A command line an operator can paste to run `command` against what this run works on: the way the
     * CLI was run, the command, and `--local URL` or `--stack NAME`.
     */
    commandLine(command: string): string {
        const where = this.opts.local ? `--local ${this.opts.local}` : this.opts.stack ? `--stack ${this.opts.stack}` : "";
        return [this.invocation, command, where].filter(Boolean).join(" ");
    }

    get isTTY(): boolean {
        return this.io.isTTY ?? Boolean(process.stdin.isTTY && process.stdout.isTTY);
    }

    get aborted(): boolean {
        return this.io.signal?.aborted ?? false;
    }

    aws(): AwsClients {
        this.clients ??= createClients({ region: this.opts.region, endpoint: this.opts.endpointUrl }, this.io.clients);
        return this.clients;
    }

    /**
     * One AWS call with bounded retries on throttling and, for calls safe to repeat, transient failures
     * (exponential backoff, full jitter; retry.ts). A call that is not safe to repeat and whose outcome
     * is unknown ends with OutcomeUnknownError.
     */
    call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
        return withRetry(operation, fn, { sleep: this.sleep, random: this.io.random });
    }

    /** The Pulumi project whose stack files `--stack` names (stacks.ts), or undefined outside any. */
    get projectDir(): string | undefined {
        this.project ??= { dir: findProjectDir(this.io.cwd ?? process.cwd()) };
        return this.project.dir;
    }

    local(): LocalRuntime {
        if (!this.opts.local) throw new OpsError("internal: local() without --local");
        this.runtime ??= new LocalRuntime(this.opts.local, this.io.fetch ?? fetch, this.opts.stack);
        return this.runtime;
    }

    /** The stack a command runs against; required unless the command can do without. */
    requireStack(command: string): string {
        if (!this.opts.stack) throw new UsageError("--stack NAME is required (the stack whose resources to look at)", command);
        return this.opts.stack;
    }

    /** The offline plan of a stack (run once per process; only in a checkout: plan.ts). */
    plan(stack: string): Promise<PlanRun> {
        if (!this.plans.has(stack)) {
            const run = this.io.planStack ?? runOfflinePlan;
            // A synchronous throw (no plan in this installation) becomes the promise's rejection.
            this.plans.set(stack, Promise.resolve().then(() => run(stack)));
        }
        return this.plans.get(stack)!;
    }

    async confirm(question: string): Promise<boolean> {
        const answer = await (this.io.prompt ?? defaultPrompt(this.io.stdin ?? process.stdin, this.io.stderr ?? process.stderr))(question);
        return /^y(es)?$/i.test(answer.trim());
    }

    /** Reads a `--flag <json or @file>` value: inline JSON, or `@path` for a file's JSON. */
    readJson(flag: string, value: string | undefined, command: string): unknown {
        if (value === undefined || value === "") throw new UsageError(`--${flag} is required (inline JSON or @file)`, command);
        let text = value;
        let source = "";
        if (value.startsWith("@")) {
            const file = path.resolve(this.io.cwd ?? process.cwd(), value.slice(1));
            source = ` (file ${value.slice(1)})`;
            try {
                text = fs.readFileSync(file, "utf8");
            } catch (error) {
                throw new UsageError(`--${flag} ${value}: cannot read the file: ${(error as Error).message}`, command);
            }
        }
        try {
            return JSON.parse(text);
        } catch (error) {
            throw new UsageError(`--${flag}${source}: malformed JSON: ${(error as Error).message}`, command);
        }
    }
}

/** Resolves after `ms`, or at once when the signal aborts (Ctrl-C ends --watch without waiting). */
function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const timer = setTimeout(done, ms);
        function done() {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolve();
        }
        signal?.addEventListener("abort", done, { once: true });
    });
}

function defaultPrompt(input: NodeJS.ReadableStream, output: Writer): (question: string) => Promise<string> {
    return (question) =>
        new Promise((resolve) => {
            const rl = readline.createInterface({ input, output: output as NodeJS.WritableStream });
            let answered = false;
            rl.question(question, (answer) => {
                answered = true;
                rl.close();
                resolve(answer);
            });
            // Ctrl-C at the prompt is a "no".
            rl.on("SIGINT", () => rl.close());
            rl.on("close", () => {
                if (!answered) resolve("");
            });
        });
}
