import { expect } from "chai";
import { AlarmTopic, EventBus, PlatformDashboard, ProcessedQueue, QueryApi, ServerlessFunction, Table } from "../../components";
import { ALARM, programGraph } from "../support/graph";

const TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms";
const factory = () => async () => ({ statusCode: 200, body: "{}" });
const consumer = { callbackFactory: () => async () => ({ batchItemFailures: [] }) };
const route = (handler: object = {}) => ({ method: "GET" as const, path: "/x", handler: { callbackFactory: factory, ...handler } });

/**
 * Runs `build` under the mock engine and returns the error it threw and every resource it had
 * registered: a rejected argument must leave nothing behind, not even the component itself.
 */
async function rejected(build: () => void): Promise<{ message?: string; registered: string[] }> {
    let message: string | undefined;
    const graph = await programGraph(() => {
        try {
            build();
        } catch (error) {
            message = (error as Error).message;
        }
    });
    return { message, registered: graph.resources.map((r) => `${r.type}::${r.name}`) };
}

/** Expects `build` to throw exactly `message` and to register nothing. */
async function rejects(build: () => void, message: string): Promise<void> {
    const outcome = await rejected(build);
    expect(outcome).to.deep.equal({ message, registered: [] });
}

describe("component arguments are checked before anything is registered", () => {
    describe("QueryApi route handlers", () => {
        it("a handler's timeout, named as the route's handler field", async () => {
            await rejects(
                () => new QueryApi("api", { routes: { a: { ...route(), path: "/a" }, b: { ...route({ timeoutSeconds: 901 }), path: "/b" } } }),
                'QueryApi "api": routes.b.handler.timeoutSeconds must be an integer from 1 to 900, got 901',
            );
        });

        it("a handler's memory size", async () => {
            await rejects(() => new QueryApi("api", { routes: { a: route({ memorySize: 64 }) } }), 'QueryApi "api": routes.a.handler.memorySize must be an integer from 128 to 10240 (MB), got 64');
        });

        it("a handler without a callback factory", async () => {
            await rejects(() => new QueryApi("api", { routes: { a: { method: "GET", path: "/a", handler: {} as any } } }), 'QueryApi "api": routes.a.handler.callbackFactory must be a callback factory function');
        });
    });

    describe("QueryApi settings", () => {
        const api = (extra: object) => () => new QueryApi("api", { routes: { a: route() }, ...extra });

        it("a negative rate limit", async () => {
            await rejects(api({ throttling: { rateLimit: -5 } }), 'QueryApi "api": throttling.rateLimit must be a number of requests per second >= 0, got -5');
        });

        it("a burst limit that is not a whole number", async () => {
            await rejects(api({ throttling: { burstLimit: 1.5 } }), 'QueryApi "api": throttling.burstLimit must be a whole number of requests >= 0, got 1.5');
        });

        it("a log retention CloudWatch Logs does not offer", async () => {
            const { message, registered } = await rejected(api({ logRetentionDays: 15 }));
            expect(message).to.match(/^QueryApi "api": logRetentionDays must be one of CloudWatch Logs' retention values \(1, 3, 5, 7, 14, 30, .*\), got 15$/);
            expect(registered).to.deep.equal([]);
        });

        it("a CORS origin without a scheme, or with a path", async () => {
            await rejects(api({ corsAllowOrigins: ["https://ok.example", "bellyfed.com/"] }), 'QueryApi "api": corsAllowOrigins[1] must be "*" or a scheme://host[:port] origin without a path, got "bellyfed.com/"');
            await rejects(api({ corsAllowOrigins: ["https://bellyfed.com/"] }), 'QueryApi "api": corsAllowOrigins[0] must be "*" or a scheme://host[:port] origin without a path, got "https://bellyfed.com/"');
        });

        it("accepts the origins API Gateway takes: *, and scheme://host[:port]", async () => {
            const graph = await programGraph(() => new QueryApi("api", { routes: { a: route() }, corsAllowOrigins: ["*", "http://localhost:3000", "https://bellyfed.com"] }));
            expect(graph.get("aws:apigatewayv2/api:Api", "api").inputs.corsConfiguration.allowOrigins).to.deep.equal(["*", "http://localhost:3000", "https://bellyfed.com"]);
        });
    });

    describe("ServerlessFunction", () => {
        it("a memory size below Lambda's 128 MB", async () => {
            await rejects(() => new ServerlessFunction("fn", { callbackFactory: factory, memorySize: 64 }), 'ServerlessFunction "fn": memorySize must be an integer from 128 to 10240 (MB), got 64');
        });

        it("a log retention CloudWatch Logs does not offer", async () => {
            const { message, registered } = await rejected(() => new ServerlessFunction("fn", { callbackFactory: factory, logRetentionDays: 15 }));
            expect(message).to.match(/^ServerlessFunction "fn": logRetentionDays must be one of CloudWatch Logs' retention values .*, got 15$/);
            expect(registered).to.deep.equal([]);
        });

        it("alarms without the topic they notify", async () => {
            await rejects(() => new ServerlessFunction("fn", { callbackFactory: factory, alarms: { errors: { threshold: 2 } } as any }), 'ServerlessFunction "fn": alarms.topicArn is required: the SNS topic ARN the alarms notify');
        });
    });

    describe("ProcessedQueue", () => {
        it("a consumer memory size, named consumer.memorySize, before the queue component exists", async () => {
            await rejects(() => new ProcessedQueue("q", { consumer: { ...consumer, memorySize: 64 } }), 'ProcessedQueue "q": consumer.memorySize must be an integer from 128 to 10240 (MB), got 64');
        });

        it("consumer alarms (JavaScript callers), pointing to the queue's alarms and alarmTopicArn", async () => {
            await rejects(
                () => new ProcessedQueue("q", { consumer: { ...consumer, alarms: { topicArn: TOPIC } } as any, alarmTopicArn: TOPIC }),
                'ProcessedQueue "q": consumer.alarms is not taken on the consumer: the queue\'s alarms (consumerErrors, consumerThrottles, consumerDurationP99PercentOfTimeout) with alarmTopicArn set the consumer\'s alarms',
            );
        });

        it("a log retention CloudWatch Logs does not offer", async () => {
            const { message, registered } = await rejected(() => new ProcessedQueue("q", { consumer, logRetentionDays: 15 }));
            expect(message).to.match(/^ProcessedQueue "q": logRetentionDays must be one of CloudWatch Logs' retention values .*, got 15$/);
            expect(registered).to.deep.equal([]);
        });
    });

    describe("Table", () => {
        it("no partition key", async () => {
            await rejects(() => new Table("t", {} as any), 'Table "t": hashKey is required: the partition key attribute name');
        });

        it("a sort key that is the partition key", async () => {
            await rejects(() => new Table("t", { hashKey: "pk", rangeKey: "pk" }), 'Table "t": rangeKey must differ from hashKey ("pk"): a key attribute is declared once');
        });
    });

    describe("PlatformDashboard", () => {
        const dashboard = (dashboardName: string) => () => new PlatformDashboard("d", { dashboardName, rows: [{ title: "t", widgets: [] }] });

        it("a dashboard name with characters CloudWatch does not allow", async () => {
            await rejects(dashboard("bellyfed prod"), 'PlatformDashboard "d": dashboardName must be 1-255 characters of A-Z a-z 0-9 - _, got "bellyfed prod"');
        });

        it("a transform of a child the dashboard does not have", async () => {
            await rejects(
                () => new PlatformDashboard("d", { dashboardName: "d", rows: [{ title: "t", widgets: [] }], transforms: { board: (a: unknown) => a } as any }),
                'PlatformDashboard "d": transforms.board is not a child this component transforms (known: dashboard)',
            );
        });

        it("a dashboard name longer than 255 characters", async () => {
            const { message, registered } = await rejected(dashboard("d".repeat(256)));
            expect(message).to.match(/^PlatformDashboard "d": dashboardName must be 1-255 characters/);
            expect(registered).to.deep.equal([]);
        });
    });
});

describe("plain values of the wrong type (JavaScript callers) fail naming the field, quoting the value", () => {
    const fn = (extra: object) => () => new ServerlessFunction("fn", { callbackFactory: factory, ...extra } as any);

    it("a memory size given as a string", async () => {
        await rejects(fn({ memorySize: "512" }), 'ServerlessFunction "fn": memorySize must be a number, got "512"');
    });

    it("a timeout given as a string, quoted so that it never reads as a number", async () => {
        await rejects(fn({ timeoutSeconds: "30" }), 'ServerlessFunction "fn": timeoutSeconds must be an integer from 1 to 900, got "30"');
    });

    it("a log retention given as a string", async () => {
        await rejects(fn({ logRetentionDays: "14" }), 'ServerlessFunction "fn": logRetentionDays must be a number, got "14"');
    });

    it("a reserved concurrency given as a string", async () => {
        await rejects(fn({ reservedConcurrentExecutions: "5" }), 'ServerlessFunction "fn": reservedConcurrentExecutions must be a number, got "5"');
    });

    it("an environment variable that is not a string", async () => {
        await rejects(fn({ environment: { PORT: 3000 } }), 'ServerlessFunction "fn": environment.PORT must be a string, got 3000');
    });

    it("a runtime that cannot run a serialized JavaScript callback", async () => {
        await rejects(fn({ runtime: "python3.12" }), 'ServerlessFunction "fn": runtime must be a Lambda Node.js runtime (nodejs<version>.x, e.g. "nodejs22.x"), got "python3.12"');
    });

    it("excludePackages given as one string instead of a list", async () => {
        await rejects(fn({ excludePackages: "zod" }), 'ServerlessFunction "fn": excludePackages must be a list, got "zod"');
    });

    it("a transform of a child the function does not have", async () => {
        await rejects(fn({ transforms: { lambda: (a: unknown) => a } }), 'ServerlessFunction "fn": transforms.lambda is not a child this component transforms (known: role, policy, logGroup, function)');
    });

    it("a nested handler's memory size as a string, named as the route's field", async () => {
        await rejects(() => new QueryApi("api", { routes: { a: route({ memorySize: "512" }) } }), 'QueryApi "api": routes.a.handler.memorySize must be a number, got "512"');
    });

    it("a QueryApi rate limit given as a string", async () => {
        await rejects(() => new QueryApi("api", { routes: { a: route() }, throttling: { rateLimit: "50" as any } }), 'QueryApi "api": throttling.rateLimit must be a number, got "50"');
    });

    it("a ProcessedQueue's fifo given as a string (\"false\" would make a FIFO queue)", async () => {
        await rejects(() => new ProcessedQueue("q", { consumer, fifo: "false" as any }), 'ProcessedQueue "q": fifo must be true or false, got "false"');
    });

    it("a ProcessedQueue's maxReceiveCount given as a string", async () => {
        await rejects(() => new ProcessedQueue("q", { consumer, maxReceiveCount: "5" as any }), 'ProcessedQueue "q": maxReceiveCount must be an integer from 1 to 1000, got "5"');
    });

    it("an EventBus's archive retention given as a string", async () => {
        await rejects(() => new EventBus("bus", { archiveRetentionDays: "7" as any }), 'EventBus "bus": archiveRetentionDays must be a whole number of days >= 0, got "7"');
    });

    it("a Table key that is not a string", async () => {
        await rejects(() => new Table("t", { hashKey: 7 as any }), 'Table "t": hashKey must be 1-255 characters of A-Z a-z 0-9 _ . -, got 7');
    });

    it("a Table's deletion protection given as a string", async () => {
        await rejects(() => new Table("t", { hashKey: "pk", deletionProtection: "false" as any }), 'Table "t": deletionProtection must be true or false, got "false"');
    });

    it("an AlarmTopic's key deletion window given as a string", async () => {
        await rejects(() => new AlarmTopic("alarms", { keyDeletionWindowDays: "7" as any }), 'AlarmTopic "alarms": keyDeletionWindowDays must be a whole number of days from 7 to 30, got "7"');
    });

    it("an alarm threshold given as a string", async () => {
        await rejects(fn({ alarms: { topicArn: TOPIC, errors: { threshold: "2" } } }), 'ServerlessFunction "fn": alarms.errors.threshold must be a number >= 0, got "2"');
    });

    it("accepts Outputs and promises where the field is a pulumi.Input (AWS checks them at deploy time)", async () => {
        const graph = await programGraph(() => {
            new ServerlessFunction("deferred", { callbackFactory: factory, memorySize: Promise.resolve(512), logRetentionDays: Promise.resolve(30) });
        });
        expect(graph.get("aws:lambda/function:Function", "deferred-fn").inputs.memorySize).to.equal(512);
    });
});

describe("alarm settings without the topic they notify fail, naming the field (no alarm would be created)", () => {
    it("a ProcessedQueue's alarms without alarmTopicArn", async () => {
        await rejects(
            () => new ProcessedQueue("q", { consumer, alarms: { dlqMessages: { threshold: 2 } } }),
            'ProcessedQueue "q": alarmTopicArn is required when alarms are set: the SNS topic ARN the alarms notify (without it no alarm is created)',
        );
    });

    it("a route's alarms without alarmTopicArn, before any of the route's resources", async () => {
        let message: string | undefined;
        const graph = await programGraph(() => {
            const bus = new EventBus("bus");
            const queue = new ProcessedQueue("q", { consumer });
            try {
                bus.route("r", { pattern: { source: ["s"] }, queue, alarms: { targetDlqMessages: { threshold: 2 } } });
            } catch (error) {
                message = (error as Error).message;
            }
        });
        expect(message).to.equal('EventBus "bus": routes.r.alarmTopicArn is required when alarms are set: the SNS topic ARN the alarms notify (without it no alarm is created)');
        expect(graph.resources.filter((r) => r.name.startsWith("bus-r"))).to.deep.equal([]);
    });

    it("a ProcessedQueue's alarmTopicArn that is not a string", async () => {
        await rejects(() => new ProcessedQueue("q", { consumer, alarmTopicArn: 42 as any }), 'ProcessedQueue "q": alarmTopicArn must be an SNS topic ARN, got 42');
    });
});

describe("alarm settings", () => {
    const queue = (alarms: object) => () => new ProcessedQueue("q", { consumer, alarmTopicArn: TOPIC, alarms });

    it("reject datapointsToAlarm above the alarm's default evaluation periods (dlqMessages: 1)", async () => {
        await rejects(queue({ dlqMessages: { datapointsToAlarm: 3 } }), 'ProcessedQueue "q": alarms.dlqMessages.datapointsToAlarm must be an integer from 1 to evaluationPeriods (the default 1), got 3');
    });

    it("accept datapointsToAlarm within the default evaluation periods (queueDepth: 5)", async () => {
        const graph = await programGraph(queue({ queueDepth: { datapointsToAlarm: 3 } }));
        expect(graph.get(ALARM, "q-queue-depth").inputs).to.include({ evaluationPeriods: 5, datapointsToAlarm: 3 });
    });

    it("accept a 20-second period (10, 20, 30 or a multiple of 60)", async () => {
        const graph = await programGraph(queue({ dlqMessages: { periodSeconds: 20 } }));
        expect(graph.get(ALARM, "q-dlq-messages").inputs.period).to.equal(20);
    });

    it("reject an evaluation range over one day for periods under an hour", async () => {
        await rejects(
            queue({ oldestMessageAgeSeconds: { periodSeconds: 600, evaluationPeriods: 145 } }),
            'ProcessedQueue "q": alarms.oldestMessageAgeSeconds.evaluationPeriods x periodSeconds must be at most 86400 s (one day for periods under an hour), got 145 x 600 s = 87000 s',
        );
    });

    it("count the alarm's default evaluation periods in the range (queueDepth: 5)", async () => {
        await rejects(
            queue({ queueDepth: { periodSeconds: 121020 } }),
            'ProcessedQueue "q": alarms.queueDepth.evaluationPeriods x periodSeconds must be at most 604800 s (seven days), got 5 x 121020 s = 605100 s',
        );
    });

    it("accept seven days of hourly periods, and reject one more", async () => {
        const graph = await programGraph(queue({ dlqMessages: { periodSeconds: 3600, evaluationPeriods: 168 } }));
        expect(graph.get(ALARM, "q-dlq-messages").inputs).to.include({ period: 3600, evaluationPeriods: 168 });
        await rejects(
            queue({ dlqMessages: { periodSeconds: 3600, evaluationPeriods: 169 } }),
            'ProcessedQueue "q": alarms.dlqMessages.evaluationPeriods x periodSeconds must be at most 604800 s (seven days), got 169 x 3600 s = 608400 s',
        );
    });

    it("reject an alarm key the component does not have, listing the ones it has", async () => {
        await rejects(
            queue({ dlqMesages: { threshold: 2 } }),
            'ProcessedQueue "q": alarms.dlqMesages is not an alarm setting of ProcessedQueue (known: dlqMessages, oldestMessageAgeSeconds, queueDepth, consumerErrors, consumerThrottles, consumerDurationP99PercentOfTimeout)',
        );
    });

    it("reject a setting an alarm does not have", async () => {
        await rejects(queue({ dlqMessages: { treshold: 2 } }), 'ProcessedQueue "q": alarms.dlqMessages.treshold is not an alarm setting (known: enabled, threshold, evaluationPeriods, datapointsToAlarm, periodSeconds)');
    });

    it("check QueryApi's nested function alarms against the function's alarms", async () => {
        await rejects(
            () => new QueryApi("api", { routes: { a: route() }, alarms: { topicArn: TOPIC, functions: { error: { threshold: 2 } } as any } }),
            'QueryApi "api": alarms.functions.error is not an alarm setting of QueryApi (known: errors, throttles, durationP99PercentOfTimeout)',
        );
    });

    it("reject a topicArn where the component takes alarmTopicArn instead (it would be ignored)", async () => {
        await rejects(queue({ topicArn: TOPIC }), 'ProcessedQueue "q": alarms.topicArn is not an alarm setting of ProcessedQueue (known: dlqMessages, oldestMessageAgeSeconds, queueDepth, consumerErrors, consumerThrottles, consumerDurationP99PercentOfTimeout)');
    });
});
