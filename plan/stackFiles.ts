import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

/** The project root: where Pulumi.yaml lives. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** Stacks that have a Pulumi.<stack>.yaml in the project root. */
export function availableStacks(root = PROJECT_ROOT): string[] {
    return fs
        .readdirSync(root)
        .map((f) => /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => Boolean(s))
        .sort();
}

export class UnknownStackError extends Error {
    constructor(stack: string, known: string[]) {
        super(`No config for stack "${stack}" (no Pulumi.${stack}.yaml). Stacks that exist: ${known.join(", ") || "none"}`);
        this.name = "UnknownStackError";
    }
}

/** A Pulumi.<stack>.yaml that cannot be read as a stack config (not YAML, not a mapping); the message names the file. */
export class StackFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackFileError";
    }
}

export interface StackFile {
    project: string;
    /** Config as the Pulumi engine hands it to the program: `ns:key` -> string (objects JSON-encoded). */
    config: Record<string, string>;
    /** Keys whose values are Pulumi secrets; offline they hold a placeholder, never the ciphertext. */
    secretKeys: string[];
    /**
     * YAML numbers JSON cannot hold (`.nan`, `.inf`, `1e400`), by key path (`bellyfed:analyticsQueue.batchSize`):
     * they reach the program as null, so the config check reports them with the rest of its problems.
     */
    nonFinite: { key: string; problem: string }[];
}

/** Placeholder for a `secure:` config value: the plan never needs (or can decrypt) the secret. */
export const SECRET_PLACEHOLDER = "[secret]";

/** Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI would hand them to the program. */
export function readStackFile(stack: string, root = PROJECT_ROOT): StackFile {
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) throw new UnknownStackError(stack, availableStacks(root));
    const parseFile = (name: string): any => {
        try {
            return parse(fs.readFileSync(path.join(root, name), "utf8")) ?? {};
        } catch (error) {
            throw new StackFileError(`${name}: ${(error as Error).message}`);
        }
    };
    const project = parseFile("Pulumi.yaml");
    const stackDoc = parseFile(`Pulumi.${stack}.yaml`);
    const isMapping = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
    if (!isMapping(stackDoc)) throw new StackFileError(`Pulumi.${stack}.yaml: must be a YAML mapping with a "config:" key`);
    if (stackDoc.config !== undefined && stackDoc.config !== null && !isMapping(stackDoc.config)) {
        throw new StackFileError(`Pulumi.${stack}.yaml: config: must be a mapping of "<namespace>:<key>: value", got ${JSON.stringify(stackDoc.config)}`);
    }
    const nonFinite = Object.entries<unknown>(stackDoc.config ?? {}).flatMap(([key, value]) => nonFiniteNumbers(value, key));
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries<any>(stackDoc.config ?? {})) {
        if (value && typeof value === "object" && !Array.isArray(value) && "secure" in value) {
            config[key] = SECRET_PLACEHOLDER;
            secretKeys.push(key);
        } else {
            config[key] = typeof value === "string" ? value : JSON.stringify(replaceSecrets(value));
        }
    }
    return { project: project.name, config, secretKeys, nonFinite };
}

/**
 * YAML numbers JSON cannot hold: `.nan`, `.inf`, and numbers beyond a double (`1e400` reads as
 * Infinity). JSON would turn them into null, and the config check would then report "expected number,
 * received null": each is named here instead, by its key (`bellyfed:analyticsQueue.batchSize`).
 */
function nonFiniteNumbers(value: unknown, key: string): StackFile["nonFinite"] {
    if (typeof value === "number") {
        if (Number.isFinite(value)) return [];
        const reads = Number.isNaN(value) ? "NaN (.nan)" : `${value > 0 ? "" : "-"}Infinity (.inf, or a number too large for a double, such as 1e400)`;
        return [{ key, problem: `${key}: is not a finite number: the YAML value reads as ${reads}` }];
    }
    if (Array.isArray(value)) return value.flatMap((v, i) => nonFiniteNumbers(v, `${key}.${i}`));
    if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => nonFiniteNumbers(v, `${key}.${k}`));
    return [];
}

/** Secure values nested inside structured config become the placeholder too. */
function replaceSecrets(value: any): any {
    if (Array.isArray(value)) return value.map(replaceSecrets);
    if (value && typeof value === "object") {
        if ("secure" in value && Object.keys(value).length === 1) return SECRET_PLACEHOLDER;
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceSecrets(v)]));
    }
    return value;
}
