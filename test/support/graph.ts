import { CapturedResource, ProgramRun, runUnderMocks } from "../../plan/engine";
import { runStack } from "../../plan/runStack";

/**
 * A captured resource graph with queries for tests. Each stack (or program) is run under the mock
 * engine once and shared by every test that asks for it.
 */
export class Graph {
    constructor(readonly run: ProgramRun<unknown>) {}

    get resources(): CapturedResource[] {
        return this.run.resources;
    }

    /** Every resource of a type (full token, e.g. `aws:sqs/queue:Queue`). */
    ofType(type: string): CapturedResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    /** The one resource of a type with a logical name; throws listing the names that exist. */
    get(type: string, name: string): CapturedResource {
        const found = this.ofType(type).find((r) => r.name === name);
        if (!found) throw new Error(`No ${type} named "${name}"; have: ${this.ofType(type).map((r) => r.name).join(", ") || "none"}`);
        return found;
    }

    /** Direct children of a resource. */
    childrenOf(parent: CapturedResource): CapturedResource[] {
        return this.resources.filter((r) => r.parent === parent.urn);
    }

    /** All descendants of a resource. */
    descendantsOf(parent: CapturedResource): CapturedResource[] {
        const direct = this.childrenOf(parent);
        return direct.flatMap((c) => [c, ...this.descendantsOf(c)]);
    }

    /** The resource whose output `key` equals `value` (e.g. the queue whose arn a policy names). */
    byOutput(key: string, value: unknown): CapturedResource | undefined {
        return this.resources.find((r) => r.outputs[key] === value);
    }

    /** The serialized `__index.js` of a Lambda function resource. */
    code(fn: CapturedResource): string {
        const text = this.run.functionCode.get(fn.urn);
        if (text === undefined) throw new Error(`No code captured for ${fn.urn}`);
        return text;
    }
}

/** Resource type tokens the tests query by. */
export const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
export const QUEUE = "aws:sqs/queue:Queue";
export const TABLE = "aws:dynamodb/table:Table";
export const RULE = "aws:cloudwatch/eventRule:EventRule";
export const QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy";
export const KMS_KEY = "aws:kms/key:Key";
export const ESM = "aws:lambda/eventSourceMapping:EventSourceMapping";
export const TOPIC = "aws:sns/topic:Topic";
export const TARGET = "aws:cloudwatch/eventTarget:EventTarget";
export const STAGE = "aws:apigatewayv2/stage:Stage";
export const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
export const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
export const FUNCTION = "aws:lambda/function:Function";

const stacks = new Map<string, Promise<Graph>>();

/** The graph of a real stack (Pulumi.<stack>.yaml), run once per test process. */
export function stackGraph(stack: string): Promise<Graph> {
    if (!stacks.has(stack)) stacks.set(stack, runStack(stack).then((run) => new Graph(run)));
    return stacks.get(stack)!;
}

/** The graph of an ad-hoc program (a component under test), run now. */
export async function programGraph(program: () => unknown, stack = "test"): Promise<Graph> {
    return new Graph(await runUnderMocks({ project: "bellyfed-test", stack, program }));
}

/** Parses a JSON-string input (policies, patterns, redrive policies). */
export function json(value: unknown): any {
    if (typeof value !== "string") throw new Error(`expected a JSON string, got ${JSON.stringify(value)}`);
    return JSON.parse(value);
}
