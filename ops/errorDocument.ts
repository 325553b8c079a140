/**
 * The document `--json` prints when a command fails, for the ops CLI and the plan CLI alike: a script
 * reading stdout always gets one JSON document, of the same shape from either. It lives in ops/ so
 * that it ships with the ops build (dist/ops/), which the installed `bellyfed-ops` bin runs.
 */
export function errorDocument(message: string, exitCode: number): { error: { message: string; exitCode: number } } {
    return { error: { message, exitCode } };
}
