#!/usr/bin/env node
// The `bellyfed-ops` bin: runs the TypeScript source (ops/cli.ts) through ts-node (transpile only) with
// the project's tsconfig, as `npm run ops` does, so it works from a checkout after `npm ci`. Nothing
// compiles the CLI: `npm run build` (tsconfig.build.json) builds only the component library, which is
// all the published package ships.
"use strict";
const fs = require("fs");
const path = require("path");

const source = path.join(__dirname, "..", "ops", "cli.ts");
if (!fs.existsSync(source)) {
    fail("this installation has no ops/cli.ts (the published package ships the component library only); run the CLI from a checkout of the repository (npm run ops -- --help)");
}
// The project's own tsconfig, whatever directory the command runs from.
process.env.TS_NODE_PROJECT = process.env.TS_NODE_PROJECT || path.join(__dirname, "..", "tsconfig.json");
try {
    require("ts-node/register/transpile-only");
} catch {
    fail("ts-node is needed to run ops/cli.ts; run `npm ci` in the repository first");
}
run(require(source));

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
