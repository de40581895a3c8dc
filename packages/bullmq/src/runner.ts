import {
  type BatchStatus,
  type CheckpointStore,
  type ExecutionResult,
  type FsmOptions,
  type HistoryStore,
  MisuseError,
  type RecordRunner,
  SimpleFSM,
  type Submission,
  type SubmitOptions,
  isCheckpointStore,
} from '@fsm/core';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { RedisKeys } from './keys.js';
import { emitRecordSpans } from './tracing.js';

/** KEYS: result marker, results stream, batch hash. ARGV: ttl, result JSON, outcome field, dead-lettered flag. */
const STORE_RESULT_ONCE = `
if redis.call('SET', KEYS[1], '1', 'EX', ARGV[1], 'NX') then
  redis.call('XADD', KEYS[2], '*', 'result', ARGV[2])
  redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
  if ARGV[4] == '1' then redis.call('HINCRBY', KEYS[3], 'deadLettered', 1) end
  return 1
end
return 0`;
/** Error codes worth another attempt: the record may succeed when the outside world recovers. */
const RETRYABLE = new Set([
  'FUNCTION_FAILED',
  'TIMEOUT',
  'RESOURCE_TIMEOUT',
  'RESOURCE_UNAVAILABLE',
  'STORAGE_FAILED',
  'LLM_FAILED',
]);

export interface RedisConnection {
  host?: string;
  port?: number;
  password?: string;
  db?: number;
}

export interface RetryPolicy {
  attempts: number;
  backoff?: { type: 'fixed' | 'exponential'; delay: number };
}

export interface QueueRunnerOptions {
  /** Redis connection: a URL (`redis://127.0.0.1:6379`) or host/port/password/db. */
  connection: string | RedisConnection;
  /** Queue name (letters, digits, `-`, `_`). */
  queue: string;
  /** The same config the in-process FSM uses: a path or an object. */
  config: string | object;
  functions?: FsmOptions['functions'];
  /** Other FSM options (builtins, resources, resourceTypes, allowCode...). */
  fsmOptions?: Omit<FsmOptions, 'functions' | 'storage' | 'checkpoint'>;
  /** Checkpoint store: with it each record checkpoints every step, and a crashed worker's record resumes there. */
  storage?: HistoryStore & CheckpointStore;
  /** Default retry policy; a config whose states declare `retry` raises attempts to the largest of them. */
  retry?: RetryPolicy;
  /** Per-record timeout. */
  timeoutMs?: number;
  /** Stalled-job detection: a worker that dies loses its lock after this long (BullMQ lockDuration). */
  lockDurationMs?: number;
}

export interface WorkerHandle {
  /** Finishes running jobs, then stops. */
  close(): Promise<void>;
  readonly processed: number;
}

export interface QueueMetrics {
  counts: Record<string, number>;
  /** Records finished per second by this process's workers since they started. */
  throughputPerSec: number;
  /** Mean wait between submission and start over the last records processed here. */
  lagMs: number;
}

interface JobData {
  record: unknown;
  batchId: string;
  index: number;
}

let batchCounter = 0;

/**
 * Runs one FSM config across worker processes on BullMQ. Each record is one job whose id is its
 * idempotency key; a record's final result is stored once (SET NX) and appended to the batch's result
 * stream, so a job re-run after a worker crash (BullMQ's stalled-job recovery) never duplicates it.
 */
export class QueueRunner implements RecordRunner {
  readonly specificationVersion = 'v1' as const;
  private readonly options: QueueRunnerOptions;
  private readonly redis: Redis;
  private readonly queue: Queue<JobData>;
  private readonly deadLetters: Queue;
  private readonly keys: RedisKeys;
  private fsm: Promise<SimpleFSM> | undefined;
  /** Each worker with the Redis connection made for it (BullMQ leaves a given connection open on close). */
  private readonly workers = new Map<Worker<JobData>, Redis>();
  private started = 0;
  private finished = 0;
  private readonly lags: number[] = [];
  private closed = false;

