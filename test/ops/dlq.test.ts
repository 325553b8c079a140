import {
    ChangeMessageVisibilityBatchCommand,
    DeleteMessageCommand,
    ListMessageMoveTasksCommand,
    ReceiveMessageCommand,
    SendMessageCommand,
    StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { envelope, FakeLocalRuntime, OpsHarness, processedQueue, queueArn, queueUrl, sqsMessage, stackTags, stubQueues, validDetail } from "./support";

const DLQ_URL = queueUrl("analytics-dlq-e4f5a6b");
/** When SQS started our move task: just after the harness's clock (2024-05-01T12:00:00Z). */
const STARTED = Date.parse("2024-05-01T12:00:01Z");
const SOURCE_URL = queueUrl("analytics-a1b2c3d");

/** Message ids made visible again (ChangeMessageVisibility 0), by receipt handle. */
function released(h: OpsHarness): string[] {
    return h.sqsMock
        .commandCalls(ChangeMessageVisibilityBatchCommand)
        .flatMap((c) => c.args[0].input.Entries!.filter((e) => e.VisibilityTimeout === 0).map((e) => e.ReceiptHandle!.replace(/^rh-/, "")));
}

const good = (id: string) => sqsMessage(id, envelope(validDetail(`r-${id}`)));
const badId = (id: string) => sqsMessage(id, envelope({ ...validDetail("x"), restaurantId: "not valid!" }));
const notJson = (id: string) => sqsMessage(id, "{oops");

describe("ops dlq inspect", () => {
    let h: OpsHarness;
    beforeEach(() => {
        h = new OpsHarness();
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 4 } }));
        h.sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
    });

    it("groups valid messages apart from invalid ones, by zod issue path and message, with counts", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1"), badId("m2"), good("m3"), notJson("m4")] }).resolves({ Messages: [] });
        const r = await h.run(["dlq", "inspect", "analytics", "--stack", "dev", "--json"]);
        const doc = r.json();
        expect(doc.valid.count).to.equal(2);
        expect(doc.invalid.count).to.equal(2);
        expect(doc.invalid.groups.map((g: any) => [g.issues[0].path, g.count])).to.have.deep.members([
            ["detail.restaurantId", 1],
            ["(body)", 1],
        ]);
        expect(doc.invalid.groups.find((g: any) => g.issues[0].path === "detail.restaurantId").issues[0].message).to.equal("must be 1-64 characters of A-Z a-z 0-9 _ -");
    });

    it("exits 1 when poison messages are found", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1"), badId("m2")] }).resolves({ Messages: [] });
        const r = await h.run(["dlq", "inspect", "analytics", "--stack", "dev"]);
        expect(r.code).to.equal(1);
        expect(r.stdout).to.include("VALID: 1").and.include("INVALID: 1").and.include("1 x detail.restaurantId: must be 1-64 characters");
    });

    it("names the next command as the operator runs the CLI: npm run ops in a checkout, bellyfed-ops through the bin", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1")] }).resolves({ Messages: [] });
        expect((await h.run(["dlq", "inspect", "analytics", "--stack", "dev"])).stdout).to.include("Next: `npm run ops -- dlq redrive analytics --stack dev --only-valid`");
        const bin = new OpsHarness();
        stubQueues(bin, processedQueue("analytics", { counts: { dlqVisible: 1 } }));
        bin.sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
        bin.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1")] }).resolves({ Messages: [] });
        expect((await bin.run(["dlq", "inspect", "analytics", "--stack", "dev"], { invocation: "bellyfed-ops" })).stdout).to.include("Next: `bellyfed-ops dlq redrive analytics --stack dev --only-valid`");
    });

    it("exits 0 when every message is valid", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1")] }).resolves({ Messages: [] });
        expect((await h.run(["dlq", "inspect", "analytics", "--stack", "dev"])).code).to.equal(0);
    });

    it("never deletes: it receives with a visibility timeout and makes every message visible again", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1"), badId("m2")] }).resolvesOnce({ Messages: [good("m3")] }).resolves({ Messages: [] });
        await h.run(["dlq", "inspect", "analytics", "--stack", "dev", "--visibility-timeout", "45"]);
        expect(h.sqsMock.commandCalls(DeleteMessageCommand)).to.have.length(0);
        expect(h.sqsMock.commandCalls(ReceiveMessageCommand)[0].args[0].input).to.include({ QueueUrl: DLQ_URL, VisibilityTimeout: 45 });
        expect(released(h)).to.have.members(["m1", "m2", "m3"]);
    });

    it("releases what it read even when a later receive fails", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1")] }).rejects(Object.assign(new Error("denied"), { name: "AccessDenied", $metadata: {} }));
        const r = await h.run(["dlq", "inspect", "analytics", "--stack", "dev"]);
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("sqs:ReceiveMessage: access denied");
        expect(released(h)).to.deep.equal(["m1"]);
    });

    it("stops at --max messages", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [good("m1"), good("m2")] });
        const r = await h.run(["dlq", "inspect", "analytics", "--stack", "dev", "--max", "2", "--json"]);
        expect(r.json().read).to.equal(2);
        expect(h.sqsMock.commandCalls(ReceiveMessageCommand)).to.have.length(1);
    });

    it("reads each message once even when SQS hands it out again", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1")] }).resolves({ Messages: [good("m1")] });
        const r = await h.run(["dlq", "inspect", "analytics", "--stack", "dev", "--json"]);
        expect(r.json().read).to.equal(1);
    });

    it("keeps reading past a receive that brings back only messages it already read", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1")] }).resolvesOnce({ Messages: [good("m1")] }).resolvesOnce({ Messages: [badId("m2")] }).resolves({ Messages: [] });
        const r = await h.run(["dlq", "inspect", "analytics", "--stack", "dev", "--json"]);
        expect(r.json()).to.include({ read: 2, unread: 0, stoppedBy: "empty" });
        expect(released(h)).to.have.members(["m1", "m2"]);
    });

    it("says how many messages it did not read at --max (ApproximateNumberOfMessages + NotVisible, less the ones it holds)", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [good("m1"), good("m2")] });
        const r = await h.run(["dlq", "inspect", "analytics", "--stack", "dev", "--max", "2"]);
        expect(r.code).to.equal(0);
        expect(r.stdout).to.include("~2 message(s) not read (--max 2 reached): raise --max to read them");
    });

    it("exits 1 and says so when SQS keeps handing out only messages already read before the DLQ is read", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [good("m1")] });
        const r = await h.run(["dlq", "inspect", "analytics", "--stack", "dev"]);
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("~3 message(s) not read (SQS handed out only messages already read 5 times in a row): run the command again");
    });

    it("says the DLQ is empty", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [] });
        const r = await h.run(["dlq", "inspect", "analytics", "--stack", "dev"]);
        expect(r.code).to.equal(0);
        expect(r.stdout).to.include("The DLQ is empty.");
    });

    it("names the stack's ProcessedQueues when the queue is unknown (exit 2)", async () => {
        const r = await h.run(["dlq", "inspect", "orders", "--stack", "dev"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include('Unknown queue "orders"').and.include("ProcessedQueues are analytics");
    });

    it("retries a throttled receive with growing, jittered backoff", async () => {
        const throttled = Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } });
        h.sqsMock.on(ReceiveMessageCommand).rejectsOnce(throttled).rejectsOnce(throttled).resolvesOnce({ Messages: [good("m1")] }).resolves({ Messages: [] });
        const r = await h.run(["dlq", "inspect", "analytics", "--stack", "dev", "--json"]);
        expect(r.code).to.equal(0);
        expect(h.sleeps).to.deep.equal([100, 200]); // random() = 0.5 x 200 ms x 2^n
    });

    it("gives up on throttling after the bounded retries with a clear message (exit 1)", async () => {
        h.sqsMock.on(ReceiveMessageCommand).rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: {} }));
        const r = await h.run(["dlq", "inspect", "analytics", "--stack", "dev"]);
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("AWS kept throttling sqs:ReceiveMessage").and.include("after 6 attempts");
        expect(h.sleeps).to.have.length(5);
    });
});

