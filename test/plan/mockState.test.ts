import { expect } from "chai";
import { mockResourceState } from "../../plan/mockState";

describe("mock resource state (plan/mockState.ts)", () => {
    it("gives types without a name attribute no made-up name", () => {
        const types = [
            "aws:apigatewayv2/integration:Integration",
            "aws:apigatewayv2/route:Route",
            "aws:lambda/permission:Permission",
            "aws:sqs/queuePolicy:QueuePolicy",
            "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
        ];
        const named = types.filter((type) => "name" in mockResourceState(type, "thing", { apiId: "a" }).state);
        expect(named).to.deep.equal([]);
    });

    it("keeps the inputs and gives an id to a type it does not model", () => {
        const { id, state } = mockResourceState("aws:lambda/permission:Permission", "invoke", { principal: "apigateway.amazonaws.com" });
        expect(state).to.deep.equal({ principal: "apigateway.amazonaws.com" });
        expect(id).to.match(/^invoke-[0-9a-f]{7}$/);
    });

    it("gives a KMS key a single-Region key id (a UUID, no mrk- multi-Region prefix), the same on every run", () => {
        const key = mockResourceState("aws:kms/key:Key", "alarms-key", {});
        expect(key.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(key.state.arn).to.equal(`arn:aws:kms:us-east-1:123456789012:key/${key.id}`);
        expect(mockResourceState("aws:kms/key:Key", "alarms-key", {}).id).to.equal(key.id);
        expect(mockResourceState("aws:kms/key:Key", "other-key", {}).id).to.not.equal(key.id);
    });
});
