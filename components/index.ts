/** The Bellyfed component library: import these into any Pulumi program. */
export * from "./types";
export * from "./serverlessFunction";
export * from "./table";
export * from "./eventBus";
export * from "./processedQueue";
export * from "./alarmTopic";
export * from "./queryApi";
export * from "./alarms";
export * from "./dashboard";
export * from "./awsLimits";
export * from "./codePointOrder";
