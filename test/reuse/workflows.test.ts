import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { availableStacks } from "../../plan/stackFiles";
import { manifest, ROOT, tempDir } from "./packaging";

const WORKFLOWS = path.join(ROOT, ".github/workflows");
const load = (file: string): any => parse(fs.readFileSync(path.join(WORKFLOWS, file), "utf8"));
const steps = (job: any): any[] => job.steps ?? [];
const using = (job: any, action: string): any[] => steps(job).filter((s) => typeof s.uses === "string" && s.uses.split("@")[0] === action);
const runs = (job: any): string => steps(job).map((s) => s.run ?? "").join("\n");
/** Stacks that are deployed to AWS (the `local` stack targets LocalStack on a developer's machine). */
const deployedStacks = () => availableStacks().filter((s) => s !== "local");

describe("GitHub Actions workflows (.github/workflows)", () => {
    const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));

    it("are pr.yml and deploy.yml, and parse as YAML with jobs", () => {
        expect(files.sort()).to.deep.equal(["deploy.yml", "pr.yml"]);
        for (const f of files) expect(Object.keys(load(f).jobs ?? {}), f).to.not.be.empty;
    });

    it("pin every action to a released version (vN, vN.N.N or a commit SHA), never a branch", () => {
        const unpinned = files.flatMap((f) =>
            Object.values<any>(load(f).jobs).flatMap((job) =>
                steps(job)
                    .map((s) => s.uses)
                    .filter((u): u is string => typeof u === "string")
                    .filter((u) => !/^[\w.-]+\/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/.test(u))
                    .map((u) => `${f}: ${u}`),
            ),
        );
        expect(unpinned).to.deep.equal([]);
    });

    it("pin the Pulumi CLI of every pulumi/actions step to the release of the SDK package-lock.json installs", () => {
        const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
        const sdk = lock.packages["node_modules/@pulumi/pulumi"].version;
        const pins = files.flatMap((f) => Object.values<any>(load(f).jobs).flatMap((job) => using(job, "pulumi/actions").map((s) => `${f}: ${s.with?.["pulumi-version"]}`)));
        expect(pins).to.have.length(3);
        expect(pins.filter((p) => !p.endsWith(`: ${sdk}`))).to.deep.equal([]);
    });

    it("run the checks on Node 20 (the oldest engines allows) and 22 (the Lambda runtime, nodejs22.x)", () => {
        for (const f of files) {
            const checks = load(f).jobs.checks;
            expect(checks.strategy?.matrix?.node, f).to.deep.equal([20, 22]);
            expect(checks.strategy["fail-fast"], f).to.equal(false);
            expect(using(checks, "actions/setup-node")[0].with["node-version"], f).to.equal("${{ matrix.node }}");
        }
        expect(manifest().engines.node).to.match(/^>=20\.\d+ <23$/);
    });

    it("give each Node version's artifacts their own name (two uploads of one name fail)", () => {
        for (const f of files) {
            for (const upload of using(load(f).jobs.checks, "actions/upload-artifact")) expect(upload.with.name, f).to.include("${{ matrix.node }}");
        }
    });

    it("use the current major of the official Pulumi action", () => {
        const versions = files.flatMap((f) => Object.values<any>(load(f).jobs).flatMap((job) => using(job, "pulumi/actions").map((s) => s.uses)));
        expect(versions).to.not.be.empty;
        expect([...new Set(versions)]).to.deep.equal(["pulumi/actions@v7"]);
    });

    describe("pr.yml", () => {
        const pr = () => load("pr.yml");

        it("runs on pull requests with read-only repository access by default", () => {
            expect(pr().on).to.have.property("pull_request");
            expect(pr().permissions).to.deep.equal({ contents: "read" });
        });

        it("checks with npm ci, lint, typecheck, npm test and the offline plan", () => {
            const commands = runs(pr().jobs.checks);
            for (const command of ["npm ci", "eslint", "npm run typecheck", "npm test", "npm run -s plan -- --stack"]) expect(commands).to.include(command);
        });

        it("keeps the checks job free of credentials, so pull requests from forks get it too", () => {
            const checks = pr().jobs.checks;
            expect(checks.permissions).to.deep.equal({ contents: "read" });
            expect(JSON.stringify(checks)).to.not.match(/secrets\.|id-token|configure-aws-credentials/);
            expect(checks.if).to.equal(undefined);
        });

        it("previews every deployed stack after the checks, only when the pull request comes from this repository", () => {
            const preview = pr().jobs.preview;
            expect(preview.needs).to.equal("checks");
            expect(preview.if).to.include("github.event.pull_request.head.repo.full_name == github.repository");
            expect([...preview.strategy.matrix.stack].sort()).to.deep.equal(deployedStacks());
        });

        it("grants the preview job exactly OIDC, PR comments and read access", () => {
            expect(pr().jobs.preview.permissions).to.deep.equal({ "id-token": "write", "pull-requests": "write", contents: "read" });
        });

        it("gets AWS credentials from an OIDC role, never from access keys", () => {
            const [aws] = using(pr().jobs.preview, "aws-actions/configure-aws-credentials");
            expect(aws.with).to.have.property("role-to-assume");
            expect(aws.with).to.not.have.any.keys("aws-access-key-id", "aws-secret-access-key");
        });

        it("runs pulumi preview per stack with the policy pack and comments the diff on the pull request", () => {
            const job = pr().jobs.preview;
            const [pulumi] = using(job, "pulumi/actions");
            expect(pulumi.with).to.include({ command: "preview", "comment-on-pr": true, policyPacks: "policy/pack" });
            expect(pulumi.with["stack-name"]).to.include("matrix.stack");
            expect(pulumi.env.PULUMI_ACCESS_TOKEN).to.equal("${{ secrets.PULUMI_ACCESS_TOKEN }}");
            const order = steps(job).map((s) => s.uses?.split("@")[0] ?? s.run);
            expect(order.indexOf("aws-actions/configure-aws-credentials")).to.be.lessThan(order.indexOf("pulumi/actions"));
            expect(order.indexOf("npm ci --no-audit --no-fund")).to.be.lessThan(order.indexOf("pulumi/actions"));
        });

        it("names a policy pack folder that exists", () => {
            expect(fs.existsSync(path.join(ROOT, "policy/pack/PulumiPolicy.yaml"))).to.equal(true);
        });

        describe("the offline plan step, run with a stand-in npm", () => {
            const script = () => steps(pr().jobs.checks).find((s) => /offline plan/i.test(s.name ?? "")).run as string;
            const runScript = (failStack?: string) => {
                const tmp = tempDir("bellyfed-workflow-");
                try {
                    const log = path.join(tmp.dir, "npm.log");
                    fs.mkdirSync(path.join(tmp.dir, "bin"));
                    const fake = `#!/usr/bin/env bash\necho "$*" >> "${log}"\n[[ -n "$FAIL_STACK" && "$*" == *"--stack $FAIL_STACK"* ]] && exit 1\nexit 0\n`;
                    fs.writeFileSync(path.join(tmp.dir, "bin/npm"), fake, { mode: 0o755 });
                    const env = { ...process.env, PATH: `${path.join(tmp.dir, "bin")}:${process.env.PATH}`, PLAN_DIR: path.join(tmp.dir, "plans"), FAIL_STACK: failStack ?? "" };
                    const result = spawnSync("bash", ["-c", script()], { cwd: ROOT, env, encoding: "utf8" });
                    return { status: result.status, calls: fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [] };
                } finally {
                    tmp.remove();
                }
            };

            it("plans every stack that has a Pulumi.<stack>.yaml, as JSON too", () => {
                const { status, calls } = runScript();
                expect(status).to.equal(0);
                for (const stack of availableStacks()) expect(calls).to.include(`run -s plan -- --stack ${stack} --json`);
            });

            it("fails when one stack has violations, after planning the others", () => {
                const [first, ...rest] = availableStacks();
                const { status, calls } = runScript(first);
                expect(status).to.equal(1);
                for (const stack of rest) expect(calls).to.include(`run -s plan -- --stack ${stack} --json`);
            });
        });
    });

    describe("deploy.yml", () => {
        const deploy = () => load("deploy.yml");

        it("runs on pushes to main only, one deployment at a time, never cancelled mid-way", () => {
            expect(deploy().on).to.deep.equal({ push: { branches: ["main"] } });
            expect(deploy().concurrency).to.deep.equal({ group: "deploy", "cancel-in-progress": false });
        });

        it("updates dev after the checks, then prod after dev", () => {
            const jobs = deploy().jobs;
            expect(jobs["up-dev"].needs).to.equal("checks");
            expect(jobs["up-prod"].needs).to.equal("up-dev");
            expect(runs(jobs.checks)).to.include("npm test");
        });

        it("deploys prod only through the protected production environment", () => {
            expect(deploy().jobs["up-prod"].environment).to.equal("production");
        });

        it("runs pulumi up on the right stack with the policy pack, with OIDC credentials", () => {
            for (const [job, stack] of [["up-dev", "dev"], ["up-prod", "prod"]]) {
                const j = deploy().jobs[job];
                const [pulumi] = using(j, "pulumi/actions");
                expect(pulumi.with, job).to.include({ command: "up", policyPacks: "policy/pack" });
                expect(pulumi.with["stack-name"], job).to.include(`'${stack}'`);
                expect(j.permissions, job).to.deep.equal({ "id-token": "write", contents: "read" });
                expect(using(j, "aws-actions/configure-aws-credentials")[0].with, job).to.have.property("role-to-assume");
            }
        });
    });
});
