#!/usr/bin/env node
// The `bellyfed-ops` bin: the compiled CLI when a build produced it (dist/ops/cli.js), otherwise the
// TypeScript source through ts-node (transpile only), as `npm run ops` does in a checkout.
"use strict";
const fs = require("fs");
const path = require("path");

const compiled = path.join(__dirname, "..", "dist", "ops", "cli.js");
const source = path.join(__dirname, "..", "ops", "cli.ts");
if (fs.existsSync(compiled)) {
    run(require(compiled));
} else if (!fs.existsSync(source)) {
    fail("this installation has neither dist/ops/cli.js nor ops/cli.ts; run the CLI from a checkout of the repository (npm run ops -- --help)");
} else {
    // The project's own tsconfig, whatever directory the command runs from.
    process.env.TS_NODE_PROJECT = process.env.TS_NODE_PROJECT || path.join(__dirname, "..", "tsconfig.json");
    try {
        require("ts-node/register/transpile-only");
    } catch {
        fail("no build (dist/ops/cli.js) and no ts-node to run ops/cli.ts; run `npm ci` in the repository first");
    }
    run(require(source));
}

function fail(message) {
    process.stderr.write(`bellyfed-ops: ${message}\n`);
    process.exit(2);
}

function run(cli) {
    const controller = new AbortController();
    let interrupted = 0;
    process.on("SIGINT", () => {
        if (++interrupted > 1) process.exit(130);
        controller.abort();
    });
    // Exit only once stdout/stderr are flushed: a piped --json document must arrive whole.
    cli.runOps(process.argv.slice(2), { signal: controller.signal }).then((code) =>
        process.stdout.write("", () => process.stderr.write("", () => process.exit(code))),
    );
}
