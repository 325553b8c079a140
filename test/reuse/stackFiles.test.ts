import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { planDocument } from "../../plan/plan";
import { availableStacks } from "../../plan/stackFiles";
import { stackGraph } from "../support/graph";
import { ROOT } from "./packaging";

const stackDoc = (stack: string): Record<string, any> => parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config;

/** The aws provider endpoint key serving each resource type the program can create. */
function endpointFor(type: string): string | undefined {
    const [, mod, resource] = /^aws:([a-z0-9]+)\/([A-Za-z0-9]+):/.exec(type) ?? [];
    if (mod === "cloudwatch") {
        if (/^(logGroup|logStream|logSubscriptionFilter|logMetricFilter|logResourcePolicy)$/.test(resource)) return "logs";
        if (/^event/.test(resource)) return "events";
        return "cloudwatch";
    }
    return mod;
}

describe("stack files (Pulumi.<stack>.yaml)", function () {
    this.timeout(60000);

    it("hold no credential or secret in plain text: such values are Pulumi secrets (secure:)", () => {
        const looksSecret = /(secret|password|passphrase|token|apikey|accesskey|privatekey|credential)/i;
        const plain: string[] = [];
        const walk = (stack: string, key: string, value: unknown): void => {
            if (value && typeof value === "object" && !Array.isArray(value)) {
                if ("secure" in value) return;
                for (const [k, v] of Object.entries(value)) walk(stack, `${key}.${k}`, v);
            } else if (Array.isArray(value)) value.forEach((v, i) => walk(stack, `${key}[${i}]`, v));
            else if (typeof value === "string" && looksSecret.test(key.split(/[.:]/).pop() ?? "")) plain.push(`${stack}: ${key}`);
        };
        for (const stack of availableStacks()) for (const [key, value] of Object.entries(stackDoc(stack))) walk(stack, key, value);
        expect(plain).to.deep.equal([]);
    });

    describe("local (LocalStack)", () => {
        it("plans with no policy violations", async () => {
            expect(planDocument((await stackGraph("local")).run).violations).to.deep.equal([]);
        });

        it("skips the AWS credential, account-id and metadata checks LocalStack cannot answer", () => {
            expect(stackDoc("local")).to.include({ "aws:skipCredentialsValidation": true, "aws:skipRequestingAccountId": true, "aws:skipMetadataApiCheck": true });
        });

        it("points every AWS service the stack creates resources in at LocalStack", async () => {
            const endpoints: Record<string, string> = Object.assign({}, ...stackDoc("local")["aws:endpoints"]);
            const services = new Set((await stackGraph("local")).resources.map((r) => endpointFor(r.type)).filter((s): s is string => s !== undefined));
            expect([...services].filter((s) => !endpoints[s]).sort(), "services without an endpoint").to.deep.equal([]);
            expect([...new Set(Object.values(endpoints))]).to.deep.equal(["http://localhost:4566"]);
        });

        it("runs as the local environment", () => {
            expect(stackDoc("local")["bellyfed:environment"]).to.equal("local");
        });
    });
});
