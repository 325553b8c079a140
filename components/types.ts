import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

/**
 * An escape hatch for one child resource: receives the args the component computed and returns the
 * args to use. Runs before the child is registered, so it can change anything, including names.
 */
export type ArgsTransform<T> = (args: T) => T;

/**
 * An IAM policy statement, as JSON the policy document will contain. Name actions and resources:
 * the policy checks reject `"*"` and `"service:*"` actions and `"*"` resources.
 */
export interface PolicyStatement {
    /** Statement id, shown in IAM and in policy-check messages. */
    Sid?: string;
    Effect: "Allow" | "Deny";
    /** Actions, e.g. `["dynamodb:GetItem"]`. */
    Action: string | string[];
    /** ARNs the actions apply to; Outputs (e.g. `table.arn`) are resolved when the document is built. */
    Resource: pulumi.Input<string> | pulumi.Input<string>[];
    /** Resource policies only: who the statement applies to. */
    Principal?: unknown;
    /** Condition block, e.g. `{ ArnEquals: { "aws:SourceArn": rule.arn } }`. */
    Condition?: Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[]>>;
}

/** Applies an optional transform. */
export function applyTransform<T>(args: T, transform: ArgsTransform<T> | undefined): T {
    return transform ? transform(args) : args;
}

/** A policy document as a JSON string Output, resolving every Input inside the statements. */
export function policyDocument(statements: pulumi.Input<PolicyStatement>[]): pulumi.Output<string> {
    return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
}

/**
 * A statement id that is unique per `key` and valid in every AWS policy (IAM allows only A-Z, a-z
 * and 0-9): `prefix`, the words of `key` capitalized (readable in the console), then 8 hex digits of
 * a hash of the exact key. The words alone would collide: `a-b/c` and `a/b-c` both read `ABC`.
 */
export function uniqueSid(prefix: string, key: string): string {
    const words = key
        .split(/[^A-Za-z0-9]+/)
        .filter(Boolean)
        .map((w) => w[0].toUpperCase() + w.slice(1))
        .join("");
    return `${prefix}${words}${createHash("sha256").update(key).digest("hex").slice(0, 8)}`;
}

/** Fails before any child is registered: component arguments are checked first, naming the field. */
export class ComponentArgumentError extends Error {
    constructor(component: string, name: string, field: string, message: string) {
        super(`${component} "${name}": ${field} ${message}`);
        this.name = "ComponentArgumentError";
    }
}

/** Merges tags; later maps win. */
export function mergeTags(...maps: (Record<string, string> | undefined)[]): Record<string, string> {
    return Object.assign({}, ...maps.filter(Boolean));
}
