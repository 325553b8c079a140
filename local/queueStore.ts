/**
 * Crash-safe persistence of the local queues (on-disk runtimes only).
 *
 * Two files in the data folder:
 * - `queues.json`: a snapshot, `{ "<queue name>": [ stored messages ] }`, always replaced atomically
 *   (written to a temporary file, flushed to disk, renamed over the old one);
 * - `queues.journal`: every change since that snapshot, one JSON line each (a message put on a queue,
 *   messages received, a message's visibility changed, messages deleted), appended with a synchronous
 *   write BEFORE the change is acknowledged (the PutEvents answer, the API's 200, a message id).
 *
 * Loading replays the journal over the snapshot, puts the messages back, then compacts: a new
 * snapshot of exactly what was restored, and an empty journal. A message deleted after being
 * processed is deleted in the journal too, so it never comes back; a message sent since the last
 * snapshot is in the journal, so it is never lost. Every journal entry sets state (the whole message,
 * its receive count, or its absence), so replaying a journal over a snapshot that already contains it
 * (a crash between the snapshot's rename and the journal's truncation) changes nothing.
 *
 * What a kill -9 can cost: nothing acknowledged. A message in flight at the kill comes back with
 * its receive count and its visibility: hidden until the hold its poller gave it runs out (its
 * invocation died with the process, and what that invocation left behind lasts until its deadline:
 * see timing.ts), then delivered again (SQS's at-least-once). The journal is not fsync'ed on
 * every write: an OS crash or power loss (not a process crash) can lose the writes the OS had not
 * flushed yet.
 */
import * as fs from "fs";
import * as path from "path";
import { LocalDataError } from "./dynamo";
import { LocalQueue, QueueMutation, StoredMessage } from "./queues";

export const SNAPSHOT_FILE = "queues.json";
export const JOURNAL_FILE = "queues.journal";
/** The journal is compacted into a new snapshot once it grows past this many bytes. */
export const DEFAULT_COMPACT_BYTES = 8 * 1024 * 1024;

/** What loading found: messages put back per queue, and anything set aside. */
export interface QueueRecovery {
    /** Messages put back on their queues, per queue name (queues with none are left out). */
    restored: Record<string, number>;
    /** Journal entries replayed (0 after a clean stop: the stop compacts). */
    journalEntries: number;
    /** Problems found and what was done, each naming the file (corrupt files are moved aside, never deleted). */
    warnings: string[];
}

type Journaled = QueueMutation & { q: string };

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isTime = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** Why a stored message is not one, or undefined when it is. */
function invalidMessage(m: unknown): string | undefined {
    if (!isRecord(m)) return "not an object";
    for (const key of ["messageId", "body", "md5OfBody"]) if (typeof m[key] !== "string" || m[key] === "") return `${key} is not a non-empty string`;
    for (const key of ["sentTimestamp", "receiveCount", "visibleAt"]) if (typeof m[key] !== "number" || !Number.isFinite(m[key])) return `${key} is not a number`;
    return undefined;
}

function invalidEntry(e: unknown): string | undefined {
    if (!isRecord(e) || typeof e.q !== "string") return "not a journal entry";
    switch (e.op) {
        case "put":
            return invalidMessage(e.message);
        case "received":
            return Array.isArray(e.messages) &&
                e.messages.every((m) => isRecord(m) && typeof m.messageId === "string" && typeof m.receiveCount === "number" && (m.visibleAt === undefined || isTime(m.visibleAt)))
                ? undefined
                : "received: messages is not a list of { messageId, receiveCount, visibleAt }";
        case "visibility":
            return typeof e.messageId === "string" && isTime(e.visibleAt) ? undefined : "visibility: expected { messageId, visibleAt }";
        case "delete":
            return Array.isArray(e.messageIds) && e.messageIds.every((id) => typeof id === "string") ? undefined : "delete: messageIds is not a list of strings";
        default:
            return `unknown op ${JSON.stringify(e.op)}`;
    }
}

