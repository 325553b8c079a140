/**
 * Would EventBridge be allowed to deliver a rule's events to an SQS queue? On AWS a rule -> SQS
 * target only works when the queue's resource policy lets `events.amazonaws.com` call
 * `sqs:SendMessage` (normally scoped with `aws:SourceArn` = the rule's ARN) and the queue is not
 * encrypted with the AWS-managed `alias/aws/sqs` key (EventBridge cannot use it). Without that, the
 * event goes to the target's DLQ (or is lost). The local runtime applies the same check, so a
 * missing or wrongly scoped policy fails here as it would there.
 *
 * The evaluation covers what queue policies use: Allow/Deny, Principal `*` or a service, Action and
 * Resource wildcards, and the condition keys aws:SourceArn, aws:SourceAccount, aws:SecureTransport
 * with the String/Arn/Bool operators. Other condition keys are taken as satisfied.
 */

export interface DeliveryRequest {
    queueArn: string;
    ruleArn: string;
    accountId: string;
}

type Json = any;

const asList = (value: Json): Json[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]);

function wildcard(pattern: string, value: string, caseInsensitive = false): boolean {
    const regex = new RegExp(`^${pattern.split("*").map((p) => p.split("?").map((q) => q.replace(/[.+^${}()|[\]\\]/g, "\\$&")).join(".")).join(".*")}$`, caseInsensitive ? "i" : "");
    return regex.test(value);
}

function principalMatches(principal: Json): boolean {
    if (principal === "*") return true;
    if (principal && typeof principal === "object") {
        if (asList(principal.AWS).includes("*")) return true;
        return asList(principal.Service).includes("events.amazonaws.com");
    }
    return false;
}

function conditionHolds(condition: Json, request: DeliveryRequest): boolean {
    const context: Record<string, string> = {
        "aws:sourcearn": request.ruleArn,
        "aws:sourceaccount": request.accountId,
        "aws:securetransport": "true",
    };
    for (const [rawOperator, block] of Object.entries<Json>(condition ?? {})) {
        const ifExists = rawOperator.endsWith("IfExists");
        const operator = ifExists ? rawOperator.slice(0, -"IfExists".length) : rawOperator;
        for (const [rawKey, expected] of Object.entries<Json>(block ?? {})) {
            const actual = context[rawKey.toLowerCase()];
            if (actual === undefined) continue; // a key EventBridge deliveries do not carry: not judged here
            const values = asList(expected).map(String);
            let ok: boolean;
            switch (operator) {
                case "StringEquals":
                case "ArnEquals":
                    ok = values.includes(actual);
                    break;
                case "StringNotEquals":
                case "ArnNotEquals":
                    ok = !values.includes(actual);
                    break;
                case "StringEqualsIgnoreCase":
                    ok = values.some((v) => v.toLowerCase() === actual.toLowerCase());
                    break;
                case "StringLike":
                case "ArnLike":
                    ok = values.some((v) => wildcard(v, actual));
                    break;
                case "StringNotLike":
                case "ArnNotLike":
                    ok = !values.some((v) => wildcard(v, actual));
                    break;
                case "Bool":
                    ok = values.some((v) => v.toLowerCase() === actual);
                    break;
                default:
                    ok = true;
            }
            if (!ok) return false;
        }
    }
    return true;
}

function statementApplies(statement: Json, request: DeliveryRequest): boolean {
    if (statement.NotPrincipal !== undefined || statement.NotAction !== undefined || statement.NotResource !== undefined) return false;
    if (!principalMatches(statement.Principal)) return false;
    if (!asList(statement.Action).some((a) => wildcard(String(a), "sqs:SendMessage", true))) return false;
    if (!asList(statement.Resource).some((r) => wildcard(String(r), request.queueArn))) return false;
    return conditionHolds(statement.Condition, request);
}

/**
 * Why EventBridge may not send this rule's events to the queue, or undefined when it may.
 * `policies` are the queue's policy documents (parsed JSON).
 */
export function eventBridgeDeliveryDenied(policies: Json[], kmsMasterKeyId: string | undefined, request: DeliveryRequest): string | undefined {
    if (kmsMasterKeyId === "alias/aws/sqs" || /:alias\/aws\/sqs$/.test(kmsMasterKeyId ?? "")) {
        return "the queue is encrypted with the AWS-managed key alias/aws/sqs, which EventBridge cannot use";
    }
    const statements = policies.flatMap((p) => asList(p?.Statement));
    if (statements.some((s) => s.Effect === "Deny" && statementApplies(s, request))) {
        return `a Deny statement of the queue policy matches events.amazonaws.com sending for ${request.ruleArn}`;
    }
    if (!statements.some((s) => s.Effect === "Allow" && statementApplies(s, request))) {
        return `no statement of the queue policy allows events.amazonaws.com to sqs:SendMessage for aws:SourceArn ${request.ruleArn}`;
    }
    return undefined;
}
