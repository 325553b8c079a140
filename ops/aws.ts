import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SQSClient } from "@aws-sdk/client-sqs";
import { EXIT_FAILED, EXIT_USAGE, OpsError } from "./errors";
import { networkCode } from "./retry";

export interface AwsClients {
    sqs: SQSClient;
    eventBridge: EventBridgeClient;
    cloudWatch: CloudWatchClient;
}

export interface ClientOptions {
    region?: string;
    endpoint?: string;
    /** Static credentials (the local runtime's endpoints accept any); default: the SDK's chain. */
    credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * SDK clients with the standard credential chain and region resolution. The SDK's own retries are
 * turned off (maxAttempts 1): `withRetry` (retry.ts) is the one bounded retry loop, so the number of
 * attempts is what it says, calls that are not safe to repeat are never repeated, and tests see every attempt.
 */
export function createClients(options: ClientOptions, given: Partial<AwsClients> = {}): AwsClients {
    const config = { region: options.region, endpoint: options.endpoint, credentials: options.credentials, maxAttempts: 1 };
    return {
        sqs: given.sqs ?? new SQSClient(config),
        eventBridge: given.eventBridge ?? new EventBridgeClient(config),
        cloudWatch: given.cloudWatch ?? new CloudWatchClient(config),
    };
}

const NO_CREDENTIALS =
    "no AWS credentials found in the standard chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws config or SSO, " +
    "container or instance role). Log in (e.g. `aws sso login --profile NAME` then AWS_PROFILE=NAME), or use --local <url> for the local runtime";

/** Turns an SDK or network error into the operator's message and exit code. */
export function describeError(error: unknown): OpsError {
    if (error instanceof OpsError) return error;
    const e = error as { name?: string; message?: string; opsOperation?: string; $metadata?: unknown; cause?: { code?: string } };
    const name = e?.name ?? "Error";
    const message = e?.message ?? String(error);
    const where = e?.opsOperation ? `${e.opsOperation}: ` : "";
    if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message)) return new OpsError(`Missing credentials: ${NO_CREDENTIALS}`, EXIT_USAGE);
    if (/Region is missing/i.test(message)) return new OpsError("No AWS region: pass --region REGION or set AWS_REGION (or a region in your AWS profile)", EXIT_USAGE);
    if (name === "ExpiredToken" || name === "ExpiredTokenException" || name === "InvalidClientTokenId" || name === "UnrecognizedClientException") {
        return new OpsError(`${where}the AWS credentials were rejected (${name}): refresh them (e.g. \`aws sso login\`) and run the command again`, EXIT_USAGE);
    }
    if (name === "AccessDenied" || name === "AccessDeniedException" || name === "AuthorizationError") {
        return new OpsError(`${where}access denied: the caller's IAM policy must allow this action (${message})`, EXIT_FAILED);
    }
    if (name === "QueueDoesNotExist" || name === "AWS.SimpleQueueService.NonExistentQueue") {
        return new OpsError(`${where}the queue does not exist (deleted, or another account/region: check --region)`, EXIT_FAILED);
    }
    const code = networkCode(error);
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN") {
        return new OpsError(`${where}cannot connect (${code}): ${message}; check the network, --region and --endpoint-url`, EXIT_USAGE);
    }
    if (e?.$metadata) return new OpsError(`${where}${name}: ${message}`, EXIT_FAILED);
    return new OpsError(`${where}${message}`, EXIT_FAILED);
}
