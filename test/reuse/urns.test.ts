import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { CapturedResource } from "../../plan/engine";
import { stackGraph } from "../support/graph";

/**
 * URN stability. A resource's URN (stack, project, parent types, type, logical name) is its
 * identity in the state: a changed URN makes the next `pulumi up` delete the old resource and create
 * a new one (a new table, a new queue: data gone). This test compares the URNs of the deployed
 * stacks with a committed snapshot, so a rename cannot slip through unnoticed. When a change is
 * intended, either keep the old identity with an alias (README: "URN stability"), or accept the
 * replacement, then refresh the snapshot:
 *
 *   UPDATE_SNAPSHOTS=1 npx mocha test/reuse/urns.test.ts
 */
const SNAPSHOT = path.join(__dirname, "urns.snapshot.json");
const STACKS = ["dev", "prod"];
const UPDATE = "UPDATE_SNAPSHOTS=1 npx mocha test/reuse/urns.test.ts";

/**
 * The URN the Pulumi engine gives a resource: its type qualified by the types of all its ancestors
 * (`bellyfed:api:QueryApi$bellyfed:compute:ServerlessFunction$aws:lambda/function:Function`). The
 * mock monitor only puts the direct parent's type in, so the chain is rebuilt from the parents.
 */
export function engineUrn(resource: CapturedResource, byUrn: Map<string, CapturedResource>, project: string, stack: string): string {
    const types = [resource.type];
    for (let p = resource.parent && byUrn.get(resource.parent); p; p = p.parent ? byUrn.get(p.parent) : undefined) {
        if (p.type !== "pulumi:pulumi:Stack") types.unshift(p.type);
    }
    return `urn:pulumi:${stack}::${project}::${types.join("$")}::${resource.name}`;
}

async function currentUrns(stack: string): Promise<string[]> {
    const { run } = await stackGraph(stack);
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    return run.resources.map((r) => engineUrn(r, byUrn, run.project, stack)).sort();
}

describe("URN stability (test/reuse/urns.snapshot.json)", function () {
    this.timeout(60000);

    it("qualifies a URN with every ancestor's type, as the engine does", () => {
        const api = { urn: "u1", type: "bellyfed:api:QueryApi", name: "api", custom: false, inputs: {}, outputs: {} };
        const fn = { urn: "u2", type: "bellyfed:compute:ServerlessFunction", name: "api-get", parent: "u1", custom: false, inputs: {}, outputs: {} };
        const lambda = { urn: "u3", type: "aws:lambda/function:Function", name: "api-get-fn", parent: "u2", custom: true, inputs: {}, outputs: {} };
        const byUrn = new Map([api, fn, lambda].map((r) => [r.urn, r]));
        expect(engineUrn(lambda, byUrn, "bellyfed", "dev")).to.equal(
            "urn:pulumi:dev::bellyfed::bellyfed:api:QueryApi$bellyfed:compute:ServerlessFunction$aws:lambda/function:Function::api-get-fn",
        );
    });

    if (process.env.UPDATE_SNAPSHOTS) {
        it("rewrites the snapshot (UPDATE_SNAPSHOTS is set)", async () => {
            const snapshot: Record<string, string[]> = {};
            for (const stack of STACKS) snapshot[stack] = await currentUrns(stack);
            fs.writeFileSync(SNAPSHOT, JSON.stringify(snapshot, null, 2) + "\n");
        });
        return;
    }

    for (const stack of STACKS) {
        it(`keeps every URN of the ${stack} stack (no resource renamed, moved or retyped without review)`, async () => {
            const expected: string[] = JSON.parse(fs.readFileSync(SNAPSHOT, "utf8"))[stack] ?? [];
            const current = await currentUrns(stack);
            const gone = expected.filter((u) => !current.includes(u));
            const added = current.filter((u) => !expected.includes(u));
            const message =
                `URNs of the ${stack} stack changed.\n` +
                `Gone (the next \`pulumi up\` would DELETE these unless an alias keeps them):\n  ${gone.join("\n  ") || "-"}\n` +
                `New:\n  ${added.join("\n  ") || "-"}\n` +
                `If intended, add aliases for renamed resources, then run: ${UPDATE}`;
            expect({ gone, added }, message).to.deep.equal({ gone: [], added: [] });
        });
    }
});