describe("ops dlq redrive (message move task)", () => {
    let h: OpsHarness;
    const start = (queue = "analytics", ...flags: string[]) => h.run(["dlq", "redrive", queue, "--stack", "dev", ...flags]);

    beforeEach(() => {
        h = new OpsHarness();
        h.sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: "task-1" });
    });

    it("starts a move task from the DLQ's ARN to the source queue's ARN at the given rate", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 10 } }));
        h.sqsMock
            .on(ListMessageMoveTasksCommand)
            .resolvesOnce({ Results: [] })
            .resolves({ Results: [{ TaskHandle: "task-1", Status: "COMPLETED", ApproximateNumberOfMessagesMoved: 10, ApproximateNumberOfMessagesToMove: 10 }] });
        const r = await start("analytics", "--max-per-second", "50");
        expect(r.code).to.equal(0);
        expect(h.sqsMock.commandCalls(StartMessageMoveTaskCommand)[0].args[0].input).to.deep.equal({
            SourceArn: queueArn("analytics-dlq-e4f5a6b"),
            DestinationArn: queueArn("analytics-a1b2c3d"),
            MaxNumberOfMessagesPerSecond: 50,
        });
        expect(r.stdout).to.include("Done: moved 10 message(s) back to analytics-a1b2c3d.");
    });

    it("shows progress until the task completes, polling ListMessageMoveTasks", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 10 } }));
        h.sqsMock
            .on(ListMessageMoveTasksCommand)
            .resolvesOnce({ Results: [] })
            .resolvesOnce({ Results: [{ TaskHandle: "task-1", Status: "RUNNING", StartedTimestamp: STARTED, ApproximateNumberOfMessagesMoved: 4, ApproximateNumberOfMessagesToMove: 10 }] })
            // An ended task has no TaskHandle any more: it is recognised by its start time.
            .resolves({ Results: [{ Status: "COMPLETED", StartedTimestamp: STARTED, ApproximateNumberOfMessagesMoved: 10, ApproximateNumberOfMessagesToMove: 10 }] });
        const r = await start("analytics", "--poll-interval", "2");
        expect(r.stdout).to.include("RUNNING: moved 4 of ~10").and.include("COMPLETED: moved 10 of ~10");
        expect(h.sleeps).to.deep.equal([2000, 2000]);
    });

    it("exits 1 with the failure reason when the task fails", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 10 } }));
        h.sqsMock
            .on(ListMessageMoveTasksCommand)
            .resolvesOnce({ Results: [] })
            .resolves({ Results: [{ Status: "FAILED", StartedTimestamp: STARTED, FailureReason: "AWS.SimpleQueueService.KmsAccessDenied", ApproximateNumberOfMessagesMoved: 3 }] });
        const r = await start();
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("ended FAILED: AWS.SimpleQueueService.KmsAccessDenied");
    });

    it("follows its own task once it has ended, never an older task the list shows first", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 10 } }));
        const older = { Status: "COMPLETED", StartedTimestamp: Date.parse("2024-05-01T11:00:00Z"), ApproximateNumberOfMessagesMoved: 99 };
        h.sqsMock
            .on(ListMessageMoveTasksCommand)
            .resolvesOnce({ Results: [older] }) // the checks before the start
            .resolvesOnce({ Results: [older] }) // ours not listed yet
            .resolves({ Results: [{ Status: "FAILED", StartedTimestamp: STARTED, FailureReason: "AWS.SimpleQueueService.KmsAccessDenied", ApproximateNumberOfMessagesMoved: 3 }, older] });
        const r = await start("analytics", "--json");
        expect(r.code).to.equal(1);
        expect(r.json()).to.include({ status: "FAILED", moved: 3, failureReason: "AWS.SimpleQueueService.KmsAccessDenied" });
    });

    it("gives up watching, saying how to follow the task, when the list never shows it", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 10 } }));
        h.sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
        const r = await start();
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("has not listed the move task started on analytics-dlq-e4f5a6b (handle task-1) in 5 checks").and.include("aws sqs list-message-move-tasks");
    });

    it("never sends StartMessageMoveTask twice after a 5xx, and follows the task when the list shows it started", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 10 } }));
        h.sqsMock.on(StartMessageMoveTaskCommand).rejects(Object.assign(new Error("We encountered an internal error"), { name: "InternalFailure", $metadata: { httpStatusCode: 500 } }));
        h.sqsMock
            .on(ListMessageMoveTasksCommand)
            .resolvesOnce({ Results: [] })
            .resolvesOnce({ Results: [{ TaskHandle: "task-9", Status: "RUNNING", StartedTimestamp: STARTED, ApproximateNumberOfMessagesMoved: 0 }] })
            .resolves({ Results: [{ Status: "COMPLETED", StartedTimestamp: STARTED, ApproximateNumberOfMessagesMoved: 10, ApproximateNumberOfMessagesToMove: 10 }] });
        const r = await start();
        expect(h.sqsMock.commandCalls(StartMessageMoveTaskCommand)).to.have.length(1);
        expect(r.code).to.equal(0);
        expect(r.stderr).to.include("sqs:StartMessageMoveTask failed with InternalFailure").and.include("ListMessageMoveTasks shows it started");
        expect(r.stdout).to.include("Done: moved 10 message(s)");
    });

    it("never sends StartMessageMoveTask twice after a timeout, and says none started when the list shows no new task (exit 1)", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 10 } }));
        h.sqsMock.on(StartMessageMoveTaskCommand).rejects(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
        h.sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
        const r = await start();
        expect(h.sqsMock.commandCalls(StartMessageMoveTaskCommand)).to.have.length(1);
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("lists no new task on analytics-dlq-e4f5a6b, so none started: run the command again");
    });

    it("refuses a queue that is not the DLQ of its source (exit 1, nothing started)", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 1 }, source: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn("elsewhere"), maxReceiveCount: 5 }) } }));
        const r = await start();
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("Not a DLQ: analytics-dlq-e4f5a6b is not the dead-letter queue of analytics-a1b2c3d").and.include(`names ${queueArn("elsewhere")}`);
        expect(h.sqsMock.commandCalls(StartMessageMoveTaskCommand)).to.have.length(0);
    });

    it("refuses a DLQ whose RedriveAllowPolicy denies every source", async () => {
        stubQueues(h, processedQueue("analytics", { dlq: { RedriveAllowPolicy: JSON.stringify({ redrivePermission: "denyAll" }) } }));
        const r = await start();
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("RedriveAllowPolicy").and.include("does not allow it as a source");
    });

    it("refuses while a move task is already running on the DLQ and says how to cancel it", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 10 } }));
        h.sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [{ TaskHandle: "other-task", Status: "RUNNING", StartedTimestamp: 1714561200000, ApproximateNumberOfMessagesMoved: 2 }] });
        const r = await start();
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("already RUNNING").and.include("aws sqs cancel-message-move-task --task-handle other-task");
        expect(h.sqsMock.commandCalls(StartMessageMoveTaskCommand)).to.have.length(0);
    });

    it("refuses a rate above SQS's 500 messages per second before any AWS call (exit 2)", async () => {
        const r = await start("analytics", "--max-per-second", "501");
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("--max-per-second 501 is above SQS's limit of 500");
        expect(h.sqsMock.calls()).to.have.length(0);
    });

    it("refuses a FIFO DLQ with a standard source queue (exit 1)", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 1 }, dlq: { FifoQueue: "true" } }));
        h.sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
        const r = await start();
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("the DLQ analytics-dlq-e4f5a6b is FIFO but its source analytics-a1b2c3d is standard");
        expect(h.sqsMock.commandCalls(StartMessageMoveTaskCommand)).to.have.length(0);
    });

    it("with --dry-run runs the checks and starts nothing", async () => {
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 7 } }));
        h.sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
        const r = await start("analytics", "--dry-run");
        expect(r.code).to.equal(0);
        expect(r.stdout).to.include("Dry run: would start a message move task from analytics-dlq-e4f5a6b to analytics-a1b2c3d for ~7 message(s)");
        expect(h.sqsMock.commandCalls(StartMessageMoveTaskCommand)).to.have.length(0);
    });

    it("refuses an EventBridge target DLQ: move tasks only take DLQs of SQS queues", async () => {
        const queues = processedQueue("analytics");
        stubQueues(h, [...queues, { name: "route-dlq-1", tags: { ...stackTags(), "bellyfed:processed-queue": "analytics", "bellyfed:queue-role": "target-dlq" } }]);
        const r = await start("route-dlq-1");
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include("is the DLQ of an EventBridge target").and.include("--only-valid");
    });
});

