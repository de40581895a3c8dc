/** Where an execution is between steps: plain JSON, resumable by `AdvancedFSM.resume` or a checkpoint store. */
export interface ExecutionSnapshot {
  version: 1;
  fsm: string;
  executionId: string;
  network: string;
  state: string;
  /** `enter`: the state is still to be entered; `select`: the state was entered, an arc is to be chosen. */
  phase: 'enter' | 'select';
  data: unknown;
  transitions: number;
  path: string[];
  startedAt: number;
  /** Pushed sub-networks, outermost first. */
  stack: SnapshotFrame[];
  variables: Record<string, unknown>;
  /** Steps recorded so far when history is on. */
  steps?: unknown[];
  batch?: { batchId: string; itemIndex: number };
  /** The FSM's `runMetadata` (e.g. the config path a CLI needs to resume it). */
  metadata?: Record<string, unknown>;
}

export interface SnapshotFrame {
  /** Parent network and state that pushed. */
  network: string;
  state: string;
  /** Index of the push arc among the state's sorted arcs. */
  arcIndex: number;
  /** The parent's data at push time (restored and merged with result_mapping on return). */
  parentData: unknown;
}
