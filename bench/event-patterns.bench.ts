// Matches per second for a realistic pattern (the analytics route plus content filters).
// Run: npx ts-node --transpile-only bench/event-patterns.bench.ts
import { compileEventPattern, explainEventPatternMatch, matchesEventPattern, EventPattern } from "../event-patterns";

const pattern: EventPattern = {
    source: ["bellyfed.restaurants"],
    "detail-type": ["RestaurantViewed", "RestaurantReviewed"],
    detail: {
        restaurantId: [{ prefix: "r-" }],
        channel: [{ "anything-but": ["internal", "test"] }],
        price: [{ numeric: [">", 0, "<=", 500] }],
        client: { ip: [{ cidr: "10.0.0.0/8" }, { cidr: "2001:db8::/32" }] },
        $or: [{ tags: [{ wildcard: "*vegan*" }] }, { rating: [{ numeric: [">=", 4] }] }],
        debug: [{ exists: false }],
    },
};

function eventFor(i: number): Record<string, unknown> {
    return {
        version: "0",
        id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
        "detail-type": i % 5 === 0 ? "RestaurantCreated" : "RestaurantViewed",
        source: "bellyfed.restaurants",
        account: "123456789012",
        time: "2024-05-01T12:00:00Z",
        region: "us-east-1",
        resources: [],
        detail: {
            restaurantId: `r-${i}`,
            channel: i % 7 === 0 ? "test" : "web",
            price: (i % 600) + 0.5,
            client: { ip: `10.${i % 256}.0.${i % 200}`, agent: "Mozilla/5.0" },
            tags: ["thai", i % 3 === 0 ? "vegan-friendly" : "spicy"],
            rating: i % 5,
        },
    };
}

const events = Array.from({ length: 1000 }, (_, i) => eventFor(i));

function run(label: string, iterations: number, fn: (event: Record<string, unknown>) => unknown): void {
    for (let i = 0; i < 2000; i++) fn(events[i % events.length]); // warm-up
    const start = process.hrtime.bigint();
    let matched = 0;
    for (let i = 0; i < iterations; i++) if (fn(events[i % events.length])) matched++;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const rate = Math.round(iterations / seconds).toLocaleString("en-US");
    console.log(`${label.padEnd(44)} ${rate.padStart(12)} /s  (${matched} of ${iterations} matched)`);
}

const compiled = compileEventPattern(pattern);
console.log(`pattern: ${JSON.stringify(pattern)}`);
run("compiled once, matches()", 500_000, (e) => compiled.matches(e));
run("matchesEventPattern (validates every call)", 100_000, (e) => matchesEventPattern(pattern, e));
run("compiled once, explain()", 100_000, (e) => compiled.explain(e).matched);
run("explainEventPatternMatch", 50_000, (e) => explainEventPatternMatch(pattern, e).matched);
