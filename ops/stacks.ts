/**
 * What `--stack NAME` refers to, in a checkout and in an installed package alike.
 *
 * The stack files (Pulumi.yaml and Pulumi.<NAME>.yaml) are read from the Pulumi project the CLI runs
 * in: the nearest folder, from the current directory up, that holds a Pulumi.yaml; failing that, the
 * checkout the CLI runs from (`npm run ops`, or the bin of a linked checkout). In a project, NAME must
 * have a stack file, and the stack's settings (the queue-depth alarm's threshold) come from it. With
 * no project at all (the installed `bellyfed-ops` run elsewhere), NAME is only the value of the `stack`
 * tag the resources carry, and those settings take the component defaults.
 *
 * Stack files are parsed by plan/stackFiles.ts with the `yaml` package, an optional dependency of the
 * published package (Pulumi uploads a program's `dependencies` into every Lambda; `yaml` has no place
 * there), so it is loaded only when a project is found.
 */
import * as fs from "fs";
import * as path from "path";
import { EXIT_USAGE, OpsError } from "./errors";

type StackFiles = typeof import("../plan/stackFiles");

/** The ProcessedQueue's queue-depth alarm threshold when the stack sets none (components/processedQueue.ts, stacks/config.ts). */
export const DEFAULT_QUEUE_DEPTH = 1000;

/** The nearest folder from `cwd` up with a Pulumi.yaml, else the checkout this CLI runs from, else undefined. */
export function findProjectDir(cwd: string, checkout = path.resolve(__dirname, "..")): string | undefined {
    for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
        if (path.dirname(dir) === dir) break;
    }
    return fs.existsSync(path.join(checkout, "Pulumi.yaml")) ? checkout : undefined;
}

function stackFiles(): StackFiles {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require("../plan/stackFiles") as StackFiles;
    } catch (error) {
        if ((error as { code?: string }).code === "MODULE_NOT_FOUND" && (error as Error).message.includes("Cannot find module 'yaml'")) {
            throw new OpsError(
                "reading Pulumi.<stack>.yaml needs the `yaml` package, an optional dependency of @bellyfed/platform that this installation left out: `npm install yaml`",
                EXIT_USAGE,
            );
        }
        throw error;
    }
}

/** The stacks of the project (Pulumi.<stack>.yaml files), or [] outside a project. */
export function projectStacks(projectDir: string | undefined): string[] {
    return projectDir ? stackFiles().availableStacks(projectDir) : [];
}

/** In a project, a stack without a stack file is an error naming the stacks that exist (exit 2). */
export function checkStack(projectDir: string | undefined, stack: string): void {
    if (!projectDir) return;
    const known = projectStacks(projectDir);
    if (!known.includes(stack)) throw new OpsError(new (stackFiles().UnknownStackError)(stack, known).message, EXIT_USAGE);
}

export interface StackSetting<T> {
    value: T;
    /** Where the value comes from, for the operator: `Pulumi.prod.yaml bellyfed:alarms.queueDepth` or the default. */
    source: string;
}

/**
 * The visible-message count at which the stack's queue-depth alarm fires: `<project>:alarms.queueDepth`
 * of Pulumi.<stack>.yaml, else the component default. A value the stack config would reject is an error.
 */
export function stackQueueDepth(projectDir: string | undefined, stack: string | undefined): StackSetting<number> {
    const fallback = { value: DEFAULT_QUEUE_DEPTH, source: "the ProcessedQueue default" };
    if (!projectDir || !stack || !projectStacks(projectDir).includes(stack)) return fallback;
    const file = stackFiles().readStackFile(stack, projectDir);
    if (file.nonFinite.length > 0) throw new OpsError(`Pulumi.${stack}.yaml: ${file.nonFinite.map((n) => n.problem).join("; ")}`, EXIT_USAGE);
    const key = `${file.project}:alarms`;
    const raw = file.config[key];
    if (raw === undefined) return fallback;
    let alarms: unknown;
    try {
        alarms = JSON.parse(raw);
    } catch {
        alarms = raw;
    }
    const depth = alarms && typeof alarms === "object" ? (alarms as Record<string, unknown>).queueDepth : undefined;
    if (depth === undefined) return fallback;
    if (typeof depth !== "number" || !Number.isInteger(depth) || depth < 1) {
        throw new OpsError(`Pulumi.${stack}.yaml: ${key}.queueDepth must be a whole number >= 1, got ${JSON.stringify(depth)}`, EXIT_USAGE);
    }
    return { value: depth, source: `Pulumi.${stack}.yaml ${key}.queueDepth` };
}
