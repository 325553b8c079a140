/** Plain-text rendering helpers for the human output. */

export type Cell = string | number | boolean | null | undefined;

/** A column-aligned table with a header row; empty cells show as "-". */
export function table(headers: string[], rows: Cell[][]): string {
    const text = rows.map((row) => headers.map((_, i) => cell(row[i])));
    const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i].length)));
    const line = (cells: string[]) =>
        cells
            .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [line(headers), ...text.map(line)].join("\n");
}

function cell(value: Cell): string {
    if (value === null || value === undefined || value === "") return "-";
    if (typeof value === "boolean") return value ? "yes" : "no";
    return String(value);
}

/** 75 -> "1m15s", 7260 -> "2h01m"; undefined -> "-". */
export function duration(seconds: number | undefined): string {
    if (seconds === undefined || !Number.isFinite(seconds)) return "-";
    const s = Math.round(seconds);
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
    return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, "0")}h`;
}

/** Shortens a text to `max` characters, marking the cut. */
export function truncate(text: string, max = 100): string {
    const flat = text.replace(/\s+/g, " ");
    return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

export function plural(n: number, word: string, many = `${word}s`): string {
    return `${n} ${n === 1 ? word : many}`;
}
