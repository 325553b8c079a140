import { ChildProcess, spawn } from "child_process";
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { LOCK_FILE, lockDataDir } from "../../local/dataLock";
import { LocalDataError } from "../../local/dynamo";

/** A live process that is not a local runtime: what a reused pid points to after a restart. */
function otherProcess(): ChildProcess {
    return spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
}

/** A server that answers GET /_local/state with `state` (another runtime, or something else on the recorded port). */
async function stateServer(status: number, state: unknown): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer((_req, res) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(state));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A URL nothing listens on. */
async function deadUrl(): Promise<string> {
    const server = await stateServer(200, {});
    await server.close();
    return server.url;
}

describe("data folder lock (one runtime per data folder)", function () {
    this.timeout(10_000);
    let dataDir: string;
    let other: ChildProcess | undefined;
    const writeLock = (lock: object) => fs.writeFileSync(path.join(dataDir, LOCK_FILE), JSON.stringify(lock));
    const me = { url: "http://127.0.0.1:1", stack: "dev" };
    beforeEach(() => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bellyfed-lock-"));
    });
    afterEach(() => {
        other?.kill();
        other = undefined;
        fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it("takes over a lock whose pid now belongs to another process that does not answer as a runtime (a pid reused after a restart)", async () => {
        other = otherProcess();
        writeLock({ pid: other.pid, url: await deadUrl(), since: "2026-03-01T00:00:00.000Z" });
        const lock = await lockDataDir(dataDir, me);
        expect(lock.stale).to.deep.include({ pid: other.pid, since: "2026-03-01T00:00:00.000Z" });
        expect(JSON.parse(fs.readFileSync(path.join(dataDir, LOCK_FILE), "utf8")).pid).to.equal(process.pid);
        lock.release();
        expect(fs.existsSync(path.join(dataDir, LOCK_FILE))).to.equal(false);
    });

    it("takes over a lock with this process's own pid that no runtime of this process holds (a container restart)", async () => {
        writeLock({ pid: process.pid, url: me.url, since: "2026-03-01T00:00:00.000Z" });
        expect((await lockDataDir(dataDir, me)).stale?.pid).to.equal(process.pid);
    });

    it("takes over a lock whose URL answers as a runtime of another data folder", async () => {
        other = otherProcess();
        const elsewhere = await stateServer(200, { stack: "dev", dataDir: os.tmpdir() });
        try {
            writeLock({ pid: other.pid, url: elsewhere.url });
            expect((await lockDataDir(dataDir, me)).stale?.pid).to.equal(other.pid);
        } finally {
            await elsewhere.close();
        }
    });

    it("refuses a folder whose owner is alive and answers as a runtime of this folder, naming it and the file to delete", async () => {
        other = otherProcess();
        const owner = await stateServer(200, { stack: "dev", dataDir });
        try {
            writeLock({ pid: other.pid, url: owner.url });
            const error = await lockDataDir(dataDir, me).catch((e) => e);
            expect(error).to.be.instanceOf(LocalDataError);
            expect(error.message).to.equal(
                `The data folder ${path.relative(process.cwd(), dataDir)} is in use by another local runtime (pid ${other.pid}, ${owner.url}). Stop it, or start this one with --memory. ` +
                    `If you are sure no runtime uses the folder, delete ${path.relative(process.cwd(), path.join(dataDir, LOCK_FILE))} and start again.`,
            );
        } finally {
            await owner.close();
        }
    });

    it("refuses a folder whose owner is still starting (it answers 503 until it serves)", async () => {
        other = otherProcess();
        const starting = await stateServer(503, { message: "The local runtime is starting" });
        try {
            writeLock({ pid: other.pid, url: starting.url });
            expect(await lockDataDir(dataDir, me).catch((e) => e)).to.be.instanceOf(LocalDataError);
        } finally {
            await starting.close();
        }
    });

    it("refuses a folder another runtime of this process holds", async () => {
        const first = await lockDataDir(dataDir, me);
        try {
            expect(await lockDataDir(dataDir, me).catch((e) => e)).to.be.instanceOf(LocalDataError);
        } finally {
            first.release();
        }
    });
});
