import { createHash } from "crypto";

/** Where the mock engine pretends to deploy. Deterministic so plans diff cleanly between runs. */
export interface MockAccount {
    region: string;
    accountId: string;
}

export const DEFAULT_MOCK_ACCOUNT: MockAccount = { region: "us-east-1", accountId: "123456789012" };

/**
 * The state AWS (through the provider) would give a resource: its inputs plus the attributes other
 * resources reference (`id`, `arn`, `name`, `url`, ...). Physical names imitate Pulumi auto-naming
 * (logical name + 7 characters) but are derived from a hash, so every run gives the same ARNs.
 */
export function mockResourceState(
    type: string,
    logicalName: string,
    inputs: Record<string, any>,
    account: MockAccount = DEFAULT_MOCK_ACCOUNT,
): { id: string; state: Record<string, any> } {
    const { region, accountId } = account;
    const suffix = createHash("sha1").update(`${type}::${logicalName}`).digest("hex").slice(0, 7);
    const autoName = (max = 64, ext = "") => `${logicalName.slice(0, max - 8 - ext.length)}-${suffix}${ext}`;
    const named = (key = "name", max = 64, ext = "") => (inputs[key] as string | undefined) ?? autoName(max, ext);
    const arn = (service: string, resource: string, withRegion = true) =>
        `arn:aws:${service}:${withRegion ? region : ""}:${accountId}:${resource}`;
    const state: Record<string, any> = { ...inputs };
    let id = `${logicalName}-${suffix}`;

    switch (type) {
        case "aws:sqs/queue:Queue": {
            const name = named("name", 80, inputs.fifoQueue ? ".fifo" : "");
            const url = `https://sqs.${region}.amazonaws.com/${accountId}/${name}`;
            Object.assign(state, { name, arn: arn("sqs", name), url });
            id = url;
            break;
        }
        case "aws:dynamodb/table:Table": {
            const name = named("name", 255);
            Object.assign(state, { name, arn: arn("dynamodb", `table/${name}`), streamArn: undefined });
            id = name;
            break;
        }
        case "aws:lambda/function:Function": {
            const name = named("name", 64);
            const fnArn = arn("lambda", `function:${name}`);
            Object.assign(state, {
                name,
                arn: fnArn,
                qualifiedArn: `${fnArn}:$LATEST`,
                invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${fnArn}/invocations`,
            });
            id = name;
            break;
        }
        case "aws:iam/role:Role": {
            const name = named("name", 64);
            Object.assign(state, { name, arn: arn("iam", `role/${name}`, false), uniqueId: `AROA${suffix.toUpperCase()}` });
            id = name;
            break;
        }
        case "aws:iam/policy:Policy": {
            const name = named("name", 128);
            Object.assign(state, { name, arn: arn("iam", `policy/${name}`, false) });
            id = state.arn;
            break;
        }
        case "aws:iam/rolePolicy:RolePolicy": {
            const name = named("name", 128);
            Object.assign(state, { name });
            id = `${inputs.role}:${name}`;
            break;
        }
        case "aws:cloudwatch/eventBus:EventBus": {
            const name = named("name", 256);
            Object.assign(state, { name, arn: arn("events", `event-bus/${name}`) });
            id = name;
            break;
        }
        case "aws:cloudwatch/eventRule:EventRule": {
            const name = named("name", 64);
            const bus = inputs.eventBusName as string | undefined;
            const resource = bus && bus !== "default" ? `rule/${bus}/${name}` : `rule/${name}`;
            Object.assign(state, { name, arn: arn("events", resource) });
            id = bus && bus !== "default" ? `${bus}/${name}` : name;
            break;
        }
        case "aws:cloudwatch/eventArchive:EventArchive": {
            const name = named("name", 48);
            Object.assign(state, { name, arn: arn("events", `archive/${name}`) });
            id = name;
            break;
        }
        case "aws:cloudwatch/eventTarget:EventTarget": {
            const targetId = (inputs.targetId as string | undefined) ?? autoName(64);
            Object.assign(state, { targetId });
            id = `${inputs.eventBusName ?? "default"}/${inputs.rule}/${targetId}`;
            break;
        }
        case "aws:cloudwatch/logGroup:LogGroup": {
            const name = named("name", 512);
            Object.assign(state, { name, arn: arn("logs", `log-group:${name}`) });
            id = name;
            break;
        }
        case "aws:cloudwatch/metricAlarm:MetricAlarm": {
            const name = named("name", 255);
            Object.assign(state, { name, arn: arn("cloudwatch", `alarm:${name}`) });
            id = name;
            break;
        }
        case "aws:cloudwatch/dashboard:Dashboard": {
            const name = inputs.dashboardName as string;
            Object.assign(state, { dashboardArn: arn("cloudwatch", `dashboard/${name}`, false) });
            id = name;
            break;
        }
        case "aws:sns/topic:Topic": {
            const name = named("name", 256, inputs.fifoTopic ? ".fifo" : "");
            Object.assign(state, { name, arn: arn("sns", name) });
            id = state.arn;
            break;
        }
        case "aws:sns/topicSubscription:TopicSubscription": {
            Object.assign(state, { arn: `${inputs.topic}:${suffix}` });
            id = state.arn;
            break;
        }
        case "aws:kms/key:Key": {
            // A single-Region key id (a UUID); the mrk- prefix would mark a multi-Region key, which no
            // component creates.
            const hex = createHash("sha1").update(`${type}::${logicalName}`).digest("hex");
            const keyId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
            Object.assign(state, { keyId, arn: arn("kms", `key/${keyId}`) });
            id = keyId;
            break;
        }
        case "aws:kms/alias:Alias": {
            const name = named("name", 256);
            Object.assign(state, { name, arn: arn("kms", name) });
            id = name;
            break;
        }
        case "aws:apigatewayv2/api:Api": {
            const apiId = suffix.padEnd(10, "0");
            Object.assign(state, {
                apiEndpoint: `https://${apiId}.execute-api.${region}.amazonaws.com`,
                executionArn: arn("execute-api", apiId),
                arn: `arn:aws:apigateway:${region}::/apis/${apiId}`,
            });
            id = apiId;
            break;
        }
        case "aws:apigatewayv2/stage:Stage": {
            const stageName = inputs.name as string;
            const base = `https://${inputs.apiId}.execute-api.${region}.amazonaws.com`;
            Object.assign(state, {
                invokeUrl: stageName === "$default" ? `${base}/` : `${base}/${stageName}`,
                executionArn: `${arn("execute-api", String(inputs.apiId))}/${stageName}`,
                arn: `arn:aws:apigateway:${region}::/apis/${inputs.apiId}/stages/${stageName}`,
            });
            id = stageName;
            break;
        }
        case "aws:lambda/eventSourceMapping:EventSourceMapping": {
            id = `esm-${suffix}`;
            Object.assign(state, { uuid: id, arn: arn("lambda", `event-source-mapping:${id}`) });
            break;
        }
        // Other types (Integration, Route, Permission, QueuePolicy, RedriveAllowPolicy, TopicPolicy,
        // policy attachments, ...) have no name attribute: their state is their inputs and an id.
    }
    return { id, state };
}

/** Answers the data-source calls the program makes, with the mock account. */
export function mockCall(token: string, inputs: Record<string, any>, account: MockAccount = DEFAULT_MOCK_ACCOUNT): Record<string, any> {
    switch (token) {
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: account.accountId, arn: `arn:aws:iam::${account.accountId}:user/mock`, userId: "AIDAMOCK", id: account.accountId };
        case "aws:index/getRegion:getRegion":
            return { name: account.region, region: account.region, id: account.region, description: "mock region" };
        case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
        default:
            return inputs;
    }
}
