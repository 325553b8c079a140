import { expect } from "chai";
import { invocationDeadline, remainingTimeOf } from "../../handlers/runtime/deadline";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for a deadline's signal and returns how long that took, in ms. */
function abortedAfter(signal: AbortSignal): Promise<number> {
    const started = Date.now();
    return new Promise((resolve) => signal.addEventListener("abort", () => resolve(Date.now() - started), { once: true }));
}

describe("invocation deadline", () => {
    it("fires when less than the reserve is left of the invocation", async () => {
        const end = Date.now() + 300;
        const deadline = invocationDeadline({ remainingMs: () => end - Date.now(), reserveMs: 100, pollMs: 10 });
        expect(await abortedAfter(deadline.signal)).to.be.within(150, 290);
        expect((deadline.signal.reason as Error).message).to.equal("deadline: less than 100 ms of the invocation are left");
    });

    it("fires at once when the reserve is already reached", () => {
        const deadline = invocationDeadline({ remainingMs: () => 50, reserveMs: 100 });
        expect(deadline.signal.aborted).to.equal(true);
        expect((deadline.signal.reason as Error).name).to.equal("DeadlineExceeded");
    });

    it("fires when its budget is spent, however much of the invocation is left", async () => {
        const deadline = invocationDeadline({ remainingMs: () => 60_000, reserveMs: 100, budgetMs: 150, pollMs: 10 });
        expect(await abortedAfter(deadline.signal)).to.be.within(100, 400);
        expect((deadline.signal.reason as Error).message).to.equal("deadline: its 150 ms budget is spent");
    });

    it("follows a remaining time that runs faster than real time (the local runtime's scaled clock)", async () => {
        const start = Date.now();
        const deadline = invocationDeadline({ remainingMs: () => 10_000 - (Date.now() - start) * 20, reserveMs: 1000, pollMs: 10 });
        // 9 000 scaled ms are 450 real ms.
        expect(await abortedAfter(deadline.signal)).to.be.within(350, 700);
    });

    it("never fires without a remaining time or a budget", async () => {
        const deadline = invocationDeadline({ reserveMs: 100 });
        await sleep(50);
        expect(deadline.signal.aborted).to.equal(false);
    });

    it("stops watching when disposed", async () => {
        const end = Date.now() + 150;
        const deadline = invocationDeadline({ remainingMs: () => end - Date.now(), reserveMs: 100, pollMs: 10 });
        deadline.dispose();
        await sleep(120);
        expect(deadline.signal.aborted).to.equal(false);
    });

    it("reads the remaining time of a Lambda context, and nothing of a context without one", () => {
        expect(remainingTimeOf({ getRemainingTimeInMillis: () => 1234 })?.()).to.equal(1234);
        expect(remainingTimeOf({})).to.equal(undefined);
        expect(remainingTimeOf(undefined)).to.equal(undefined);
    });
});
