/** A logger and a metrics sink that remember what a handler told them (handlers take both as options). */
export function recorder() {
    const logs: { level: string; message: string; extra: any }[] = [];
    const metrics: Record<string, number> = {};
    const log = (level: string) => (message: string, extra?: any) => logs.push({ level, message, extra });
    return {
        logs,
        metrics,
        logger: { info: log("info"), warn: log("warn"), error: log("error"), debug: log("debug"), appendKeys() {}, resetKeys() {} } as any,
        metricsSink: {
            addMetric: (name: string, _unit: string, value: number) => (metrics[name] = (metrics[name] ?? 0) + value),
            hasStoredMetrics: () => false,
            publishStoredMetrics: () => undefined,
        } as any,
    };
}
