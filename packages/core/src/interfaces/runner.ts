import type { ExecutionResult } from '../api/types.js';

export interface SubmitOptions {
  /** Higher runs first where the runner supports it (BullMQ: 1 is highest). */
  priority?: number;
  /** Milliseconds before the record may run. */
  delay?: number;
  /** Submitting the same key twice runs the record once. */
  idempotencyKey?: string;
  /** Group records under this batch (a new id is generated when absent). */
  batchId?: string;
}

export interface Submission {
  batchId: string;
  /** Records accepted now (duplicates by idempotency key are not counted again). */
  accepted: number;
}

export interface BatchStatus {
  batchId: string;
  total: number;
  succeeded: number;
  failed: number;
  /** Records that exhausted their retries and went to the dead-letter queue (also counted in failed). */
  deadLettered: number;
  cancelled: number;
  pending: number;
}

/**
 * Runs records of one FSM somewhere else (worker processes, a queue). `@fsm/bullmq` implements it on
 * BullMQ/Redis; the same config and functions run unchanged.
 */
export interface RecordRunner {
  readonly specificationVersion: 'v1';
  submit(records: unknown | unknown[], options?: SubmitOptions): Promise<Submission>;
  /** Results of a batch as they finish (each record exactly once), ending when the batch is done. */
  results(batchId: string, options?: { signal?: AbortSignal }): AsyncIterable<ExecutionResult>;
  status(batchId: string): Promise<BatchStatus>;
  /** Removes the batch's records that have not started; returns how many. */
  cancel(batchId: string): Promise<number>;
  close(): Promise<void>;
}