  constructor(options: QueueRunnerOptions) {
    if (!/^[A-Za-z0-9_-]+$/.test(options.queue)) {
      throw new MisuseError(`queue name "${options.queue}" may only contain letters, digits, "-" and "_"`);
    }
    this.options = options;
    this.redis = connect(options.connection);
    this.queue = new Queue<JobData>(options.queue, { connection: this.redis });
    this.deadLetters = new Queue(`${options.queue}-dlq`, { connection: this.redis });
    this.keys = new RedisKeys(options.queue);
  }

  /** The BullMQ queue this runner submits to and works on. */
  get queueName(): string {
    return this.options.queue;
  }

  /** Queues records (one job each). Re-submitting an idempotency key does not run the record again. */
  async submit(records: unknown | unknown[], options: SubmitOptions = {}): Promise<Submission> {
    this.assertOpen();
    const list = Array.isArray(records) ? records : [records];
    const batchId = options.batchId ?? `b${Date.now().toString(36)}${(++batchCounter).toString(36)}`;
    const retry = await this.retryPolicy();
    const existing = Number(await this.redis.hget(this.keys.batch(batchId), 'total')) || 0;
    let accepted = 0;
    for (let start = 0; start < list.length; start += 1000) {
      const chunk = list.slice(start, start + 1000).map((record, offset) => {
        const index = existing + start + offset;
        const jobId = options.idempotencyKey
          ? list.length === 1
            ? options.idempotencyKey
            : `${options.idempotencyKey}-${start + offset}`
          : `${batchId}-${index}`;
        return { record, index, jobId };
      });
      const added = await this.redis.sadd(this.keys.members(batchId), ...chunk.map((c) => c.jobId));
      accepted += added;
      await this.queue.addBulk(
        chunk.map(({ record, index, jobId }) => ({
          name: 'record',
          data: { record, batchId, index },
          opts: {
            jobId: jobId.replaceAll(':', '_'),
            attempts: retry.attempts,
            ...(retry.backoff ? { backoff: retry.backoff } : {}),
            ...(options.priority !== undefined ? { priority: options.priority } : {}),
            ...(options.delay !== undefined ? { delay: options.delay } : {}),
            removeOnComplete: true,
            removeOnFail: true,
          },
        })),
      );
    }
    await this.redis.hincrby(this.keys.batch(batchId), 'total', accepted);
    return { batchId, accepted };
  }

  submitBatch(records: unknown[], options: SubmitOptions = {}): Promise<Submission> {
    return this.submit(records, options);
  }

