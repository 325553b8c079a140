import * as pulumi from "@pulumi/pulumi";
// Internal modules of @pulumi/pulumi: the public setMocks API does not expose the parent URN of a
// registration, which the resource graph needs. Pinned by the lock file; covered by test/plan.
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { compareCodePoints } from "../components/codePointOrder";
import { DEFAULT_MOCK_ACCOUNT, MockAccount, mockCall, mockResourceState } from "./mockState";

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SIG = {
    secret: "1b47061264138c4ac30d75fd1eb44270",
    asset: "c44067f5952c0a294b673a41bacd8c17",
    archive: "0def7320c3a5731c473e5ecbe6d01bc7",
    resource: "5cf8f73096256a8f31e491e813e4eb8e",
};

/** One registered resource, as the mock engine saw it. */
export interface CapturedResource {
    urn: string;
    type: string;
    name: string;
    /** URN of the parent resource, absent for resources at the root. */
    parent?: string;
    custom: boolean;
    /** Inputs as plain JSON: secrets are "[secret]", resource references their URN, archives a file list. */
    inputs: Record<string, any>;
    /** The state the mocks gave the resource (custom resources) or its registered outputs (components). */
    outputs: Record<string, any>;
}

export interface ProgramRun<T> {
    project: string;
    stack: string;
    resources: CapturedResource[];
    /** The program's return value with every Output resolved. */
    outputs: Record<string, any>;
    result: T;
    /** `__index.js` text of every Lambda code archive, keyed by the function's URN. */
    functionCode: Map<string, string>;
}

export interface RunOptions<T> {
    project: string;
    stack: string;
    /** Stack config, keyed `<namespace>:<key>`; structured values are JSON-encoded strings. */
    config?: Record<string, string>;
    secretKeys?: string[];
    /** Account and region of mock ARNs. The region follows `aws:region` in `config` when set. */
    account?: MockAccount;
    /**
     * Set `aws:region` to the mock account's region when `config` has none. Default true (ad-hoc
     * programs); false for real stacks, whose config must name its region.
     */
    defaultRegion?: boolean;
    program: () => T | Promise<T>;
}

/** Turns a serialized property value into plain JSON for the graph. */
function plain(value: any, archives?: { text?: string }[]): any {
    if (Array.isArray(value)) return value.map((v) => plain(v, archives));
    if (value === null || typeof value !== "object") return value;
    switch (value[SIG_KEY]) {
        case SIG.secret:
            return "[secret]";
        case SIG.resource:
            return value.urn;
        case SIG.asset:
            return value.text !== undefined ? { asset: "text", bytes: value.text.length } : { asset: value.path ?? value.uri };
        case SIG.archive: {
            if (!value.assets) return { archive: value.path ?? value.uri };
            const text = value.assets["__index.js"]?.text;
            if (archives && text !== undefined) archives.push({ text });
            return { archive: Object.keys(value.assets).sort(compareCodePoints) };
        }
    }
    const out: Record<string, any> = {};
    for (const key of Object.keys(value).sort(compareCodePoints)) out[key] = plain(value[key], archives);
    return out;
}

class RecordingMonitor extends MockMonitor {
    readonly records: CapturedResource[] = [];
    readonly functionCode = new Map<string, string>();

    override async registerResource(req: any, callback: (err: any, resp: any) => void): Promise<void> {
        const archives: { text?: string }[] = [];
        const inputs = plain(req.getObject()?.toJavaScript() ?? {}, archives);
        const record = {
            type: req.getType() as string,
            name: req.getName() as string,
            parent: (req.getParent() as string) || undefined,
            custom: req.getCustom() as boolean,
            inputs,
        };
        return super.registerResource(req, (err: any, resp: any) => {
            if (!err) {
                const urn = resp.getUrn() as string;
                this.records.push({ urn, ...record, outputs: {} });
                if (archives[0]?.text !== undefined) this.functionCode.set(urn, archives[0].text);
            }
            callback(err, resp);
        });
    }

    /** Final state of every resource: mock state for custom ones, registered outputs for components. */
    finish(): CapturedResource[] {
        const registered = this.getRegisteredResources();
        return this.records.map((r) => {
            const entry: any = registered.get(r.urn);
            let state = entry?.state ?? {};
            if (typeof state.toJavaScript === "function") state = state.toJavaScript();
            const outputs = plain(state);
            if (r.custom && entry?.id) outputs.id = entry.id;
            return { ...r, outputs };
        });
    }
}