describe("ops dlq --target-dlq (the EventBridge target DLQ of a route)", () => {
    let h: OpsHarness;
    const TARGET_DLQ_URL = queueUrl("route-dlq-1");
    const targetDlq = (name: string, route: string) => ({
        name,
        tags: { ...stackTags(), "bellyfed:processed-queue": "analytics", "bellyfed:queue-role": "target-dlq", "bellyfed:route": route },
        attributes: { QueueArn: queueArn(name), FifoQueue: "false", ApproximateNumberOfMessages: "1" },
    });

    beforeEach(() => {
        h = new OpsHarness();
        stubQueues(h, [...processedQueue("analytics"), targetDlq("route-dlq-1", "platform-bus/restaurant-viewed")]);
        h.sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({});
        h.sqsMock.on(SendMessageCommand).resolves({ MessageId: "new" });
        h.sqsMock.on(DeleteMessageCommand).resolves({});
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1")] }).resolves({ Messages: [] });
    });

    it("inspect reads the queue's target DLQ", async () => {
        const r = await h.run(["dlq", "inspect", "analytics", "--target-dlq", "--stack", "dev", "--json"]);
        expect(r.json()).to.include({ dlq: "route-dlq-1", kind: "target-dlq" });
        expect(h.sqsMock.commandCalls(ReceiveMessageCommand)[0].args[0].input.QueueUrl).to.equal(TARGET_DLQ_URL);
    });

    it("inspect also takes the route's name for its target DLQ", async () => {
        const r = await h.run(["dlq", "inspect", "platform-bus/restaurant-viewed", "--stack", "dev", "--json"]);
        expect(r.json().dlq).to.equal("route-dlq-1");
    });

    it("redrive --only-valid sends the undelivered events to the queue and deletes them from the target DLQ", async () => {
        const r = await h.run(["dlq", "redrive", "analytics", "--target-dlq", "--only-valid", "--stack", "dev"]);
        expect(r.code).to.equal(0);
        expect(h.sqsMock.commandCalls(SendMessageCommand)[0].args[0].input.QueueUrl).to.equal(SOURCE_URL);
        expect(h.sqsMock.commandCalls(DeleteMessageCommand)[0].args[0].input.QueueUrl).to.equal(TARGET_DLQ_URL);
        expect(h.sqsMock.commandCalls(ListMessageMoveTasksCommand)).to.have.length(0);
    });

    it("asks for the route when the queue has several target DLQs (exit 2)", async () => {
        stubQueues(h, [...processedQueue("analytics"), targetDlq("route-dlq-1", "platform-bus/a"), targetDlq("route-dlq-2", "platform-bus/b")]);
        const r = await h.run(["dlq", "inspect", "analytics", "--target-dlq", "--stack", "dev"]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("has 2 target DLQs, one per route: name one instead of the queue: platform-bus/a, platform-bus/b");
    });
});

describe("ops dlq redrive --only-valid", () => {
    let h: OpsHarness;
    const redrive = (...flags: string[]) => h.run(["dlq", "redrive", "analytics", "--stack", "dev", "--only-valid", ...flags]);

    beforeEach(() => {
        h = new OpsHarness();
        stubQueues(h, processedQueue("analytics", { counts: { dlqVisible: 3 } }));
        h.sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
        h.sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
        h.sqsMock.on(SendMessageCommand).callsFake((input: any) => ({ MessageId: `new-${JSON.parse(input.MessageBody).id}` }));
        h.sqsMock.on(DeleteMessageCommand).resolves({});
    });

    it("sends each valid message to the source, then deletes it from the DLQ", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1"), good("m2")] }).resolves({ Messages: [] });
        const r = await redrive();
        expect(r.code).to.equal(0);
        expect(h.sqsMock.commandCalls(SendMessageCommand).map((c) => [c.args[0].input.QueueUrl, c.args[0].input.MessageBody])).to.deep.equal([
            [SOURCE_URL, good("m1").Body],
            [SOURCE_URL, good("m2").Body],
        ]);
        expect(h.sqsMock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input)).to.deep.equal([
            { QueueUrl: DLQ_URL, ReceiptHandle: "rh-m1" },
            { QueueUrl: DLQ_URL, ReceiptHandle: "rh-m2" },
        ]);
        expect(r.stdout).to.include("Moved 2 valid messages");
    });

    it("leaves poison messages in the DLQ, visible again, and exits 1", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1"), badId("m2"), notJson("m3")] }).resolves({ Messages: [] });
        const r = await redrive("--json");
        expect(r.code).to.equal(1);
        expect(h.sqsMock.commandCalls(SendMessageCommand)).to.have.length(1);
        expect(h.sqsMock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle)).to.deep.equal(["rh-m1"]);
        expect(released(h)).to.have.members(["m2", "m3"]);
        expect(r.json()).to.include({ moved: 1, left: 2 });
    });

    it("deletes only after the send succeeded: a failed send leaves the message in the DLQ", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1")] }).resolves({ Messages: [] });
        h.sqsMock.on(SendMessageCommand).rejects(Object.assign(new Error("KMS key disabled"), { name: "KmsDisabled", $metadata: {} }));
        const r = await redrive();
        expect(r.code).to.equal(1);
        expect(h.sqsMock.commandCalls(DeleteMessageCommand)).to.have.length(0);
        expect(released(h)).to.deep.equal(["m1"]);
        expect(r.stderr).to.include("send failed for m1: KmsDisabled: KMS key disabled (left in the DLQ)");
    });

    it("reports a message sent but not deleted as a possible duplicate and exits 1", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1"), good("m2")] }).resolves({ Messages: [] });
        h.sqsMock
            .on(DeleteMessageCommand, { ReceiptHandle: "rh-m2" })
            .rejects(Object.assign(new Error("The receipt handle has expired."), { name: "ReceiptHandleIsInvalid", $metadata: {} }));
        const r = await redrive("--json");
        expect(r.code).to.equal(1);
        const doc = r.json();
        expect(doc.moved).to.equal(1);
        expect(doc.failures).to.deep.equal([{ messageId: "m2", eventId: "evt-r-m2", stage: "delete", error: "ReceiptHandleIsInvalid: The receipt handle has expired." }]);
        expect(released(h)).to.not.include("m2"); // never released: it would be received and sent again
    });

    it("says which messages are possible duplicates in the human output", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1")] }).resolves({ Messages: [] });
        h.sqsMock.on(DeleteMessageCommand).rejects(Object.assign(new Error("expired"), { name: "ReceiptHandleIsInvalid", $metadata: {} }));
        const r = await redrive();
        expect(r.stderr).to.include("were sent to analytics-a1b2c3d but could not be deleted").and.include("possible duplicates").and.match(/m1\s+evt-r-m1/);
    });

    it("with --dry-run sends and deletes nothing and releases every message", async () => {
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1"), badId("m2")] }).resolves({ Messages: [] });
        const r = await redrive("--dry-run");
        expect(h.sqsMock.commandCalls(SendMessageCommand)).to.have.length(0);
        expect(h.sqsMock.commandCalls(DeleteMessageCommand)).to.have.length(0);
        expect(released(h)).to.have.members(["m1", "m2"]);
        expect(r.stdout).to.include("would move 1 valid message to analytics-a1b2c3d and leave 1 poison");
    });

    it("keeps the message group and deduplicates by DLQ message id when the queues are FIFO", async () => {
        h = new OpsHarness();
        stubQueues(h, processedQueue("analytics", { fifo: true }));
        h.sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
        h.sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({});
        h.sqsMock.on(SendMessageCommand).resolves({ MessageId: "new" });
        h.sqsMock.on(DeleteMessageCommand).resolves({});
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1")].map((m) => ({ ...m, Attributes: { ...m.Attributes, MessageGroupId: "r-m1" } })) }).resolves({ Messages: [] });
        await redrive();
        expect(h.sqsMock.commandCalls(SendMessageCommand)[0].args[0].input).to.include({ MessageGroupId: "r-m1", MessageDeduplicationId: "redrive-m1" });
    });

    it("keeps reading past a receive that brings back only poison messages it holds, and moves the valid ones after them", async () => {
        h.sqsMock
            .on(ReceiveMessageCommand)
            .resolvesOnce({ Messages: [badId("p1"), good("m1")] })
            .resolvesOnce({ Messages: [badId("p1")] }) // p1 back (its visibility ran out): nothing new in this receive
            .resolvesOnce({ Messages: [good("m2")] })
            .resolves({ Messages: [] });
        const r = await redrive("--json");
        expect(h.sqsMock.commandCalls(SendMessageCommand).map((c) => JSON.parse(c.args[0].input.MessageBody!).id)).to.deep.equal(["evt-r-m1", "evt-r-m2"]);
        expect(r.json()).to.include({ moved: 2, left: 1, unread: 0, stoppedBy: "empty" });
        expect(released(h)).to.deep.equal(["p1"]);
    });

    it("extends the visibility of the messages it holds while it works, so they do not come back", async () => {
        const batches = [{ Messages: [badId("p1")] }, { Messages: [good("m1")] }, { Messages: [good("m2")] }];
        h.sqsMock.on(ReceiveMessageCommand).callsFake(() => {
            h.now = new Date(h.now.getTime() + 40_000); // each receive and its work take 40 s
            return batches.shift() ?? { Messages: [] };
        });
        await redrive("--visibility-timeout", "60");
        const changes = h.sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input.Entries!.map((e) => [e.ReceiptHandle, e.VisibilityTimeout]));
        // p1, received at 40 s (hidden until 100 s), is extended before the receive at 80 s; released (0) at the end.
        expect(changes).to.deep.equal([[["rh-p1", 60]], [["rh-p1", 60]], [["rh-p1", 0]]]);
    });

    it("says how many messages were not read and exits 1 when SQS keeps handing out only messages already read", async () => {
        stubQueues(h, processedQueue("analytics", { dlq: { ApproximateNumberOfMessages: "4", ApproximateNumberOfMessagesNotVisible: "1" } }));
        h.sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [badId("p1")] });
        const r = await redrive();
        expect(r.code).to.equal(1);
        expect(h.sqsMock.commandCalls(ReceiveMessageCommand)).to.have.length(6); // the first, then 5 bringing nothing new
        expect(r.stderr).to.include("~4 message(s) in analytics-dlq-e4f5a6b were not read (SQS handed out only messages already read 5 times in a row): valid ones may be among them");
    });

    it("exits 1 when --max stops it with messages left unread", async () => {
        stubQueues(h, processedQueue("analytics", { dlq: { ApproximateNumberOfMessages: "7", ApproximateNumberOfMessagesNotVisible: "0" } }));
        h.sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [good("m1"), good("m2")] }).resolves({ Messages: [good("m3")] });
        const r = await redrive("--max", "2", "--json");
        expect(r.code).to.equal(1);
        expect(r.json()).to.include({ moved: 2, unread: 7, stoppedBy: "max" });
    });

    it("does not take --max-per-second, which only sets a move task's rate (exit 2)", async () => {
        const r = await redrive("--max-per-second", "10");
        expect(r.code).to.equal(2);
    });
});

