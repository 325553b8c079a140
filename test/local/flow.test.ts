import { expect } from "chai";
import { clip, formatFlow, MAX_FLOW_VALUE } from "../../local/flow";

describe("flow lines", () => {
    it("prints a short request path whole", () => {
        const line = formatFlow({ kind: "http", method: "GET", path: "/restaurant/r-laksa-lane", status: 200, durationMs: 5, at: Date.UTC(2026, 0, 1, 12, 0, 1, 123) });
        expect(line).to.equal("12:00:01.123  http       GET /restaurant/r-laksa-lane -> 200 (5 ms)");
    });

    it("cuts a 10,000-character path to its first characters and says how many were left out", () => {
        const path = `/restaurant/${"r".repeat(10_000)}`;
        const line = formatFlow({ kind: "http", method: "GET", path, status: 400, durationMs: 1 });
        expect(line).to.include(`GET ${path.slice(0, MAX_FLOW_VALUE)}... (${path.length - MAX_FLOW_VALUE} more characters) -> 400 (1 ms)`);
        expect(line.length).to.be.below(250);
    });

    it("keeps an error on one line and within the limit", () => {
        const line = formatFlow({ kind: "function-error", functionName: "fn", error: `Error: ${"boom\n".repeat(100)}` });
        expect(line).not.to.include("\n");
        expect(line).to.match(/\.\.\. \(\d+ more characters\)$/);
    });

    it("says how long a killed invocation's messages stay hidden, and why", () => {
        const line = formatFlow({ kind: "batch-failed", queue: "q", functionName: "fn", size: 2, error: "Sandbox.Timedout: Task timed out after 30.00 seconds", receiveCounts: [1, 1], heldMs: 10_000 });
        expect(line).to.match(/: Sandbox\.Timedout: Task timed out after 30\.00 seconds \(killed: its messages stay hidden 10 s, past its deadline and any claim it left\)$/);
    });

    it("clips at the given length", () => expect(clip("abcdef", 3)).to.equal("abc... (3 more characters)"));
});
