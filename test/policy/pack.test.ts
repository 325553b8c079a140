import { expect } from "chai";
import { ProgramRun, runUnderMocks } from "../../plan/engine";
import { planDocument } from "../../plan/plan";
import { policies } from "../../policy/pack/policies";
import { availableStacks } from "../../plan/stackFiles";
import { POLICY_RULES } from "../../policy/rules";
import { stackGraph } from "../support/graph";
import { brokenProgram } from "./fixtures/brokenProgram";
import { crossGuardView, firstPreviewView, packViolations, RunningPack, sorted } from "./crossguard";

describe("CrossGuard policy pack (policy/pack)", function () {
    this.timeout(60000);
    let broken: ProgramRun<void>;

    before(async () => {
        broken = await runUnderMocks({ project: "bellyfed-test", stack: "broken", program: brokenProgram });
    });

    it("holds one policy per rule of policy/rules.ts, mandatory, in the same order", () => {
        expect(policies.map((p) => [p.name, p.description, p.enforcementLevel])).to.deep.equal(
            POLICY_RULES.map((r) => [r.name, r.description, "mandatory"]),
        );
    });

    it("reports exactly the offline plan's violations on the broken fixture program", async () => {
        const plan = planDocument(broken).violations;
        const pack = await packViolations(crossGuardView(broken.resources));
        expect(sorted(pack)).to.deep.equal(sorted(plan));
    });

    it("finds a violation of every rule in the broken fixture program (the comparison is not vacuous)", () => {
        const found = new Set(planDocument(broken).violations.map((v) => v.policy));
        const message = "every rule needs a resource in test/policy/fixtures/brokenProgram.ts that breaks it";
        expect([...found].sort(), message).to.deep.equal(POLICY_RULES.map((r) => r.name).sort());
    });

    it("reports each case the fixture plants against its resource, in the plan and the pack alike", async () => {
        const planted = [
            "broken-exclusive no-fullaccess-managed-policies",
            "broken-wildcard no-wildcard-permissions",
            "broken-open-queue-policy scoped-service-principals",
            "broken-public-invoke scoped-lambda-permissions",
            "broken-managed-key-queue encryption-at-rest",
            "broken-managed-key-topic encryption-at-rest",
        ];
        const found = (vs: { policy: string; urn: string }[]) => new Set(vs.map((v) => `${v.urn.split("::").pop()} ${v.policy}`));
        const plan = found(planDocument(broken).violations);
        const pack = found(await packViolations(crossGuardView(broken.resources)));
        expect(planted.filter((p) => !plan.has(p)), "missed by the plan").to.deep.equal([]);
        expect(planted.filter((p) => !pack.has(p)), "missed by the pack").to.deep.equal([]);
    });

    it("reports nothing on any stack (dev, prod, local), like the offline plan", async () => {
        for (const stack of availableStacks()) {
            const { run } = await stackGraph(stack);
            expect(await packViolations(crossGuardView(run.resources)), stack).to.deep.equal([]);
            expect(planDocument(run).violations, stack).to.deep.equal([]);
        }
    });

    it("reports nothing on the first preview of any stack, when ARNs, ids and URLs are not known yet", async () => {
        for (const stack of availableStacks()) {
            const { run } = await stackGraph(stack);
            const { views, unknownCount } = firstPreviewView(run.resources);
            expect(unknownCount, `${stack}: the preview view hides the assigned values`).to.be.greaterThan(50);
            expect(await packViolations(views), stack).to.deep.equal([]);
        }
    });

    it("still reports a violation that does not depend on an unknown value in a preview", async () => {
        const { views } = firstPreviewView(broken.resources);
        const found = new Set((await packViolations(views)).map((v) => v.policy));
        expect([...found]).to.include.members(["no-fullaccess-managed-policies", "encryption-at-rest", "processed-queue-dlq-alarm"]);
    });

    describe("served over gRPC, as `pulumi preview --policy-pack policy/pack` runs it", () => {
        let pack: RunningPack;
        before(async () => {
            pack = await RunningPack.start();
        });
        after(() => pack?.stop());

        it("announces the pack as bellyfed with every rule, mandatory", async () => {
            const info = await pack.info();
            expect(info.name).to.equal("bellyfed");
            // EnforcementLevel enum of the analyzer protocol: 1 = MANDATORY.
            expect(info.policies).to.deep.equal(POLICY_RULES.map((r) => ({ name: r.name, enforcementLevel: 1 })));
        });

        it("reports exactly the offline plan's violations on the broken fixture program", async () => {
            const reported = await pack.analyzeStack(crossGuardView(broken.resources));
            expect(sorted(reported)).to.deep.equal(sorted(planDocument(broken).violations));
        });
    });
});