describe("ops dlq against a local runtime (fake)", () => {
    let h: OpsHarness;
    let local: FakeLocalRuntime;
    beforeEach(async () => {
        h = new OpsHarness();
        local = new FakeLocalRuntime(
            { stack: "dev", endpoints: {}, queues: [{ name: "analytics", visible: 0, inFlight: 0, dlq: { name: "analytics-dlq", visible: 3 } }], rules: [] },
            {
                analytics: {
                    queue: "analytics",
                    dlq: "analytics-dlq",
                    messages: [
                        { messageId: "m1", body: envelope(validDetail("r-1")) },
                        { messageId: "m2", body: "{oops" },
                        { messageId: "m3", body: envelope(validDetail("r-3")) },
                    ],
                },
            },
        );
        await local.start();
    });
    afterEach(() => local.stop());

    it("takes the queue's URL or ARN as <queue>, as on AWS", async () => {
        local.state.queues[0].url = queueUrl("analytics");
        local.state.queues[0].arn = queueArn("analytics");
        for (const given of [queueUrl("analytics"), queueArn("analytics")]) {
            const r = await h.run(["dlq", "inspect", given, "--local", local.url, "--json"]);
            expect(r.json(), given).to.include({ processedQueue: "analytics", dlq: "analytics-dlq", kind: "dlq", read: 3 });
        }
    });

    it("takes the DLQ's URL as <queue>", async () => {
        const r = await h.run(["dlq", "inspect", queueUrl("analytics-dlq"), "--local", local.url, "--json"]);
        expect(r.json()).to.include({ dlq: "analytics-dlq", read: 3 });
    });

    it("inspect reads GET /_local/queues/{name}/dlq and groups the messages", async () => {
        const r = await h.run(["dlq", "inspect", "analytics", "--local", local.url, "--json"]);
        expect(r.json().valid.count).to.equal(2);
        expect(r.json().invalid.count).to.equal(1);
        expect(local.requests.filter((q) => q.method !== "GET")).to.deep.equal([]);
    });

    it("redrive --only-valid posts the valid message ids only", async () => {
        const r = await h.run(["dlq", "redrive", "analytics", "--only-valid", "--local", local.url, "--json"]);
        expect(local.requests.find((q) => q.method === "POST")!.body).to.deep.equal({ messageIds: ["m1", "m3"] });
        expect(r.json()).to.include({ moved: 2, expected: 2, left: 1 });
        expect(local.dlqs.analytics.messages.map((m) => m.messageId)).to.deep.equal(["m2"]);
    });

    it("redrive without --only-valid moves the whole DLQ", async () => {
        const r = await h.run(["dlq", "redrive", "analytics", "--local", local.url]);
        expect(r.code).to.equal(0);
        expect(local.requests.find((q) => q.method === "POST")!.body).to.deep.equal({});
        expect(r.stdout).to.include("Moved 3 of 3 messages");
    });

    describe("--target-dlq (the EventBridge target DLQ the runtime lists under the queue)", () => {
        beforeEach(() => {
            local.state.queues[0].targetDlqs = [{ name: "route-dlq", visible: 2, inFlight: 0 }];
            local.dlqs["route-dlq"] = {
                queue: "analytics",
                dlq: "route-dlq",
                messages: [
                    { messageId: "t1", body: envelope(validDetail("r-7")) },
                    { messageId: "t2", body: envelope({ ...validDetail("r-8"), restaurantId: 42 }) },
                ],
            };
        });

        it("inspect reads GET /_local/queues/{name}/dlq?target=<target DLQ> and groups its messages", async () => {
            const r = await h.run(["dlq", "inspect", "analytics", "--target-dlq", "--local", local.url, "--json"]);
            expect(r.code, r.stderr).to.equal(1);
            expect(r.json()).to.deep.include({ processedQueue: "analytics", dlq: "route-dlq", kind: "target-dlq", read: 2 });
            expect(r.json().valid.count).to.equal(1);
            expect(r.json().invalid.count).to.equal(1);
            expect(local.requests.map((q) => `${q.method} ${q.path}`)).to.deep.equal(["GET /_local/state", "GET /_local/queues/analytics/dlq?target=route-dlq"]);
        });

        it("inspect takes the route (<bus component>/<route>) for its target DLQ, as on AWS", async () => {
            local.state.queues[0].targetDlqs = [{ name: "platform-bus-restaurant-viewed-target-dlq-5e6f7a8", visible: 2, inFlight: 0 }];
            local.state.rules = [{ name: "platform-bus-restaurant-viewed-1a2b3c4", logicalName: "platform-bus-restaurant-viewed", bus: "platform-bus-9d8c7b6", matched: 0 }];
            local.dlqs["platform-bus-restaurant-viewed-target-dlq-5e6f7a8"] = { ...local.dlqs["route-dlq"], dlq: "platform-bus-restaurant-viewed-target-dlq-5e6f7a8" };
            const r = await h.run(["dlq", "inspect", "platform-bus/restaurant-viewed", "--local", local.url, "--json"]);
            expect(r.json()).to.include({ processedQueue: "analytics", dlq: "platform-bus-restaurant-viewed-target-dlq-5e6f7a8", kind: "target-dlq", read: 2 });
        });

        it("names the routes it knows when a route has no target DLQ locally (exit 2)", async () => {
            local.state.rules = [{ name: "platform-bus-restaurant-viewed-1a2b3c4", logicalName: "platform-bus-restaurant-viewed", bus: "platform-bus-9d8c7b6", matched: 0 }];
            const r = await h.run(["dlq", "inspect", "platform-bus/other-route", "--local", local.url]);
            expect(r.code).to.equal(2);
            expect(r.stderr).to.include('Unknown queue "platform-bus/other-route"').and.include("its rules: platform-bus-restaurant-viewed");
        });

        it("inspect takes the target DLQ's own name as <queue>", async () => {
            const r = await h.run(["dlq", "inspect", "route-dlq", "--local", local.url]);
            expect(r.stdout).to.include("DLQ route-dlq of analytics (EventBridge target DLQ): read 2 messages");
        });

        it("redrive --target-dlq --only-valid moves only the valid events back to the queue", async () => {
            const r = await h.run(["dlq", "redrive", "analytics", "--target-dlq", "--only-valid", "--local", local.url, "--json"]);
            const post = local.requests.find((q) => q.method === "POST")!;
            expect([post.path, post.body]).to.deep.equal(["/_local/queues/analytics/redrive?target=route-dlq", { messageIds: ["t1"] }]);
            expect(r.json()).to.include({ dlq: "route-dlq", moved: 1, expected: 1, left: 1 });
            expect(local.dlqs["route-dlq"].messages.map((m) => m.messageId)).to.deep.equal(["t2"]);
            expect(local.dlqs.analytics.messages).to.have.length(3);
        });

        it("redrive --target-dlq without --only-valid is refused as on AWS, moving nothing", async () => {
            const r = await h.run(["dlq", "redrive", "analytics", "--target-dlq", "--local", local.url]);
            expect(r.code).to.equal(1);
            expect(r.stderr).to.include("route-dlq is the DLQ of an EventBridge target").and.include("use `--only-valid`");
            expect(local.requests.filter((q) => q.method === "POST")).to.deep.equal([]);
        });

        it("asks to name one when the queue has several target DLQs (exit 2)", async () => {
            local.state.queues[0].targetDlqs.push({ name: "other-route-dlq", visible: 0 });
            const r = await h.run(["dlq", "inspect", "analytics", "--target-dlq", "--local", local.url]);
            expect(r.code).to.equal(2);
            expect(r.stderr).to.include("has 2 target DLQs, one per route: name one instead of the queue: route-dlq, other-route-dlq");
        });

        it("says so when the queue has no target DLQ", async () => {
            local.state.queues[0].targetDlqs = [];
            const r = await h.run(["dlq", "inspect", "analytics", "--target-dlq", "--local", local.url]);
            expect(r.code).to.equal(1);
            expect(r.stderr).to.include('Local queue "analytics" has no EventBridge target DLQ');
        });

        it("refuses a runtime that answers with another DLQ than the target DLQ (exit 2), moving nothing", async () => {
            local.routes["GET /_local/queues/analytics/dlq?target=route-dlq"] = () => [200, local.dlqs.analytics];
            const r = await h.run(["dlq", "redrive", "analytics", "--target-dlq", "--only-valid", "--local", local.url]);
            expect(r.code).to.equal(2);
            expect(r.stderr).to.include("answered with analytics-dlq, not the target DLQ route-dlq");
            expect(local.requests.filter((q) => q.method === "POST")).to.deep.equal([]);
        });
    });

    it("refuses --stack naming another stack than the runtime's (exit 2), naming both", async () => {
        const r = await h.run(["dlq", "inspect", "analytics", "--stack", "prod", "--local", local.url]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include(`--stack prod, but the local runtime at ${local.url} runs stack "dev"`);
        expect(local.requests.map((q) => q.path)).to.deep.equal(["/_local/state"]);
    });

    it("says no local runtime answers at a URL nobody listens on (exit 2)", async () => {
        await local.stop();
        const r = await h.run(["dlq", "inspect", "analytics", "--local", local.url]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include(`No local runtime answers at ${local.url}`);
    });
});
