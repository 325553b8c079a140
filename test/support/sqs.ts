import type { SQSEvent, SQSRecord } from "aws-lambda";
import { EVENT_TYPES, EventName } from "../../handlers/events/catalog";

/** The EventBridge envelope a rule delivers to an SQS target (the message body, as JSON). */
export function eventEnvelope(name: EventName, detail: unknown, id = "evt-1", time = "2026-03-01T12:00:00Z"): Record<string, unknown> {
    return {
        version: "0",
        id,
        "detail-type": EVENT_TYPES[name].detailType,
        source: EVENT_TYPES[name].source,
        account: "123456789012",
        time,
        region: "us-east-1",
        resources: [],
        detail,
    };
}

/** One SQS record as the Lambda event source mapping delivers it; `body` objects are JSON-encoded. */
export function sqsRecord(messageId: string, body: unknown, options: { receiveCount?: number; queueArn?: string } = {}): SQSRecord {
    return {
        messageId,
        receiptHandle: `receipt-${messageId}`,
        body: typeof body === "string" ? body : JSON.stringify(body),
        attributes: {
            ApproximateReceiveCount: String(options.receiveCount ?? 1),
            SentTimestamp: "1772366400000",
            SenderId: "AIDAEVENTBRIDGE",
            ApproximateFirstReceiveTimestamp: "1772366400000",
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: options.queueArn ?? "arn:aws:sqs:us-east-1:123456789012:analytics-queue",
        awsRegion: "us-east-1",
    };
}

/** A batch of SQS records. */
export function sqsEvent(...records: SQSRecord[]): SQSEvent {
    return { Records: records };
}
