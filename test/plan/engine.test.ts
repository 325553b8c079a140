import { expect } from "chai";
import * as aws from "@pulumi/aws";
import { registeredBeforeFailure, runUnderMocks } from "../../plan/engine";

describe("mock engine runs (plan/engine.ts)", () => {
    const failing = (program: () => unknown) => runUnderMocks({ project: "bellyfed-test", stack: "failing", program }).then(
        () => expect.fail("the program should have failed"),
        (error: Error) => error,
    );

    it("reports the resources a failed program had registered when it failed", async () => {
        const error = await failing(() => {
            new aws.sqs.Queue("registered-first", { sqsManagedSseEnabled: true });
            throw new Error("then the program failed");
        });
        expect(error.message).to.equal("then the program failed");
        expect(registeredBeforeFailure(error)?.map((r) => `${r.type}::${r.name}`)).to.deep.equal(["aws:sqs/queue:Queue::registered-first"]);
    });

    it("reports an empty list for a program that failed before registering anything", async () => {
        const error = await failing(() => {
            throw new Error("failed first");
        });
        expect(registeredBeforeFailure(error)).to.deep.equal([]);
    });

    it("knows nothing of errors that did not come from a run", () => {
        expect(registeredBeforeFailure(new Error("elsewhere"))).to.equal(undefined);
    });
});
