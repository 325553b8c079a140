import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";

const exec = promisify(execFile);
export const ROOT = path.resolve(__dirname, "../..");
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

/** The package manifest as committed. */
export function manifest(): Record<string, any> {
    return JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
}

/** Every file the manifest points consumers at (main, types, exports, typesVersions), package-relative. */
export function entryPointFiles(pkg = manifest()): string[] {
    const targets: string[] = [pkg.main, pkg.types];
    const walk = (v: unknown): void => {
        if (typeof v === "string") targets.push(v);
        else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    walk(pkg.exports);
    walk(pkg.typesVersions);
    return [...new Set(targets.filter(Boolean).map((t) => path.posix.normalize(t).replace(/^\.\//, "")))].sort();
}

export interface PackResult {
    /** Absolute path of the tarball. */
    tarball: string;
    /** Files in the tarball, package-relative, from `npm pack --json`. */
    files: string[];
}

/** The repository's source files tsconfig.build.json compiles (the library, and the ops CLI with what it imports), repository-relative. */
export async function buildSources(): Promise<string[]> {
    const { stdout } = await exec(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json", "--listFilesOnly"], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    return stdout
        .split("\n")
        .map((f) => f.trim())
        .filter((f) => f && !f.includes("node_modules") && !f.endsWith(".d.ts"))
        .map((f) => path.relative(ROOT, f).split(path.sep).join("/"))
        .sort();
}

/**
 * Packs the package the way `npm publish` would, without touching the repository's dist/: the
 * manifest, README, bin files and every source tsconfig.build.json compiles (buildSources) are copied
 * into a staging folder (node_modules linked), and `npm pack` runs there, so its `prepack` script
 * does the build.
 */
export async function packLibrary(workDir: string): Promise<PackResult> {
    const staging = path.join(workDir, "staging");
    fs.mkdirSync(staging, { recursive: true });
    const bin = manifest().bin;
    const binFiles: string[] = typeof bin === "string" ? [bin] : Object.values(bin ?? {});
    const copied = ["package.json", "README.md", "LICENSE", "tsconfig.json", "tsconfig.build.json", ...(await buildSources()), ...binFiles];
    for (const entry of copied) {
        const from = path.join(ROOT, entry);
        if (!fs.existsSync(from)) continue;
        fs.mkdirSync(path.dirname(path.join(staging, entry)), { recursive: true });
        fs.cpSync(from, path.join(staging, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(staging, "node_modules"), "junction");
    const { stdout } = await exec(NPM, ["pack", "--json", "--pack-destination", workDir], { cwd: staging });
    const [result] = JSON.parse(stdout);
    return { tarball: path.join(workDir, result.filename), files: result.files.map((f: { path: string }) => f.path).sort() };
}

/** The version of a package installed in the repository's node_modules. */
export function installedVersion(name: string): string {
    return JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
}

/**
 * A fresh project outside the repository, set up the way a consumer would: one `npm install` of the
 * tarball, the peers @pulumi/pulumi and @pulumi/aws (at the versions the repository develops with,
 * which satisfy the peer ranges and come from the npm cache) and the consumer's own `dependencies`.
 * Nothing in node_modules is touched afterwards, so npm's hidden lockfile
 * (node_modules/.package-lock.json), which Pulumi reads to decide what to upload into functions, is
 * exactly what a consumer gets.
 */
export async function installIntoFreshProject(workDir: string, tarball: string, dependencies: string[] = []): Promise<string> {
    const project = path.join(workDir, "consumer");
    fs.mkdirSync(project, { recursive: true });
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "bellyfed-consumer", version: "1.0.0", private: true }, null, 2));
    const peers = Object.keys(manifest().peerDependencies ?? {}).map((peer) => `${peer}@${installedVersion(peer)}`);
    await exec(NPM, ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball, ...peers, ...dependencies], { cwd: project, maxBuffer: 16 * 1024 * 1024 });
    return project;
}

/** A temporary folder outside the repository, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the installed `bellyfed-ops` bin (node_modules/.bin) in `cwd`; never rejects: resolves the exit code and both streams. */
export async function runBin(project: string, args: string[], cwd = project, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const bin = path.join(project, "node_modules", ".bin", "bellyfed-ops");
    try {
        const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { cwd, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 });
        return { code: 0, stdout, stderr };
    } catch (e: any) {
        return { code: typeof e.code === "number" ? e.code : 1, stdout: String(e.stdout ?? ""), stderr: String(e.stderr ?? e.message) };
    }
}

/** Runs a file with node from a directory; resolves stdout, rejects with stderr. */
export async function runNode(cwd: string, file: string): Promise<string> {
    const { stdout } = await exec(process.execPath, [file], { cwd, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
}

/**
 * Type-checks a TypeScript file in the consumer project with the given module resolution; resolves
 * to tsc's diagnostics ("" when clean).
 */
export async function typecheck(project: string, file: string, moduleResolution: "node" | "node16"): Promise<string> {
    const config = path.join(project, `tsconfig.${moduleResolution}.json`);
    const compilerOptions = { strict: true, noEmit: true, target: "ES2022", module: moduleResolution === "node" ? "commonjs" : "node16", moduleResolution, skipLibCheck: true, types: [] };
    fs.writeFileSync(config, JSON.stringify({ compilerOptions, files: [file] }));
    try {
        await exec(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", config], { cwd: project });
        return "";
    } catch (e: any) {
        return String(e.stdout || e.message);
    }
}
