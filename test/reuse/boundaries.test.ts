import { expect } from "chai";
import * as fs from "fs";
import { builtinModules } from "module";
import * as path from "path";
import { manifest, ROOT } from "./packaging";

/** The source folders the package is built from (tsconfig.build.json `include`). */
const LIBRARY_DIRS: string[] = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.build.json"), "utf8")).include;

function sourceFiles(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) return sourceFiles(full);
        return /\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts") ? [full] : [];
    });
}

/** Module specifiers of static imports, re-exports, `import("…")` and `require("…")`. */
function importsOf(source: string): string[] {
    const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    const found = new Set<string>();
    const patterns = [/\b(?:import|export)\s[^'"`;]*?\bfrom\s*["']([^"']+)["']/g, /\bimport\s*["']([^"']+)["']/g, /\b(?:require|import)\s*\(\s*["']([^"']+)["']\s*\)/g];
    for (const re of patterns) for (const m of withoutComments.matchAll(re)) found.add(m[1]);
    return [...found];
}

/** The package a bare specifier names: `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
const packageOf = (spec: string) => spec.split("/").slice(0, spec.startsWith("@") ? 2 : 1).join("/");

describe("library boundaries (what `import \"@bellyfed/platform\"` pulls in)", () => {
    const files = LIBRARY_DIRS.flatMap((d) => sourceFiles(path.join(ROOT, d)));
    const rel = (f: string) => path.relative(ROOT, f);

    it("finds the library sources to check", () => {
        expect(files.map(rel)).to.include("components/index.ts");
    });

    it("reads every kind of import statement", () => {
        const src = `import * as a from "a";\nimport { b } from "../stacks/b";\nexport * from "./c";\nimport "d";\nconst e = require("e");\nconst f = await import("f");\n// import x from "commented-out";`;
        expect(importsOf(src).sort()).to.deep.equal(["../stacks/b", "./c", "a", "d", "e", "f"]);
    });

    it("never imports the repository's stacks, handlers, config or tooling: relative imports stay inside the library folders", () => {
        const inside = (target: string) => LIBRARY_DIRS.some((d) => !path.relative(path.join(ROOT, d), target).startsWith(".."));
        const escapes = files.flatMap((f) =>
            importsOf(fs.readFileSync(f, "utf8"))
                .filter((s) => s.startsWith("."))
                .filter((s) => !inside(path.resolve(path.dirname(f), s)))
                .map((s) => `${rel(f)} imports ${s}`),
        );
        expect(escapes).to.deep.equal([]);
    });

    it("imports only Node built-ins and packages a consumer gets installed (peer or runtime dependencies)", () => {
        const pkg = manifest();
        const installed = new Set([...Object.keys(pkg.peerDependencies ?? {}), ...Object.keys(pkg.dependencies ?? {})]);
        const builtin = (s: string) => s.startsWith("node:") || builtinModules.includes(packageOf(s));
        const missing = files.flatMap((f) =>
            importsOf(fs.readFileSync(f, "utf8"))
                .filter((s) => !s.startsWith(".") && !builtin(s) && !installed.has(packageOf(s)))
                .map((s) => `${rel(f)} imports ${s}`),
        );
        expect(missing).to.deep.equal([]);
    });

    it("builds exactly the folders the exports map publishes", () => {
        const published = new Set(
            Object.values<any>(manifest().exports)
                .map((t) => (typeof t === "string" ? t : t.default))
                .filter((t: string) => t.startsWith("./dist/"))
                .map((t: string) => t.split("/")[2]),
        );
        expect([...published].sort()).to.deep.equal([...LIBRARY_DIRS].sort());
    });
});
