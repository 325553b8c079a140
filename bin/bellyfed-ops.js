#!/usr/bin/env node
// The `bellyfed-ops` bin (the ops CLI, ops/cli.ts).
// - Installed from the package: runs the compiled CLI, dist/ops/cli.js (`npm run build` compiles it
//   with tsconfig.build.json; the package ships it).
// - In a checkout (ops/cli.ts next to this file, after `npm ci`): runs the TypeScript source through
//   ts-node (transpile only) with the project's tsconfig, as `npm run ops` does, so it never runs a
//   stale build. Without ts-node (a production install of the checkout) it falls back to dist/.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const source = path.join(root, "ops", "cli.ts");
const compiled = path.join(root, "dist", "ops", "cli.js");

if (fs.existsSync(source) && resolvable("ts-node/register/transpile-only")) {
    // The project's own tsconfig, whatever directory the command runs from.
    process.env.TS_NODE_PROJECT = process.env.TS_NODE_PROJECT || path.join(root, "tsconfig.json");
    require("ts-node/register/transpile-only");
    require(source).main();
} else if (fs.existsSync(compiled)) {
    require(compiled).main();
} else {
    process.stderr.write(
        `bellyfed-ops: neither ${path.relative(process.cwd(), compiled)} nor ts-node to run ops/cli.ts: run \`npm ci\` (or \`npm run build\`) in the repository first\n`,
    );
    process.exit(2);
}

function resolvable(id) {
    try {
        require.resolve(id, { paths: [root] });
        return true;
    } catch {
        return false;
    }
}
