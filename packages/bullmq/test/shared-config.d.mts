import type { FsmFunction } from '@fsm/core';
export declare const config: { name: string; states: object[]; arcs: object[] };
export declare const functions: Record<string, FsmFunction>;
