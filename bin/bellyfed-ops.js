#!/usr/bin/env node
// The `bellyfed-ops` bin: the compiled CLI when a build produced it (dist/ops/cli.js), otherwise the
// TypeScript source through ts-node (transpile only), as `npm run ops` does in a checkout.
"use strict";
const fs = require("fs");
const path = require("path");

const compiled = path.join(__dirname, "..", "dist", "ops", "cli.js");
if (fs.existsSync(compiled)) {
    run(require(compiled));
} else {
    try {
        require("ts-node/register/transpile-only");
    } catch {
        process.stderr.write("bellyfed-ops: no build (dist/ops/cli.js) and no ts-node to run the source; run `npm ci` (or `npm run build`) first\n");
        process.exit(2);
    }
    run(require(path.join(__dirname, "..", "ops", "cli.ts")));
}

function run(cli) {
    const controller = new AbortController();
    let interrupted = 0;
    process.on("SIGINT", () => {
        if (++interrupted > 1) process.exit(130);
        controller.abort();
    });
    cli.runOps(process.argv.slice(2), { signal: controller.signal }).then((code) => process.exit(code));
}
