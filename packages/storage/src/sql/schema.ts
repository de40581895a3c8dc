/** Start/end times are epoch milliseconds; bodies are JSON text (the same on every SQL dialect). */
export interface HistoryRow {
  execution_id: string;
  fsm: string;
  status: string;
  started_at: number | string;
  ended_at: number | string | null;
  batch_id: string | null;
  item_index: number | null;
  /**
   * Set when the history is also its batch's finished item (`FinishedExecution.itemInHistory`): the
   * result's `durationMs`. The item's result is rebuilt from the history (`resultOfHistory`).
   */
  item_ms?: number | null;
  /** The packed history without what the columns above hold (executionId, fsm, status, times, batch). */
  body: string;
}

export interface CheckpointRow {
  execution_id: string;
  fsm: string;
  updated_at: number | string;
  body: string;
}

export interface BatchItemRow {
  batch_id: string;
  item_index: number;
  execution_id: string;
  success: number;
  body: string;
}

/** One step-log entry: `body` is the entry's snapshot and step delta as JSON. */
export interface StepLogRow {
  execution_id: string;
  seq: number;
  fsm: string;
  body: string;
}

export interface StoreTables {
  fsm_step_log: StepLogRow;
  fsm_histories: HistoryRow;
  fsm_checkpoints: CheckpointRow;
  fsm_batch_items: BatchItemRow;
}
