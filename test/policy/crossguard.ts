import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { unknownCheckingProxy } from "@pulumi/policy";
import { compareCodePoints } from "../../components/codePointOrder";
import { CapturedResource } from "../../plan/engine";
import { Violation } from "../../policy/rules";
import { CrossGuardResourceView, policies } from "../../policy/pack/policies";

const grpc = require("@grpc/grpc-js");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
const analyzer = require("@pulumi/pulumi/proto/analyzer_pb");
const analyzerRpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");

const ROOT = path.resolve(__dirname, "../..");
export const PACK_DIR = path.join(ROOT, "policy/pack");

/** Orders violations so two reports compare as sets. */
export const sorted = (vs: Violation[]): Violation[] =>
    [...vs].sort((a, b) => compareCodePoints(`${a.policy}\n${a.urn}\n${a.message}`, `${b.policy}\n${b.urn}\n${b.message}`));

/**
 * The resources as CrossGuard's stack validation hands them over: `props` is the resource's state
 * (its outputs) and `parent` is the parent resource itself, not its URN.
 */
export function crossGuardView(resources: CapturedResource[]): CrossGuardResourceView[] {
    const byUrn = new Map<string, CrossGuardResourceView>();
    const views = resources.map((r) => {
        const view: CrossGuardResourceView = { urn: r.urn, type: r.type, name: r.name, props: r.outputs };
        byUrn.set(r.urn, view);
        return view;
    });
    resources.forEach((r, i) => {
        if (r.parent && byUrn.has(r.parent)) views[i].parent = byUrn.get(r.parent);
    });
    return views;
}

/** The wire sentinel CrossGuard puts where a preview does not know a string yet. */
export const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * The resources as CrossGuard sees them in the first preview of a stack, before anything exists:
 * `props` is the inputs, and every value that holds an ARN, id or URL that the provider assigns at
 * creation (another resource's mocked `arn`, `id` or `url` output) is unknown. Names are known:
 * autonaming happens in the provider's check, so a preview sees the checked inputs with the name.
 */
export function firstPreviewView(resources: CapturedResource[]): { views: CrossGuardResourceView[]; unknownCount: number } {
    const assigned = [...new Set(resources.flatMap((r) => (r.custom ? [r.outputs.arn, r.outputs.id, r.outputs.url] : [])).filter((v) => typeof v === "string" && v.length >= 8))];
    let unknownCount = 0;
    const hide = (value: unknown): unknown => {
        if (typeof value === "string") {
            if (!assigned.some((a) => value.includes(a))) return value;
            unknownCount++;
            return UNKNOWN_STRING;
        }
        if (Array.isArray(value)) return value.map(hide);
        if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hide(v)]));
        return value;
    };
    const checkedInputs = (r: CapturedResource) => (r.custom && r.outputs.name !== undefined ? { ...r.inputs, name: r.outputs.name } : r.inputs);
    const views = crossGuardView(resources).map((view, i) => ({ ...view, props: unknownCheckingProxy(hide(checkedInputs(resources[i]))) }));
    // The parent links must point at the new views.
    const byUrn = new Map(views.map((v) => [v.urn, v]));
    for (const v of views) if (v.parent) v.parent = byUrn.get(v.parent.urn);
    return { views, unknownCount };
}

/** What the pack's policies report, called in process (no gRPC server). */
export async function packViolations(resources: CrossGuardResourceView[]): Promise<Violation[]> {
    const found: Violation[] = [];
    for (const policy of policies) {
        const report = (message: string, urn?: string) => found.push({ policy: policy.name, urn: urn ?? "", message });
        await policy.validateStack({ resources } as any, report);
    }
    return found;
}

/** The policy pack, started the way the Pulumi CLI starts it: its gRPC server on a local port. */
export class RunningPack {
    private constructor(
        private readonly proc: ChildProcess,
        private readonly client: any,
    ) {}

    static start(): Promise<RunningPack> {
        const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");
        // The CLI passes the engine address first and the pack directory second, from the pack's directory.
        const proc = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: PACK_DIR, stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        proc.stderr!.on("data", (d) => (stderr += d));
        return new Promise((resolve, reject) => {
            let stdout = "";
            proc.stdout!.on("data", (d) => {
                stdout += d;
                const port = /^(\d+)\s*$/m.exec(stdout)?.[1];
                if (port) resolve(new RunningPack(proc, new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure())));
            });
            proc.on("exit", (code) => reject(new Error(`policy pack exited with ${code} before serving:\n${stderr}`)));
        });
    }

    /** Policy names and enforcement levels the pack announces (GetAnalyzerInfo). */
    info(): Promise<{ name: string; policies: { name: string; enforcementLevel: number }[] }> {
        return new Promise((resolve, reject) =>
            this.client.getAnalyzerInfo(new (require("google-protobuf/google/protobuf/empty_pb").Empty)(), (err: Error | null, resp: any) =>
                err
                    ? reject(err)
                    : resolve({
                          name: resp.getName(),
                          policies: resp.getPoliciesList().map((p: any) => ({ name: p.getName(), enforcementLevel: p.getEnforcementlevel() })),
                      }),
            ),
        );
    }

    /** AnalyzeStack over the wire, as the engine calls it at the end of a preview or update. */
    analyzeStack(resources: CrossGuardResourceView[]): Promise<Violation[]> {
        const request = new analyzer.AnalyzeStackRequest();
        request.setResourcesList(
            resources.map((r) => {
                const resource = new analyzer.AnalyzerResource();
                resource.setType(r.type);
                resource.setUrn(r.urn);
                resource.setName(r.name);
                resource.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(r.props))));
                if (r.parent) resource.setParent(r.parent.urn);
                const options = new analyzer.AnalyzerResourceOptions();
                if (r.parent) options.setParent(r.parent.urn);
                resource.setOptions(options);
                return resource;
            }),
        );
        return new Promise((resolve, reject) =>
            this.client.analyzeStack(request, (err: Error | null, resp: any) =>
                err
                    ? reject(err)
                    : resolve(
                          // The wire message is "<policy description>\n<reported message>"; the CLI prints both.
                          resp.getDiagnosticsList().map((d: any) => {
                              const [message, prefix] = [String(d.getMessage()), `${d.getDescription()}\n`];
                              return { policy: d.getPolicyname(), urn: d.getUrn(), message: message.startsWith(prefix) ? message.slice(prefix.length) : message };
                          }),
                      ),
            ),
        );
    }

    stop(): void {
        this.client.close();
        this.proc.kill();
    }
}
