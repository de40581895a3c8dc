export declare const longConfig: Record<string, unknown>;
export declare const longFunctions: Record<string, (record: never, ctx: never) => Promise<unknown>>;
export declare function closeLog(): Promise<unknown>;