  /** Starts a worker in this process; run it in as many processes as you like. */
  worker(options: { concurrency?: number } = {}): WorkerHandle {
    this.assertOpen();
    const connection = connect(this.options.connection);
    const worker = new Worker<JobData>(this.options.queue, (job) => this.runJob(job), {
      connection,
      concurrency: options.concurrency ?? 4,
      lockDuration: this.options.lockDurationMs ?? 30_000,
      stalledInterval: Math.max(500, Math.floor((this.options.lockDurationMs ?? 30_000) / 2)),
      maxStalledCount: 5,
    });
    worker.on('failed', (job, error) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        void this.deadLetter(job, error).catch((e: unknown) => worker.emit('error', e as Error));
      }
    });
    this.workers.set(worker, connection);
    const runner = this;
    return {
      async close() {
        runner.workers.delete(worker);
        await worker.close();
        await connection.quit();
      },
      get processed() {
        return runner.finished;
      },
    };
  }

  async *results(batchId: string, options: { signal?: AbortSignal } = {}): AsyncIterable<ExecutionResult> {
    const reader = connect(this.options.connection);
    try {
      let cursor = '0';
      let seen = 0;
      for (;;) {
        options.signal?.throwIfAborted();
        const status = await this.status(batchId);
        const expected = status.total - status.cancelled;
        if (seen >= expected && status.pending === 0) return;
        const reply = (await reader.xread(
          'COUNT',
          500,
          'BLOCK',
          500,
          'STREAMS',
          this.keys.results(batchId),
          cursor,
        )) as Array<[string, Array<[string, string[]]>]> | null;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            cursor = id;
            seen++;
            yield JSON.parse(fields[1] as string) as ExecutionResult;
          }
        }
      }
    } finally {
      reader.disconnect();
    }
  }

  async status(batchId: string): Promise<BatchStatus> {
    const h = await this.redis.hgetall(this.keys.batch(batchId));
    const n = (k: string) => Number(h[k] ?? 0);
    const total = n('total');
    const done = n('succeeded') + n('failed') + n('cancelled');
    return {
      batchId,
      total,
      succeeded: n('succeeded'),
      failed: n('failed'),
      deadLettered: n('deadLettered'),
      cancelled: n('cancelled'),
      pending: Math.max(0, total - done),
    };
  }

  /** Removes the batch's jobs that have not started; running ones finish. */
  async cancel(batchId: string): Promise<number> {
    await this.redis.hset(this.keys.batch(batchId), 'cancelling', '1');
    let removed = 0;
    const jobs = await this.queue.getJobs(['waiting', 'delayed', 'prioritized'], 0, -1);
    for (const job of jobs) {
      if (job.data.batchId !== batchId) continue;
      try {
        await job.remove();
        removed++;
      } catch (error) {
        // A job that a worker picked up meanwhile is locked: it runs to its end, it is not cancelled.
        if (!(error instanceof Error && /locked|does not exist/i.test(error.message))) throw error;
      }
    }
    await this.redis.hincrby(this.keys.batch(batchId), 'cancelled', removed);
    return removed;
  }

  async metrics(): Promise<QueueMetrics> {
    const counts = await this.queue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'prioritized',
      'failed',
      'completed',
    );
    const elapsed = this.started === 0 ? 0 : (Date.now() - this.started) / 1000;
    const lag = this.lags.length === 0 ? 0 : this.lags.reduce((a, b) => a + b, 0) / this.lags.length;
    return { counts, throughputPerSec: elapsed > 0 ? this.finished / elapsed : 0, lagMs: lag };
  }

  /** The dead-letter queue's jobs: records that exhausted their retries, with the error. */
  async deadLettered(): Promise<Array<{ record: unknown; batchId: string; error: string }>> {
    const jobs = await this.deadLetters.getJobs(['waiting'], 0, -1);
    return jobs.map((job) => job.data as { record: unknown; batchId: string; error: string });
  }

  /** Stops workers (letting running jobs finish), then closes queues, the FSM and connections; reports every failure. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const failures: unknown[] = [];
    const settle = async (steps: Array<Promise<unknown>>) => {
      for (const outcome of await Promise.allSettled(steps))
        if (outcome.status === 'rejected') failures.push(outcome.reason);
    };
    await settle([...this.workers].map(([w, connection]) => w.close().then(() => connection.quit())));
    this.workers.clear();
    await settle([this.queue.close(), this.deadLetters.close()]);
    if (this.fsm) await settle([this.fsm.then((fsm) => fsm.close())]);
    await settle([this.redis.quit()]);
    if (failures.length > 0)
      throw new AggregateError(failures, `closing queue runner "${this.options.queue}" failed`);
  }

  private async runJob(job: Job<JobData>): Promise<void> {
    if (this.started === 0) this.started = Date.now();
    const jobId = job.id as string;
    this.lags.push((job.processedOn ?? Date.now()) - job.timestamp);
    if (this.lags.length > 100) this.lags.shift();
    // A stalled job re-run after its result was stored must not store it again.
    if (await this.redis.exists(this.keys.result(jobId))) return;
    const fsm = await this.getFsm();
    const storage = this.options.storage;
    const started = Date.now();
    // Resume when a checkpoint exists, and also when the record already finished on a worker that died
    // before storing its result: resume() then reports it from its history instead of running it again.
    const resumable =
      storage !== undefined &&
      ((await storage.loadCheckpoint(jobId)) !== undefined || (await storage.load(jobId)) !== undefined);
    const result = resumable
      ? await fsm.resume(jobId, this.timeoutOption())
      : await fsm.process(job.data.record, { executionId: jobId, ...this.timeoutOption() });
    emitRecordSpans(this.options.queue, job.data.batchId, result, started);
    const attempts = job.opts.attempts ?? 1;
    if (
      !result.success &&
      result.error &&
      RETRYABLE.has(result.error.code) &&
      job.attemptsMade + 1 < attempts
    ) {
      // Thrown so BullMQ schedules the next attempt with its backoff.
      throw new Error(`${result.error.code}: ${result.error.message}`);
    }
    const outcome = result.success ? 'succeeded' : 'failed';
    const retryExhausted =
      !result.success && result.error !== undefined && RETRYABLE.has(result.error.code) && attempts > 1;
    await this.storeResult(jobId, job.data, result, outcome, retryExhausted);
  }

  /** Stores a record's result exactly once: SET NX guards the stream append and the counters. */
  private async storeResult(
    jobId: string,
    data: JobData,
    result: ExecutionResult,
    outcome: 'succeeded' | 'failed',
    deadLetter: boolean,
  ): Promise<void> {
    const { history: _history, ...stored } = result;
    const json = JSON.stringify({ ...stored, batchId: data.batchId, itemIndex: data.index });
    // One Lua script, so the marker, the stream entry and the counters land together or not at all:
    // a worker killed between them can neither lose a result nor store it twice.
    const first = await this.redis.eval(
      STORE_RESULT_ONCE,
      3,
      this.keys.result(jobId),
      this.keys.results(data.batchId),
      this.keys.batch(data.batchId),
      String(7 * 24 * 3600),
      json,
      outcome,
      deadLetter ? '1' : '0',
    );
    if (first !== 1) return;
    if (deadLetter) {
      await this.deadLetters.add('dead', {
        record: data.record,
        batchId: data.batchId,
        error: result.error?.message ?? '',
      });
    }
    this.finished++;
  }

  private async deadLetter(job: Job<JobData>, error: Error): Promise<void> {
    const jobId = job.id as string;
    const result: ExecutionResult = {
      success: false,
      finalState: '',
      data: job.data.record,
      path: [],
      error: { code: 'FUNCTION_FAILED', message: error.message },
      executionId: jobId,
      transitions: 0,
      durationMs: 0,
    };
    await this.storeResult(jobId, job.data, result, 'failed', true);
  }

  private timeoutOption(): { timeoutMs?: number } {
    return this.options.timeoutMs === undefined ? {} : { timeoutMs: this.options.timeoutMs };
  }

  private getFsm(): Promise<SimpleFSM> {
    const storage = this.options.storage;
    this.fsm ??= SimpleFSM.create(this.options.config, {
      ...this.options.fsmOptions,
      ...(this.options.functions ? { functions: this.options.functions } : {}),
      ...(storage && isCheckpointStore(storage) ? { storage, checkpoint: 'every-step' as const } : {}),
    });
    return this.fsm;
  }

  private async retryPolicy(): Promise<RetryPolicy> {
    const base = this.options.retry ?? { attempts: 1 };
    const fsm = await this.getFsm();
    const fromStates = Math.max(
      0,
      ...fsm.config.networks.flatMap((n) => n.states.map((s) => s.retry?.attempts ?? 0)),
    );
    return { ...base, attempts: Math.max(base.attempts, fromStates) };
  }

  private assertOpen(): void {
    if (this.closed) throw new MisuseError(`queue runner "${this.options.queue}" is closed`);
  }
}

function connect(connection: string | RedisConnection): Redis {
  // BullMQ workers need maxRetriesPerRequest: null to block on Redis commands.
  if (typeof connection === 'string') return new Redis(connection, { maxRetriesPerRequest: null });
  return new Redis(connection.port ?? 6379, connection.host ?? '127.0.0.1', {
    maxRetriesPerRequest: null,
    ...(connection.password !== undefined ? { password: connection.password } : {}),
    ...(connection.db !== undefined ? { db: connection.db } : {}),
  });
}

export function createQueueRunner(options: QueueRunnerOptions): QueueRunner {
  return new QueueRunner(options);
}