/** `EISDIR: illegal operation on a directory, read`: a file system error in one line, without the stack. */
function describeFsError(error: unknown): string {
    return (error as Error)?.message ?? String(error);
}

/** Writes a file so that a reader (or a crash) sees the old content or the new, never a part. */
export function writeFileAtomic(file: string, content: string): void {
    const temp = `${file}.tmp-${process.pid}`;
    const fd = fs.openSync(temp, "w");
    try {
        fs.writeSync(fd, content);
        fs.fsyncSync(fd);
    } finally {
        fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
}

/** `queues.json.corrupt-2024-05-01T10-00-00-000Z` */
function asideName(file: string, what: string, now: Date): string {
    return `${file}.${what}-${now.toISOString().replace(/[:.]/g, "-")}`;
}

export class QueueStore {
    readonly snapshotFile: string;
    readonly journalFile: string;
    private fd?: number;
    private journalBytes = 0;
    private compactPending = false;
    private failedWrites = 0;

    constructor(
        readonly dir: string,
        private readonly queues: Map<string, LocalQueue>,
        private readonly options: { compactBytes?: number; now?: () => Date; onWarning?: (message: string) => void } = {},
    ) {
        this.snapshotFile = path.join(dir, SNAPSHOT_FILE);
        this.journalFile = path.join(dir, JOURNAL_FILE);
    }

    private now(): Date {
        return this.options.now?.() ?? new Date();
    }

    private rel(file: string): string {
        return path.relative(process.cwd(), file) || file;
    }

    /**
     * Reads the snapshot and the journal, puts their messages back on the queues, compacts, and
     * starts recording every change. Nothing damaged stops the start or is deleted: a snapshot or
     * journal that cannot be read at all (not JSON, not a file) is moved aside; the messages of a
     * snapshot that are not messages are set aside (the whole file is kept) and the others restored;
     * a journal's unreadable entries are skipped (the whole journal is kept). Each is named in a
     * warning. Only a damaged file that cannot even be moved aside, or a folder the store cannot
     * write, is an error (LocalDataError, saying what to do).
     */
    load(): QueueRecovery {
        fs.mkdirSync(this.dir, { recursive: true });
        const warnings: string[] = [];
        const state = new Map<string, Map<string, StoredMessage>>();
        const queueState = (name: string) => {
            let messages = state.get(name);
            if (!messages) state.set(name, (messages = new Map()));
            return messages;
        };

        if (fs.existsSync(this.snapshotFile)) {
            const read = this.readSnapshot(queueState);
            if (read.unreadable) {
                state.clear();
                const aside = this.moveAside(this.snapshotFile, read.unreadable);
                warnings.push(`${this.rel(this.snapshotFile)} could not be read (${read.unreadable}): moved to ${this.rel(aside)}; its messages were not restored`);
            } else if (read.skipped.length > 0) {
                // The good messages are in `state` (the new snapshot below holds them); the file keeps them all.
                const aside = this.moveAside(this.snapshotFile, read.skipped[0]);
                const n = read.skipped.length;
                warnings.push(
                    `${this.rel(this.snapshotFile)} has ${n} unreadable message${n === 1 ? "" : "s"} (${read.skipped.slice(0, 3).join("; ")}${n > 3 ? `; ${n - 3} more` : ""}): ` +
                        `set aside, not restored; the other ${read.restored} message(s) were restored; the whole file is kept in ${this.rel(aside)}`,
                );
            }
        }

        let journalEntries = 0;
        if (fs.existsSync(this.journalFile)) {
            let text: string | undefined;
            try {
                text = fs.readFileSync(this.journalFile, "utf8");
            } catch (error) {
                const why = describeFsError(error);
                const aside = this.moveAside(this.journalFile, why);
                warnings.push(`${this.rel(this.journalFile)} could not be read (${why}): moved to ${this.rel(aside)}; the queue changes it recorded since the last snapshot were not replayed`);
            }
            const lines = text === undefined ? [] : text.split("\n");
            // A last line without its newline is a write the crash interrupted: it was never acknowledged.
            const torn = lines.pop();
            const bad: string[] = [];
            lines.forEach((line, i) => {
                if (line.trim() === "") return;
                let entry: unknown;
                try {
                    entry = JSON.parse(line);
                } catch (error) {
                    bad.push(`line ${i + 1}: ${(error as Error).message}`);
                    return;
                }
                const problem = invalidEntry(entry);
                if (problem) {
                    bad.push(`line ${i + 1}: ${problem}`);
                    return;
                }
                journalEntries++;
                this.apply(queueState((entry as Journaled).q), entry as Journaled);
            });
            if (bad.length > 0) {
                const aside = asideName(this.journalFile, "corrupt", this.now());
                fs.copyFileSync(this.journalFile, aside);
                warnings.push(`${this.rel(this.journalFile)} has ${bad.length} unreadable entr${bad.length === 1 ? "y" : "ies"} (${bad.slice(0, 3).join("; ")}): skipped; the whole journal is kept in ${this.rel(aside)}`);
            } else if (torn !== undefined && torn.trim() !== "") {
                warnings.push(`${this.rel(this.journalFile)} ended in an incomplete entry (a write cut short by the crash, never acknowledged): skipped`);
            }
        }

        const restored: Record<string, number> = {};
        const orphans: Record<string, StoredMessage[]> = {};
        for (const [name, messages] of state) {
            if (messages.size === 0) continue;
            const queue = this.queues.get(name);
            if (!queue) {
                orphans[name] = [...messages.values()];
                continue;
            }
            queue.restore([...messages.values()]);
            restored[name] = messages.size;
        }
        const orphanNames = Object.keys(orphans);
        if (orphanNames.length > 0) {
            const file = path.join(this.dir, `queues.orphaned-${this.now().toISOString().replace(/[:.]/g, "-")}.json`);
            writeFileAtomic(file, JSON.stringify(orphans));
            const count = orphanNames.reduce((n, name) => n + orphans[name].length, 0);
            warnings.push(`${count} saved message(s) belong to queues this stack no longer declares (${orphanNames.join(", ")}): kept in ${this.rel(file)}, not restored`);
        }

        try {
            this.compact();
            this.fd = fs.openSync(this.journalFile, "a");
        } catch (error) {
            throw new LocalDataError(
                `could not write the queue files in ${this.rel(this.dir)} (${describeFsError(error)}): make the folder and its queues.json and queues.journal writable (or move them out of it), or start with --memory`,
            );
        }
        for (const [name, queue] of this.queues) queue.recorder = (mutation) => this.record(name, mutation);
        return { restored, journalEntries, warnings };
    }

    /**
     * Moves a damaged file (or whatever is at its path: a directory too) aside, returning where to; if
     * it cannot be moved, the start cannot go on without losing it: a LocalDataError says what to do.
     */
    private moveAside(file: string, problem: string): string {
        const aside = asideName(file, "corrupt", this.now());
        try {
            fs.renameSync(file, aside);
        } catch (error) {
            throw new LocalDataError(
                `${this.rel(file)} could not be read (${problem}) nor moved aside (${describeFsError(error)}): move it out of ${this.rel(this.dir)} yourself ` +
                    `(deleting it loses the queued messages it holds), or start with --memory`,
            );
        }
        return aside;
    }

    /**
     * Fills the state from the snapshot. `unreadable` says why none of it could be read (the file, or
     * its JSON); otherwise `skipped` names each message that is not one (its queue and position, and its
     * id when it has one), and every other message is in the state.
     */
    private readSnapshot(queueState: (name: string) => Map<string, StoredMessage>): { unreadable?: string; skipped: string[]; restored: number } {
        let text: string;
        try {
            text = fs.readFileSync(this.snapshotFile, "utf8");
        } catch (error) {
            return { unreadable: describeFsError(error), skipped: [], restored: 0 };
        }
        let doc: unknown;
        try {
            doc = JSON.parse(text);
        } catch (error) {
            return { unreadable: `not valid JSON: ${(error as Error).message}`, skipped: [], restored: 0 };
        }
        if (!isRecord(doc)) return { unreadable: 'expected { "<queue name>": [ messages ] }', skipped: [], restored: 0 };
        const skipped: string[] = [];
        let restored = 0;
        for (const [name, messages] of Object.entries(doc)) {
            if (!Array.isArray(messages)) {
                skipped.push(`${name}: not a list of messages`);
                continue;
            }
            const target = queueState(name);
            for (const [i, m] of messages.entries()) {
                const problem = invalidMessage(m);
                if (problem) {
                    const id = isRecord(m) && typeof m.messageId === "string" && m.messageId !== "" ? ` (message ${m.messageId})` : "";
                    skipped.push(`${name}[${i}]${id}: ${problem}`);
                    continue;
                }
                target.set((m as StoredMessage).messageId, m as StoredMessage);
                restored++;
            }
        }
        return { skipped, restored };
    }

    private apply(messages: Map<string, StoredMessage>, entry: Journaled): void {
        switch (entry.op) {
            case "put":
                messages.set(entry.message.messageId, entry.message);
                break;
            case "received":
                for (const r of entry.messages) {
                    const m = messages.get(r.messageId);
                    if (m) Object.assign(m, { receiveCount: r.receiveCount, firstReceiveTimestamp: r.firstReceiveTimestamp }, r.visibleAt === undefined ? {} : { visibleAt: r.visibleAt });
                }
                break;
            case "visibility": {
                const m = messages.get(entry.messageId);
                if (m) m.visibleAt = entry.visibleAt;
                break;
            }
            case "delete":
                for (const id of entry.messageIds) messages.delete(id);
                break;
        }
    }

    /**
     * Appends one change. A `put` that cannot be written throws (the send fails: nothing is
     * acknowledged that is not on disk); a lost receive count or delete only means a message may be
     * delivered again after a crash, so those failures are warned about and the runtime goes on.
     */
    private record(queue: string, mutation: QueueMutation): void {
        if (this.fd === undefined) {
            if (mutation.op === "put") throw new Error(`queue ${queue}: the queue store is closed`);
            return;
        }
        const line = `${JSON.stringify({ q: queue, ...mutation })}\n`;
        try {
            fs.writeSync(this.fd, line);
        } catch (error) {
            if (mutation.op === "put") throw new Error(`queue ${queue}: could not record the message in ${this.rel(this.journalFile)}: ${(error as Error).message}`);
            if (this.failedWrites++ === 0) this.options.onWarning?.(`could not write to ${this.rel(this.journalFile)} (${(error as Error).message}): after a crash, some messages may be delivered again`);
            return;
        }
        this.journalBytes += Buffer.byteLength(line);
        if (this.journalBytes >= (this.options.compactBytes ?? DEFAULT_COMPACT_BYTES) && !this.compactPending) {
            this.compactPending = true;
            setImmediate(() => {
                this.compactPending = false;
                if (this.fd !== undefined) this.compact();
            });
        }
    }

    /** Replaces the snapshot with the queues' messages now and empties the journal (in one tick: nothing changes in between). */
    compact(): void {
        const snapshot: Record<string, StoredMessage[]> = {};
        for (const [name, queue] of this.queues) {
            const messages = queue.snapshot();
            if (messages.length > 0) snapshot[name] = messages;
        }
        writeFileAtomic(this.snapshotFile, JSON.stringify(snapshot));
        if (this.fd !== undefined) fs.ftruncateSync(this.fd, 0);
        else if (fs.existsSync(this.journalFile)) fs.truncateSync(this.journalFile, 0);
        this.journalBytes = 0;
    }

    /** Compacts one last time and stops recording (the clean stop). */
    close(): void {
        if (this.fd === undefined) return;
        this.compact();
        fs.closeSync(this.fd);
        this.fd = undefined;
        for (const queue of this.queues.values()) queue.recorder = undefined;
    }
}
