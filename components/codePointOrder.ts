/**
 * Orders strings by Unicode code point: the same order on every machine. `localeCompare` (and
 * `Intl.Collator`) follow the process's locale (LANG / LC_ALL), so a list sorted with them differs
 * between a developer's laptop and CI; anything that must be deterministic sorts with this instead.
 */
export function compareCodePoints(a: string, b: string): number {
    const left = a[Symbol.iterator]();
    const right = b[Symbol.iterator]();
    for (;;) {
        const x = left.next();
        const y = right.next();
        if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
        const difference = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
        if (difference !== 0) return difference < 0 ? -1 : 1;
    }
}
