/**
 * The Bellyfed CrossGuard policy pack. Run by the Pulumi CLI, never imported:
 *
 *   pulumi preview --stack dev --policy-pack policy/pack
 *
 * Constructing the PolicyPack starts the gRPC server the CLI talks to; the policies themselves live
 * in ./policies (built from ../rules.ts, the same rules as the offline plan's `violations`).
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("bellyfed", {
    description: "Bellyfed platform policies: least privilege, log retention, encryption at rest.",
    enforcementLevel: "mandatory",
    policies,
});
