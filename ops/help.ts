/**
 * The CLI's help: general, per command group (`dlq --help`) and per command, as text or, with
 * `--json`, as one JSON document. Every command line it shows starts with the invocation the operator
 * used: `npm run ops --` in a checkout, `bellyfed-ops` through the package's bin (an installed package
 * has no `npm run ops`).
 */
import { projectStacks } from "./stacks";

/** `npm run ops -- <command>`: the package script, in a checkout of the repository. */
export const CHECKOUT_INVOCATION = "npm run ops --";
/** `bellyfed-ops <command>`: the package's bin (installed package, or a linked checkout). */
export const BIN_INVOCATION = "bellyfed-ops";

export type OptionSpec = { type: "string" | "boolean"; short?: string; help: string; value?: string };

/** What help shows of one command. */
export interface HelpSpec {
    name: string;
    summary: string;
    /** The command line after the invocation, e.g. `queues (--stack NAME | --local URL) [--watch]`. */
    usage: string;
    description: string;
    /** Example command lines, without the invocation, which help adds. */
    examples: string[];
    options: Record<string, OptionSpec>;
}

/** Everything help renders from. */
export interface HelpContext {
    /** How the operator runs the CLI (CHECKOUT_INVOCATION or BIN_INVOCATION). */
    invocation: string;
    commands: HelpSpec[];
    /** Options every command takes. */
    common: Record<string, OptionSpec>;
    /** Words that take a sub-command (`dlq`: inspect, redrive). */
    groups: Record<string, string[]>;
    /** The Pulumi project whose stacks `--stack` names, if any. */
    projectDir?: string;
}

export const EXIT_CODES: Record<string, string> = {
    "0": "success",
    "1": "a failed check or operation (unhealthy queue, poison messages, disagreement, flagged rules, partial failure, an AWS error)",
    "2": "the command could not run as asked (unknown command or flag, missing argument, malformed JSON or pattern, unknown stack or queue, missing credentials or region)",
};

const DESCRIPTION = "Operations on a deployed stack (AWS: standard credential chain and region) or on the local runtime (--local URL).";

function optionLines(options: Record<string, OptionSpec>): string[] {
    const entries = Object.entries(options).map(([k, s]) => [`${s.short ? `-${s.short}, ` : ""}--${k}${s.value ? ` ${s.value}` : ""}`, s.help]);
    const width = Math.max(...entries.map(([f]) => f.length));
    return entries.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`);
}

function optionDocs(options: Record<string, OptionSpec>) {
    return Object.entries(options).map(([name, s]) => ({ flag: `--${name}`, ...(s.short ? { short: `-${s.short}` } : {}), value: s.value ?? null, help: s.help }));
}

function stacksLine(projectDir: string | undefined): string {
    return projectDir
        ? `Stacks (Pulumi.<stack>.yaml in ${projectDir}): ${projectStacks(projectDir).join(", ") || "none"}`
        : "Stacks: no Pulumi project here (no Pulumi.yaml in or above the current directory): --stack NAME is the stack tag's value";
}

/** The usage line of the CLI; a checkout also names the bin. */
function usageLine(ctx: HelpContext): string {
    const main = `Usage: ${ctx.invocation} <command> [options]`;
    return ctx.invocation === CHECKOUT_INVOCATION ? `${main}     (or: ${BIN_INVOCATION} <command> [options])` : main;
}

export function generalHelp(ctx: HelpContext): string {
    const width = Math.max(...ctx.commands.map((c) => c.name.length));
    return [
        usageLine(ctx),
        "",
        DESCRIPTION,
        "",
        "Commands:",
        ...ctx.commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
        "",
        "Examples:",
        ...ctx.commands.map((c) => `  ${ctx.invocation} ${c.examples[0]}`),
        "",
        "Options for every command:",
        ...optionLines(ctx.common),
        "",
        "Exit codes: 0 success, 1 a failed check (unhealthy queue, poison messages, disagreement, partial failure),",
        "2 bad usage (unknown command or flag, missing argument, malformed JSON or pattern, unknown stack or queue,",
        "missing credentials). `<command> --help` shows a command's options. With --json a failure is still one JSON",
        'document on stdout: {"error": {"message": "...", "exitCode": N}}, and --help --json is one JSON document too.',
        stacksLine(ctx.projectDir),
    ].join("\n");
}

export function commandHelp(spec: HelpSpec, ctx: HelpContext): string {
    return [
        `Usage: ${ctx.invocation} ${spec.usage}`,
        "",
        spec.description,
        "",
        "Options:",
        ...optionLines({ ...spec.options, ...ctx.common }),
        "",
        "Examples:",
        ...spec.examples.map((e) => `  ${ctx.invocation} ${e}`),
    ].join("\n");
}

/** The commands of a group word (`dlq`: dlq inspect, dlq redrive). */
function groupCommands(group: string, ctx: HelpContext): HelpSpec[] {
    return (ctx.groups[group] ?? []).map((sub) => ctx.commands.find((c) => c.name === `${group} ${sub}`)).filter((c): c is HelpSpec => c !== undefined);
}

export function groupHelp(group: string, ctx: HelpContext): string {
    const commands = groupCommands(group, ctx);
    const width = Math.max(...commands.map((c) => c.name.length));
    return [
        `Usage: ${ctx.invocation} ${group} <${(ctx.groups[group] ?? []).join("|")}> [options]`,
        "",
        "Commands:",
        ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
        "",
        ...commands.map((c) => `  ${ctx.invocation} ${c.usage}`),
        "",
        `\`${ctx.invocation} ${group} <command> --help\` shows a command's options.`,
    ].join("\n");
}

function commandDocument(spec: HelpSpec, ctx: HelpContext) {
    return {
        name: spec.name,
        summary: spec.summary,
        usage: `${ctx.invocation} ${spec.usage}`,
        description: spec.description.replace(/\s*\n\s*/g, " "),
        options: optionDocs(spec.options),
        examples: spec.examples.map((e) => `${ctx.invocation} ${e}`),
    };
}

/** `--help --json`: the commands with their options and examples, the common options, the exit codes and the stacks. */
export function generalHelpDocument(ctx: HelpContext) {
    return {
        usage: `${ctx.invocation} <command> [options]`,
        description: DESCRIPTION,
        commands: ctx.commands.map((c) => commandDocument(c, ctx)),
        commonOptions: optionDocs(ctx.common),
        exitCodes: EXIT_CODES,
        project: { dir: ctx.projectDir ?? null, stacks: ctx.projectDir ? projectStacks(ctx.projectDir) : [] },
    };
}

/** `<command> --help --json`. */
export function commandHelpDocument(spec: HelpSpec, ctx: HelpContext) {
    return { ...commandDocument(spec, ctx), commonOptions: optionDocs(ctx.common), exitCodes: EXIT_CODES };
}

/** `<group> --help --json`. */
export function groupHelpDocument(group: string, ctx: HelpContext) {
    return { group, usage: `${ctx.invocation} ${group} <${(ctx.groups[group] ?? []).join("|")}> [options]`, commands: groupCommands(group, ctx).map((c) => commandDocument(c, ctx)) };
}
