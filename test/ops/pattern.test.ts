import { TestEventPatternCommand } from "@aws-sdk/client-eventbridge";
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { OpsHarness } from "./support";

const PATTERN = JSON.stringify({ source: ["bellyfed.restaurants"], "detail-type": ["RestaurantViewed"], detail: { restaurantId: [{ prefix: "r-" }] } });
const event = (restaurantId: string) => JSON.stringify({ source: "bellyfed.restaurants", "detail-type": "RestaurantViewed", detail: { restaurantId } });

describe("ops pattern test", () => {
    let h: OpsHarness;
    beforeEach(() => {
        h = new OpsHarness();
    });

    it("exits 0 on a match, offline and without a stack", async () => {
        const r = await h.run(["pattern", "test", "--pattern", PATTERN, "--event", event("r-1")]);
        expect(r.code).to.equal(0);
        expect(r.stdout).to.include("MATCH: the event matches the pattern");
        expect(h.ebMock.calls()).to.have.length(0);
    });

    it("exits 1 on no match and names the field that failed and why", async () => {
        const r = await h.run(["pattern", "test", "--pattern", PATTERN, "--event", event("x-1"), "--json"]);
        expect(r.code).to.equal(1);
        expect(r.json().failures).to.have.length(1);
        expect(r.json().failures[0].path).to.equal("detail.restaurantId");
        expect(r.json().failures[0].reason).to.include("x-1");
    });

    it("rejects a malformed pattern naming the field (exit 2)", async () => {
        const r = await h.run(["pattern", "test", "--pattern", '{"detail":{"price":[{"numeric":[">","ten"]}]}}', "--event", event("r-1")]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.match(/--pattern is not a valid EventBridge pattern: detail\.price: /);
    });

    it("rejects malformed JSON naming the flag (exit 2)", async () => {
        const r = await h.run(["pattern", "test", "--pattern", PATTERN, "--event", "{nope"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("--event: malformed JSON");
    });

    it("reads --pattern and --event from @files", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ops-pattern-"));
        fs.writeFileSync(path.join(dir, "p.json"), PATTERN);
        fs.writeFileSync(path.join(dir, "e.json"), event("r-9"));
        const r = await h.run(["pattern", "test", "--pattern", "@p.json", "--event", "@e.json"], { cwd: dir });
        expect(r.code).to.equal(0);
    });

    it("names a missing @file (exit 2)", async () => {
        const r = await h.run(["pattern", "test", "--pattern", "@/nonexistent/p.json", "--event", event("r-1")]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("--pattern @/nonexistent/p.json: cannot read the file");
    });

    it("fills the envelope fields EventBridge adds, so patterns on account or region work", async () => {
        const r = await h.run(["pattern", "test", "--pattern", '{"account":["123456789012"]}', "--event", event("r-1"), "--json"]);
        expect(r.json()).to.include({ matched: true });
        expect(r.json().filledEnvelopeFields).to.deep.equal(["version", "id", "account", "time", "region", "resources"]);
    });

    it("with --aws also asks TestEventPattern, sending the full envelope, and exits 0 when both agree", async () => {
        h.ebMock.on(TestEventPatternCommand).resolves({ Result: true });
        const r = await h.run(["pattern", "test", "--pattern", PATTERN, "--event", event("r-1"), "--aws", "--json"]);
        expect(r.code).to.equal(0);
        expect(r.json()).to.include({ matched: true, aws: true, disagreement: false });
        const sent = JSON.parse(h.ebMock.commandCalls(TestEventPatternCommand)[0].args[0].input.Event!);
        expect(Object.keys(sent)).to.include.members(["id", "account", "source", "time", "region", "resources", "detail-type"]);
    });

    it("reports a disagreement with EventBridge and exits 1", async () => {
        h.ebMock.on(TestEventPatternCommand).resolves({ Result: false });
        const r = await h.run(["pattern", "test", "--pattern", PATTERN, "--event", event("r-1"), "--aws"]);
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("DISAGREEMENT: the local matcher says match, EventBridge says no match");
    });
});
