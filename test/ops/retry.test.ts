import { GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { isThrottling, isTransient, withRetry } from "../../ops/retry";
import { envelope, OpsHarness, processedQueue, sqsMessage, stubBus, stubQueues, validDetail } from "./support";

const awsError = (name: string, status: number, message = name) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
const DETAIL = JSON.stringify(validDetail("r-1"));

describe("ops retries (ops/retry.ts)", () => {
    let h: OpsHarness;
    beforeEach(() => {
        h = new OpsHarness();
    });

    it("treats SQS's KmsThrottled and RequestThrottled, ThrottlingException and TooManyRequestsException as throttling", () => {
        for (const name of ["KmsThrottled", "RequestThrottled", "ThrottlingException", "TooManyRequestsException", "Throttling"]) {
            expect(isThrottling(awsError(name, 400)), name).to.equal(true);
        }
        expect(isThrottling(awsError("Anything", 429)), "HTTP 429").to.equal(true);
        expect(isThrottling(awsError("KmsAccessDenied", 400))).to.equal(false);
    });

    it("treats 5xx, timeouts and reset connections as transient (outcome unknown), and a refused connection as neither", () => {
        expect(isTransient(awsError("InternalFailure", 500))).to.equal(true);
        expect(isTransient(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).to.equal(true);
        expect(isTransient(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }))).to.equal(false);
    });

    it("retries a receive SQS refused because KMS throttled it", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 1 } }));
        h.sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({});
        h.sqsMock
            .on(ReceiveMessageCommand)
            .rejectsOnce(awsError("KmsThrottled", 400, "KMS throttled the request"))
            .resolvesOnce({ Messages: [sqsMessage("m1", envelope(validDetail("r-1")))] })
            .resolves({ Messages: [] });
        const r = await h.run(["dlq", "inspect", "analytics", "--stack", "dev", "--json"]);
        expect([r.code, r.json().read]).to.deep.equal([0, 1]);
        expect(h.sleeps).to.deep.equal([100]);
    });

    it("gives GetMetricData a longer budget than the default 6 attempts (8 attempts, 1 s doubling, capped at 20 s)", async () => {
        stubBus(h, [{ name: "analytics", tags: { stack: "dev", "bellyfed:rule": "platform-bus/analytics" }, matched: [1] }]);
        const throttled = awsError("Throttling", 400, "Rate exceeded");
        const behaviour = h.cwMock.on(GetMetricDataCommand);
        for (let i = 0; i < 7; i++) behaviour.rejectsOnce(throttled);
        behaviour.resolves({ MetricDataResults: [{ Id: "r0m0", Values: [3] }] });
        const r = await h.run(["rules", "--stack", "dev", "--json"]);
        expect(r.code, r.stderr).to.equal(0);
        expect(h.cwMock.commandCalls(GetMetricDataCommand)).to.have.length(8);
        expect(h.sleeps).to.deep.equal([500, 1000, 2000, 4000, 8000, 10000, 10000]); // random() = 0.5
    });

    it("never sends PutEvents twice after a 5xx: says the event may or may not have been published (exit 1)", async () => {
        stubBus(h);
        h.ebMock.on(PutEventsCommand).rejects(awsError("InternalException", 500, "internal error"));
        const r = await h.run(["events", "put", "RestaurantViewed", "--stack", "dev", "--detail", DETAIL]);
        expect(h.ebMock.commandCalls(PutEventsCommand)).to.have.length(1);
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("events:PutEvents failed with InternalException").and.include("may or may not have been published");
    });

    it("retries a throttled PutEvents: a refused request published nothing", async () => {
        stubBus(h);
        h.ebMock.on(PutEventsCommand).rejectsOnce(awsError("ThrottlingException", 400)).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "evt-1" }] });
        const r = await h.run(["events", "put", "RestaurantViewed", "--stack", "dev", "--detail", DETAIL]);
        expect(r.code).to.equal(0);
        expect(h.ebMock.commandCalls(PutEventsCommand)).to.have.length(2);
    });

    it("repeats a call that is safe to repeat after a 5xx", async () => {
        let calls = 0;
        const result = await withRetry(
            "sqs:GetQueueAttributes",
            async () => {
                if (++calls < 3) throw awsError("InternalError", 500);
                return "ok";
            },
            { sleep: async () => undefined, random: () => 0 },
        );
        expect([result, calls]).to.deep.equal(["ok", 3]);
    });
});
