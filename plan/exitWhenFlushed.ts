/**
 * Exits with `code` once everything written to stdout and stderr has been handed to the OS.
 * `process.exit` right after `write` loses what is still queued when stdout is a pipe (a reader
 * slower than us gets the first 64 KiB of a large `--json` document). A write's callback runs after
 * every earlier write on that stream, so an empty write is the flush point.
 */
export function exitWhenFlushed(code: number): void {
    process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
