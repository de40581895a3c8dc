import type { FsmErrorInfo } from '../errors/fsm-error.js';

export type ExecutionStatus = 'running' | 'succeeded' | 'failed';

/** One state visited. A push arc's sub-network steps nest under `children`. Times are epoch ms. */
export interface HistoryStep {
  network: string;
  state: string;
  /** The arc taken out of this state (its `name`, else `from->to`), when one was taken. */
  arc?: string;
  startedAt: number;
  endedAt?: number;
  /** The data on leaving the state: a copy in copy mode, the live object in reference mode, absent in direct mode. */
  data?: unknown;
  error?: FsmErrorInfo;
  /** Names of the resources held in this step (state and arc). */
  resources?: string[];
  /** Steps of the sub-network a push arc out of this state ran. */
  children?: HistoryStep[];
}

export interface ExecutionHistoryData {
  executionId: string;
  fsm: string;
  status: ExecutionStatus;
  startedAt: number;
  endedAt?: number;
  finalState?: string;
  input?: unknown;
  error?: FsmErrorInfo;
  batchId?: string;
  itemIndex?: number;
  /** The record's final data, path and transition count, so a finished execution can be reported again. */
  output?: { data: unknown; path: string[]; transitions: number };
  steps: HistoryStep[];
  metadata?: Record<string, unknown>;
}

export interface HistoryQuery {
  fsm?: string;
  status?: ExecutionStatus;
  /** Executions started at or after this time. */
  since?: Date | number;
  /** Executions started before this time. */
  until?: Date | number;
  limit?: number;
  /** Opaque cursor from a previous summary's `cursor`, to continue a listing. */
  cursor?: string;
}

export interface HistorySummary {
  executionId: string;
  fsm: string;
  status: ExecutionStatus;
  startedAt: number;
  endedAt?: number;
  /** Pass as `query({ cursor })` to continue after this entry. */
  cursor?: string;
}