let queue: Promise<unknown> = Promise.resolve();

/** The resources each failed run had registered when it failed, keyed by the error it threw. */
const registeredByFailure = new WeakMap<object, CapturedResource[]>();

/**
 * The resources a program run had registered when it failed (`error` is what runUnderMocks
 * rejected with), or undefined for an error that did not come from a run. Lets a test prove that
 * a program fails "before any resource is registered" by looking at the registrations themselves.
 */
export function registeredBeforeFailure(error: unknown): CapturedResource[] | undefined {
    return error !== null && typeof error === "object" ? registeredByFailure.get(error) : undefined;
}

/** `replacement` (an error rewritten from what a run rejected with) keeps the run's registrations. */
export function asRunFailure<T extends object>(original: unknown, replacement: T): T {
    const registered = registeredBeforeFailure(original);
    if (registered) registeredByFailure.set(replacement, registered);
    return replacement;
}

/** How long a failed run waits for registrations already in flight before reporting them. */
const FAILURE_SETTLE_MS = 5000;

/**
 * Runs a Pulumi program under the mock engine and returns the resource graph it registered.
 * Runs are serialized: the Pulumi runtime is process-global, so two programs must never overlap.
 * A closure that fails to serialize surfaces as an unhandled rejection: it is turned into an error here.
 */
export function runUnderMocks<T>(options: RunOptions<T>): Promise<ProgramRun<T>> {
    const run = queue.then(() => runOnce(options));
    queue = run.catch(() => undefined);
    return run;
}

async function runOnce<T>(options: RunOptions<T>): Promise<ProgramRun<T>> {
    const base = options.account ?? DEFAULT_MOCK_ACCOUNT;
    const account = { ...base, region: options.config?.["aws:region"] ?? base.region };
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    let monitor: RecordingMonitor | undefined;
    try {
        const mocks: pulumi.runtime.Mocks = {
            newResource: (args) => mockResourceState(args.type, args.name, args.inputs, account),
            call: (args) => mockCall(args.token, args.inputs, account),
        };
        await pulumi.runtime.setMocks(mocks, options.project, options.stack, false);
        monitor = new RecordingMonitor(mocks);
        settings.setMockOptions(monitor, options.project, options.stack, false);
        const regionDefault: Record<string, string> = options.defaultRegion === false ? {} : { "aws:region": account.region };
        pulumi.runtime.setAllConfig({ ...regionDefault, ...(options.config ?? {}) }, options.secretKeys);

        const result = await options.program();
        const outputs = await resolveDeep(result);
        await (settings as any).waitForRPCs();
        // Unhandled rejections are reported on a later tick than the failing promise.
        await new Promise((r) => setImmediate(r));
        if (rejections.length > 0) throw rejections[0];
        return {
            project: options.project,
            stack: options.stack,
            resources: monitor.finish(),
            outputs: outputs && typeof outputs === "object" ? (outputs as Record<string, any>) : {},
            result,
            functionCode: monitor.functionCode,
        };
    } catch (error) {
        if (monitor && error !== null && typeof error === "object") {
            // Registrations the program started before it threw finish asynchronously: let them land
            // (bounded: one waiting on an output that never resolves must not hang the failure).
            let timer: NodeJS.Timeout | undefined;
            const settled = (settings as any).waitForRPCs().catch(() => undefined);
            await Promise.race([settled, new Promise((r) => (timer = setTimeout(r, FAILURE_SETTLE_MS)))]);
            clearTimeout(timer);
            registeredByFailure.set(error, [...monitor.records]);
        }
        throw error;
    } finally {
        process.off("unhandledRejection", onRejection);
    }
}

/** Resolves every Output in a value; resources become their URNs. */
async function resolveDeep(value: unknown): Promise<unknown> {
    if (value === null || value === undefined) return value;
    if (pulumi.Resource.isInstance(value)) return resolveDeep((value as pulumi.Resource).urn);
    if (pulumi.Output.isInstance(value)) {
        const inner = await new Promise((resolve) => (value as pulumi.Output<unknown>).apply((v) => resolve(v)));
        return resolveDeep(inner);
    }
    if (value instanceof Promise) return resolveDeep(await value);
    if (Array.isArray(value)) return Promise.all(value.map(resolveDeep));
    if (typeof value === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = await resolveDeep(v);
        return out;
    }
    return value;
}
