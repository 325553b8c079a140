/**
 * One local runtime per data folder: `<dataDir>/runtime.lock` holds the owner's pid, URL and start
 * time. A lock is held only while a runtime serving that folder answers behind it; anything else is
 * a lock left by a runtime that did not stop cleanly (killed, crashed, power lost), taken over and
 * reported as such.
 */
import * as fs from "fs";
import * as path from "path";
import { LocalDataError } from "./dynamo";

export const LOCK_FILE = "runtime.lock";
/** How long the owner named in a lock has to answer `GET /_local/state` before the lock counts as stale. */
export const LOCK_PROBE_TIMEOUT_MS = 3000;

/** The runtime that held a data folder and stopped without releasing it (killed, crashed, power lost). */
export interface StaleLock {
    pid?: number;
    url?: string;
    /** When that runtime started (ISO time), if the lock said. */
    since?: string;
}

/** Lock files held by runtimes of this process (tests run several): our own pid in a lock means "ours" only if listed here. */
const heldHere = new Set<string>();

/**
 * Takes the data folder for this process. The lock in it is held, and this start refused with an
 * error naming the owner and the file to delete, only if all of these hold:
 * - its pid is alive and is not this process's (a pid is reused after a restart, a container's
 *   often by the very process that starts now), unless a runtime of this process holds it;
 * - its URL answers `GET /_local/state` within LOCK_PROBE_TIMEOUT_MS as a local runtime of the same
 *   data folder (or, from a runtime that does not say its folder, of the same stack), or as one that
 *   is still starting.
 * Anything else is a lock left behind: it is taken over and returned as `stale`, so the caller can
 * say that the previous runtime did not stop cleanly. Returns the release function.
 */
export async function lockDataDir(dataDir: string, owner: { url: string; stack: string }, options: { probeTimeoutMs?: number } = {}): Promise<{ release: () => void; stale?: StaleLock }> {
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.resolve(dataDir, LOCK_FILE);
    const mine = { pid: process.pid, url: owner.url, since: new Date().toISOString() };
    const content = JSON.stringify(mine);
    let stale: StaleLock | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
        try {
            fs.writeFileSync(file, content, { flag: "wx" });
            heldHere.add(file);
            const release = () => {
                heldHere.delete(file);
                // Only our own lock: another runtime may have taken the folder over since.
                const current = readLock(file);
                if (current.pid === mine.pid && current.since === mine.since) fs.rmSync(file, { force: true });
            };
            return { release, stale };
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        }
        const holder = readLock(file);
        if (await isHeld(holder, file, dataDir, owner.stack, options.probeTimeoutMs ?? LOCK_PROBE_TIMEOUT_MS)) {
            const shown = path.relative(process.cwd(), dataDir) || dataDir;
            throw new LocalDataError(
                `The data folder ${shown} is in use by another local runtime (pid ${holder.pid}, ${holder.url ?? "unknown URL"}). Stop it, or start this one with --memory. ` +
                    `If you are sure no runtime uses the folder, delete ${path.relative(process.cwd(), file) || file} and start again.`,
            );
        }
        stale = holder;
        fs.rmSync(file, { force: true });
    }
    throw new LocalDataError(`could not take the data folder ${dataDir} (${file})`);
}

function readLock(file: string): StaleLock {
    try {
        const parsed = JSON.parse(fs.readFileSync(file, "utf8"));
        return {
            pid: typeof parsed?.pid === "number" ? parsed.pid : undefined,
            url: typeof parsed?.url === "string" ? parsed.url : undefined,
            since: typeof parsed?.since === "string" ? parsed.since : undefined,
        };
    } catch {
        return {}; // unreadable (cut short by the crash): stale, owner unknown
    }
}

async function isHeld(holder: StaleLock, file: string, dataDir: string, stack: string, timeoutMs: number): Promise<boolean> {
    if (!holder.pid || !isAlive(holder.pid)) return false;
    if (holder.pid === process.pid) return heldHere.has(file);
    if (!holder.url) return false;
    return answersAsOwner(holder.url, dataDir, stack, timeoutMs);
}

function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** Whether `url` answers as a local runtime of this data folder (or stack), or one still starting. */
async function answersAsOwner(url: string, dataDir: string, stack: string, timeoutMs: number): Promise<boolean> {
    let status: number;
    let body: unknown;
    try {
        const response = await fetch(new URL("/_local/state", url), { signal: AbortSignal.timeout(timeoutMs) });
        status = response.status;
        body = await response.json();
    } catch {
        return false; // nothing there, too slow, or not JSON: not a runtime
    }
    const doc = body as { stack?: unknown; dataDir?: unknown; message?: unknown } | null;
    if (status === 503) return doc?.message === "The local runtime is starting";
    if (status !== 200 || doc === null || typeof doc !== "object") return false;
    if (typeof doc.dataDir === "string") return sameFolder(doc.dataDir, dataDir);
    return doc.stack === stack;
}

function sameFolder(a: string, b: string): boolean {
    const real = (p: string) => {
        try {
            return fs.realpathSync(p);
        } catch {
            return path.resolve(p);
        }
    };
    return real(a) === real(b);
}
