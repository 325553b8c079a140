import { expect } from "chai";
import { LIBRARY_PACKAGE_NAME, ServerlessFunction } from "../../components";
import { Graph, json, programGraph } from "../support/graph";

describe("ServerlessFunction", () => {
    let graph: Graph;
    let slimCodePaths: { extraExcludePackages?: string[] } | undefined;
    before(async () => {
        graph = await programGraph(() => {
            new ServerlessFunction("worker", {
                callbackFactory: () => async () => "ok",
                timeoutSeconds: 42,
                logRetentionDays: 7,
                environment: { TABLE: "t" },
                policyStatements: [{ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: "arn:aws:sqs:us-east-1:1:q" }],
                transforms: { function: (args) => ({ ...args, description: "transformed" }) },
            });
            new ServerlessFunction("slim", {
                callbackFactory: () => async () => "ok",
                excludePackages: ["zod"],
                transforms: {
                    function: (args) => {
                        slimCodePaths = args.codePathOptions;
                        return args;
                    },
                },
            });
        });
    });

    it("uses its own role, not CallbackFunction's FullAccess default", () => {
        expect(graph.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).to.have.length(0);
        const fn = graph.get("aws:lambda/function:Function", "worker-fn");
        expect(fn.inputs.role).to.equal(graph.get("aws:iam/role:Role", "worker-role").outputs.arn);
    });

    it("grants the given statements plus writing to its own log group only", () => {
        const doc = json(graph.get("aws:iam/rolePolicy:RolePolicy", "worker-policy").inputs.policy);
        const group = graph.get("aws:cloudwatch/logGroup:LogGroup", "worker-logs");
        expect(doc.Statement[0]).to.deep.include({ Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${group.outputs.arn}:*` });
        expect(doc.Statement[1]).to.deep.include({ Action: ["sqs:SendMessage"], Resource: "arn:aws:sqs:us-east-1:1:q" });
    });

    it("logs JSON to its log group, which has the given retention", () => {
        const fn = graph.get("aws:lambda/function:Function", "worker-fn");
        const group = graph.get("aws:cloudwatch/logGroup:LogGroup", "worker-logs");
        expect(fn.inputs.loggingConfig).to.include({ logFormat: "JSON", logGroup: group.outputs.name });
        expect(group.inputs.retentionInDays).to.equal(7);
    });

    it("runs on nodejs22.x with the given timeout and environment", () => {
        const fn = graph.get("aws:lambda/function:Function", "worker-fn");
        expect(fn.inputs).to.include({ runtime: "nodejs22.x", timeout: 42 });
        expect(fn.inputs.environment.variables).to.deep.equal({ TABLE: "t" });
    });

    it("keeps Lambda's START/REPORT platform lines (duration, memory, init duration): system log level INFO", () => {
        expect(graph.get("aws:lambda/function:Function", "worker-fn").inputs.loggingConfig).to.include({ applicationLogLevel: "INFO", systemLogLevel: "INFO" });
    });

    it("does not upload the AWS SDK, which the Lambda runtime provides", () => {
        const archive: string[] = graph.get("aws:lambda/function:Function", "worker-fn").inputs.code.archive;
        expect(archive).to.include("__index.js");
        expect(archive.filter((p) => p.startsWith("node_modules/@aws-sdk/"))).to.deep.equal([]);
    });

    it("adds excludePackages to the packages left out, still leaving out the AWS SDK", () => {
        const archive: string[] = graph.get("aws:lambda/function:Function", "slim-fn").inputs.code.archive;
        expect(archive.filter((p) => p.startsWith("node_modules/@aws-sdk/") || p === "node_modules/zod")).to.deep.equal([]);
        expect(archive).to.include("node_modules/@aws-lambda-powertools/logger");
    });

    it("leaves this library out of every archive, as the deployment-time package it is, next to the caller's exclusions", () => {
        expect(slimCodePaths?.extraExcludePackages).to.include.members([LIBRARY_PACKAGE_NAME, "zod", "@aws-sdk/client-dynamodb"]);
    });

    it("still uploads this program's own handler libraries (the library is the root package here, never excluded)", () => {
        const archive: string[] = graph.get("aws:lambda/function:Function", "worker-fn").inputs.code.archive;
        expect(archive).to.include.members(["node_modules/@aws-lambda-powertools/logger", "node_modules/@aws-lambda-powertools/metrics", "node_modules/zod"]);
    });

    it("applies the function transform", () => {
        expect(graph.get("aws:lambda/function:Function", "worker-fn").inputs.description).to.equal("transformed");
    });

    it("rejects a timeout Lambda does not allow, naming the field", () => {
        expect(() => new ServerlessFunction("bad", { callbackFactory: () => async () => 1, timeoutSeconds: 901 })).to.throw(
            'ServerlessFunction "bad": timeoutSeconds must be an integer from 1 to 900, got 901',
        );
    });
});
