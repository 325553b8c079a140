import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./stacks/config";
import { createPlatform } from "./stacks/platform";

// Config is validated first: a bad value stops the program before any resource is registered.
const platform = createPlatform(pulumi.getStack(), loadStackConfig());

export = platform.outputs;
