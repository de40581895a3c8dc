import { loadConfigWithWarnings } from '../config/index.js';
import type { FsmConfig, LoadedConfig } from '../config/types.js';
import {
  ConfigError,
  type ConfigIssue,
  DataError,
  MisuseError,
  type ValidationIssue,
} from '../errors/errors.js';
import { FsmError } from '../errors/fsm-error.js';
import { createArcSelector } from '../engine/arc-selection.js';
import { drive, driveSync } from '../engine/drive.js';
import { Execution, type ExecutionEnv, PAUSED } from '../engine/execution.js';
import { compileJsonSchema, createFunctionResolver } from '../functions/index.js';
import type { BatchInfo, FsmLogger } from '../functions/types.js';
import { type FinishedHistoryFields, isFinishedHistory, resultOfHistory } from '../history/batch-result.js';
import { ExecutionHistory } from '../history/execution-history.js';
import {
  type BatchItemRecord,
  type CheckpointStore,
  type FinishedExecution,
  type HistoryStore,
  isCheckpointStore,
  isStepLogStore,
  type StepLogEntry,
  type StepSnapshot,
} from '../interfaces/history-store.js';
import { type ResourceBroker, poolOptionsFromConfig } from '../interfaces/resource.js';
import { compilePlan } from '../plan/compile.js';
import { type ProcessingMode, selectEntry } from '../engine/network-selection.js';
import type { CompiledState, ExecutionPlan } from '../plan/types.js';
import type { ExecutionSnapshot } from '../engine/snapshot.js';
import { BasicResourceManager } from '../resources/index.js';
import { createFsmTracing, type FsmTracing } from '../tracing/otel.js';
import { type BatchOptions, type BatchResult, RefTimeout, runBatch } from './batch.js';
import { planToDot, planToMermaid } from './graph.js';
import { type ResultStream, type StreamOptions, runStream } from './stream.js';
import type { ExecutionResult, FsmOptions, ProcessOptions } from './types.js';
import { CheckpointRule } from './checkpoint-rule.js';

const ignore = (): void => undefined;
/** Functions log through context.logger; without a logger given, nothing is printed. */
const SILENT_LOGGER: FsmLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

let idPrefix = '';
let idCounter = 0;
/** Unique, cheap execution ids: a random per-process prefix and a counter (no UUID per record). */
export function nextExecutionId(): string {
  if (idPrefix === '') idPrefix = crypto.randomUUID().slice(0, 8);
  idCounter++;
  return `${idPrefix}-${idCounter.toString(36)}`;
}

/** Everything `create` builds once per FSM: loaded config, plan, resource manager. */
export interface PreparedFsm {
  loaded: LoadedConfig;
  plan: ExecutionPlan;
  env: ExecutionEnv;
  broker: ResourceBroker | undefined;
  options: FsmOptions;
  /** Set when OpenTelemetry tracing is on (a provider registered or a tracer given). */
  tracing?: FsmTracing;
}

/** Loads, compiles and wires a config (shared by SimpleFSM, AdvancedFSM and the builder). */
export async function prepareFsm(source: string | object, options: FsmOptions = {}): Promise<PreparedFsm> {
  const loadOptions: Parameters<typeof loadConfigWithWarnings>[1] = {
    knownResources: Object.keys(options.resources ?? {}),
  };
  if (options.env) loadOptions.env = options.env;
  if (options.allowedRoots) loadOptions.allowedRoots = options.allowedRoots;
  if (options.baseDir !== undefined && typeof source !== 'string') loadOptions.baseDir = options.baseDir;
  const loaded = await loadConfigWithWarnings(source, loadOptions);
  const logger = options.logger ?? SILENT_LOGGER;
  for (const warning of loaded.warnings)
    logger.warn(`config: ${warning.path || '(root)'}: ${warning.message}`);
  const resolverOptions: Parameters<typeof createFunctionResolver>[0] = {
    named: loaded.config.functions,
    allowCode: options.allowCode ?? false,
    baseDir: loaded.baseDir,
  };
  if (options.functions) resolverOptions.registered = options.functions;
  if (options.builtins) resolverOptions.builtins = options.builtins;
  const plan = await compilePlan(loaded.config, {
    resolver: createFunctionResolver(resolverOptions),
    compileSchema: compileJsonSchema,
  });
  const broker = await createBroker(loaded.config, options);
  const env: ExecutionEnv = {
    plan,
    broker,
    logger,
    recordHistory: options.history ?? options.storage !== undefined,
    arcSelector: createArcSelector(plan.strategy, plan, broker),
    ...(options.runMetadata ? { runMetadata: options.runMetadata } : {}),
  };
  const tracing = await createFsmTracing(options.tracing);
  return { loaded, plan, env, broker, options, ...(tracing ? { tracing } : {}) };
}

async function createBroker(config: FsmConfig, options: FsmOptions): Promise<ResourceBroker | undefined> {
  const instances = options.resources ?? {};
  if (config.resources.length === 0 && Object.keys(instances).length === 0) return options.resourceManager;
  const broker = options.resourceManager ?? new BasicResourceManager();
  const issues: ConfigIssue[] = [];
  for (const [i, entry] of config.resources.entries()) {
    // Own keys only: a resource named or typed `constructor`/`toString` is not an Object.prototype member.
    const given = Object.hasOwn(instances, entry.name) ? instances[entry.name] : undefined;
    if (given) {
      broker.register(entry.name, given, poolOptionsFromConfig(entry));
      continue;
    }
    const types = options.resourceTypes;
    const factory = types && Object.hasOwn(types, entry.type) ? types[entry.type] : undefined;
    if (!factory) {
      issues.push({
        path: `resources[${i}].type`,
        message: `no provider for resource type "${entry.type}" of resource "${entry.name}": pass it in options.resources or options.resourceTypes (e.g. defaultResourceTypes from @fsm/resources)`,
      });
      continue;
    }
    broker.register(entry.name, await factory(entry), poolOptionsFromConfig(entry));
  }
  for (const [name, provider] of Object.entries(instances)) {
    if (!broker.has(name)) broker.register(name, provider);
  }
  if (issues.length > 0) {
    await broker.close();
    throw new ConfigError(issues);
  }
  return broker;
}

/** How `runOne` runs a record, beyond its options. */
interface RunHow {
  /** Where the start state is looked for; `batch` with a batch, else `single`. */
  mode?: ProcessingMode;
  /** Write the record's batch item when it finishes (durable batches and streams). */
  recordItem?: boolean;
  /** The caller's signal already follows `close()`: no per-record signal combining. */
  signalFollowsClose?: boolean;
  /** No checkpoint can exist under `options.executionId` (a batch item not started before). */
  knownFresh?: boolean;
}

// Shared, not made per record.
const PLAIN_RUN: RunHow = {};
const FOLLOWING_CLOSE: RunHow = { signalFollowsClose: true };
const DURABLE_ITEM: RunHow = { recordItem: true, signalFollowsClose: true };
const FRESH_DURABLE_ITEM: RunHow = { recordItem: true, signalFollowsClose: true, knownFresh: true };

/**
 * What SimpleFSM and AdvancedFSM share: a compiled config run one record at a time, in batches or as a
 * stream. `process()` returns failures as results and throws only for misuse.
 */
export class BaseFsm {
  protected readonly prepared: PreparedFsm;
  private closed = false;
  private closing: AbortController | undefined;
  /** Set when runs write checkpoints as they go (a checkpointing store and a policy other than `end`). */
  private readonly pauseRule: CheckpointRule | undefined;

  protected constructor(prepared: PreparedFsm) {
    this.prepared = prepared;
    const { storage, checkpoint } = prepared.options;
    if (checkpoint !== undefined && checkpoint !== 'end' && isCheckpointStore(storage)) {
      this.pauseRule = new CheckpointRule(checkpoint === 'every-step' ? 1 : checkpoint.every);
    }
  }

  get name(): string {
    return this.prepared.plan.name;
  }

  /** The normalized config (defaults applied, includes resolved). */
  get config(): FsmConfig {
    return this.prepared.plan.config;
  }

  /** State names of the main network. */
  get states(): string[] {
    return this.prepared.plan.main.states.map((s) => s.name);
  }

  get networks(): string[] {
    return [...this.prepared.plan.networks.keys()];
  }

  /** The resource manager, when the config uses resources (for metrics and leak checks). */
  get resources(): ResourceBroker | undefined {
    return this.prepared.broker;
  }

  get storage(): HistoryStore | undefined {
    return this.prepared.options.storage;
  }

  get warnings(): LoadedConfig['warnings'] {
    return this.prepared.loaded.warnings;
  }

  /** Runs one record to an end state (or a failure). Never throws for the record's failure. */
  async process(record: unknown, options: ProcessOptions = {}): Promise<ExecutionResult> {
    return this.runOne(record, options, undefined);
  }

  /** Same result as `process`, with no promise at all; for configs whose functions are all sync. */
  processSync(record: unknown, options: Omit<ProcessOptions, 'signal' | 'timeoutMs'> = {}): ExecutionResult {
    this.assertOpen();
    const plan = this.prepared.plan;
    if (!plan.allSync) {
      throw new MisuseError(
        `processSync needs every function to be synchronous; ${plan.firstAsync} is not. Use process().`,
      );
    }
    const execution = new Execution(
      this.prepared.env,
      options.executionId ?? nextExecutionId(),
      record,
      this.startState(options.initialState, record, options.network),
    );
    return driveSync(execution);
  }

  /** Runs records with bounded concurrency; results in input order. */
  async processBatch(
    records: Iterable<unknown> | AsyncIterable<unknown>,
    options: BatchOptions = {},
  ): Promise<BatchResult> {
    this.assertOpen();
    return runBatch(
      (record, batch, signal) =>
        this.runOne(record, itemOptions(signal, options.recordTimeoutMs), batch, FOLLOWING_CLOSE),
      records,
      this.followingClose(options),
    );
  }

  /** Runs a stream of records, reading at most `highWaterMark` records ahead of the consumer. */
  processStream(
    source: AsyncIterable<unknown> | Iterable<unknown>,
    options: StreamOptions = {},
  ): ResultStream {
    this.assertOpen();
    return runStream(
      (record, signal) =>
        this.runOne(record, itemOptions(signal, options.recordTimeoutMs), undefined, FOLLOWING_CLOSE),
      source,
      this.followingClose(options),
    );
  }

  /** Checks a record against the start state's schema and pre-validators, without running anything else. */
  async validate(
    record: unknown,
    options: { initialState?: string } = {},
  ): Promise<{ valid: boolean; errors: ValidationIssue[] }> {
    this.assertOpen();
    const state = this.startState(options.initialState);
    const errors: ValidationIssue[] = [];
    if (state.schema) errors.push(...(state.schema(record) ?? []));
    const execution = new Execution(this.prepared.env, nextExecutionId(), record, state);
    for (const fn of state.preValidators) {
      execution.context.params = fn.params;
      try {
        const outcome = await fn.call(record, execution.context);
        if (outcome === false) errors.push({ path: '', message: `validator "${fn.name}" returned false` });
        else if (typeof outcome === 'object' && outcome !== null && 'valid' in outcome && !outcome.valid) {
          errors.push({ path: '', message: `validator "${fn.name}" failed` });
        }
      } catch (error) {
        errors.push({
          path: '',
          message: `validator "${fn.name}": ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    }
    return { valid: errors.length === 0, errors };
  }

  toMermaid(): string {
    return planToMermaid(this.prepared.plan);
  }

  toDot(): string {
    return planToDot(this.prepared.plan);
  }

  /** Aborts running executions, then closes every resource; throws one AggregateError listing close failures. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing?.abort(new Error('FSM closed'));
    await this.prepared.broker?.close();
  }

  protected assertOpen(): void {
    if (this.closed) throw new MisuseError(`FSM "${this.name}" is closed`);
  }

  protected startState(
    initialState: string | undefined,
    record?: unknown,
    network?: string,
    mode: ProcessingMode = 'single',
  ): CompiledState {
    return selectEntry(this.prepared.plan, record, { initialState, network, mode });
  }

  protected async runOne(
    record: unknown,
    options: ProcessOptions,
    batch: BatchInfo | undefined,
    how: RunHow = PLAIN_RUN,
  ): Promise<ExecutionResult> {
    const { mode = batch ? 'batch' : 'single', recordItem = false, signalFollowsClose = false } = how;
    this.assertOpen();
    const timeoutMs = options.timeoutMs ?? this.prepared.plan.timeoutMs;
    const timer = timeoutMs === undefined ? undefined : new RefTimeout(timeoutMs);
    const closing = signalFollowsClose ? undefined : this.closingSignal();
    const signal = combineSignals(options.signal, timer?.signal, closing);
    const execution = new Execution(
      this.prepared.env,
      options.executionId ?? nextExecutionId(),
      record,
      this.startState(options.initialState, record, options.network, mode),
      { signal, batch, pauseRule: this.pauseRule },
    );
    // A caller's own id may name an execution that crashed with a checkpoint; a generated one cannot.
    const mayHaveCheckpoint = options.executionId !== undefined && how.knownFresh !== true;
    try {
      // No closure or span object per record unless tracing is on.
      return await (this.prepared.tracing
        ? this.traced(execution, batch?.batchId, signal, recordItem, mayHaveCheckpoint)
        : this.runDurably(execution, signal, recordItem, mayHaveCheckpoint));
    } finally {
      timer?.clear();
    }
  }

  /**
   * Batch or stream options whose signal also aborts when the FSM closes: combined once per batch, so
   * its records (run with `signalFollowsClose`) need no signal of their own.
   */
  private followingClose<T extends { signal?: AbortSignal }>(options: T): T {
    const closing = this.closingSignal();
    if (!closing) return options;
    return { ...options, signal: options.signal ? AbortSignal.any([options.signal, closing]) : closing };
  }

  /** `runDurably` with spans made through the engine's observer hooks (tracing is on). */
  private async traced(
    execution: Execution,
    batchId: string | undefined,
    signal: AbortSignal | undefined,
    recordItem: boolean,
    mayHaveCheckpoint: boolean,
  ): Promise<ExecutionResult> {
    const spans = this.prepared.tracing?.start({ id: execution.id, fsm: this.name, batchId });
    if (!spans) return this.runDurably(execution, signal, recordItem, mayHaveCheckpoint);
    execution.observer = spans;
    try {
      const result = await this.runDurably(execution, signal, recordItem, mayHaveCheckpoint);
      spans.end(result);
      return result;
    } catch (error) {
      spans.fail(error);
      throw error;
    }
  }

  /** One controller for the whole FSM (not one per record): `close()` aborts what holds resources. */
  private closingSignal(): AbortSignal | undefined {
    if (!this.prepared.plan.usesResources) return undefined;
    this.closing ??= new AbortController();
    return this.closing.signal;
  }

  /**
   * Runs to the end, writing a checkpoint per the `checkpoint` policy when the storage keeps them: one
   * step-log row per step when the store has a step log, else a full snapshot. Finishing saves the
   * history (and the batch item, with `recordItem`) and deletes the checkpoint — in one transaction
   * with a step-log store, in that order otherwise, so a crash in between never re-runs a finished record.
   * `mayHaveCheckpoint` is false when no checkpoint can exist under the execution's id before this run.
   */
  private async runDurably(
    execution: Execution,
    signal: AbortSignal | undefined,
    recordItem: boolean,
    mayHaveCheckpoint: boolean,
  ): Promise<ExecutionResult> {
    const storage = this.prepared.options.storage;
    // Executions of a checkpointing run were made with the rule (see pauseRule), which pauses them.
    const store = this.pauseRule && isCheckpointStore(storage) ? storage : undefined;
    const written = new WrittenSoFar();
    // A batch item can start again from its input record; a single execution needs a checkpoint to be resumable.
    if (store && execution.path.length === 0 && !recordItem) await this.checkpoint(store, execution, written);
    let outcome = await drive(execution, signal);
    while (outcome === PAUSED) {
      if (!store) throw new MisuseError('process() cannot pause; use AdvancedFSM for breakpoints');
      try {
        await this.checkpoint(store, execution, written);
      } catch (error) {
        // Data that cannot be stored (a BigInt, a cycle, too deep) fails this record alone.
        if (!isUnstorable(error)) throw error;
        execution.reject(unstorable(error, 'its checkpoint'));
      }
      outcome = await drive(execution, signal);
    }
    // Stopped by its caller (not failed): the checkpoint stays, so a resume continues from it.
    if (store && outcome.error?.code === 'ABORTED') return outcome;
    const recordIt = recordItem && outcome.error?.code !== 'ABORTED';
    const checkpointed = mayHaveCheckpoint || !written.first;
    try {
      await this.finishRecord(outcome, outcome.history, recordIt, checkpointed);
    } catch (error) {
      if (!isUnstorable(error)) throw error;
      // Stored without its data (the failure says why), so the record is finished and not run again.
      outcome = withoutData(outcome, unstorable(error, 'its result or history'), this.name);
      await this.finishRecord(outcome, outcome.history, recordIt, checkpointed);
    }
    return outcome;
  }

  private checkpoint(store: CheckpointStore, execution: Execution, written: WrittenSoFar): Promise<void> {
    if (!isStepLogStore(store)) {
      written.first = false;
      return store.saveCheckpoint(execution.snapshot());
    }
    // The store serializes the entry before this promise resolves, and the record waits for it: no copies.
    const full = execution.snapshot(false, true);
    const entry: StepLogEntry = {
      executionId: execution.id,
      fsm: full.fsm,
      // Rises with every pause and continues after a resume (transitions are restored).
      seq: full.transitions * 2 + (full.phase === 'select' ? 1 : 0),
      snapshot: written.first ? full : written.changes(full),
    };
    written.first = false;
    written.pathLength = full.path.length;
    written.stackLength = full.stack.length;
    written.variables = Object.keys(full.variables).length > 0;
    if (execution.recorder) entry.steps = execution.recorder.takeDelta(true);
    return store.appendStep(entry);
  }

  /** Saves what a finished record leaves behind and deletes its checkpoint, on every path that finishes one. */
  private async finishRecord(
    result: ExecutionResult,
    history: ExecutionHistory | undefined,
    recordItem: boolean,
    checkpointed = true,
  ): Promise<void> {
    const storage = this.prepared.options.storage;
    if (!storage) return;
    let batchItem: FinishedExecution['batchItem'];
    let itemInHistory = false;
    if (recordItem && result.batchId !== undefined && result.itemIndex !== undefined) {
      // The item is the history's result when the history is of this item: a store may then keep only a mark.
      itemInHistory =
        history !== undefined &&
        isFinishedHistory(history) &&
        history.executionId === result.executionId &&
        history.batchId === result.batchId &&
        history.itemIndex === result.itemIndex;
      const stored = itemInHistory
        ? resultOfHistory(history as ExecutionHistory & FinishedHistoryFields, result.durationMs)
        : withoutHistory(result);
      batchItem = {
        batchId: result.batchId,
        itemIndex: result.itemIndex,
        executionId: result.executionId,
        success: result.success,
        result: stored,
      };
    }
    if (isStepLogStore(storage)) {
      const finished: FinishedExecution = { executionId: result.executionId };
      if (history) finished.history = history;
      if (batchItem) finished.batchItem = batchItem;
      if (itemInHistory) finished.itemInHistory = true;
      // Two deletes per record saved when nothing was ever checkpointed under this id.
      if (!checkpointed) finished.checkpointed = false;
      await storage.finishExecution(finished);
      return;
    }
    // A failed save throws (a StorageError from the store): history is never dropped silently.
    if (history) await storage.save(history);
    if (!isCheckpointStore(storage)) return;
    if (batchItem) await storage.saveBatchItems(batchItem.batchId, [batchItem]);
    if (checkpointed) await storage.deleteCheckpoint(result.executionId);
  }

  private checkpointStorage(operation: string): HistoryStore & CheckpointStore {
    const storage = this.prepared.options.storage;
    if (!isCheckpointStore(storage) || !storage) {
      throw new MisuseError(
        `${operation} needs options.storage that keeps checkpoints (e.g. createStorage("sqlite:./fsm.db"))`,
      );
    }
    return storage;
  }

  /**
   * Continues an execution after a crash from its last checkpoint (never re-running completed steps);
   * an execution that had already finished is reported from its history without running again (and a
   * checkpoint left behind by a crash is deleted).
   */
  protected async resumeExecution(
    executionId: string,
    options: Omit<ProcessOptions, 'executionId' | 'initialState'> = {},
    how: Pick<RunHow, 'recordItem' | 'signalFollowsClose'> = PLAIN_RUN,
  ): Promise<ExecutionResult> {
    const { recordItem = false, signalFollowsClose = false } = how;
    this.assertOpen();
    const storage = this.checkpointStorage('resume()');
    const finished = await this.finishedResult(storage, executionId, recordItem);
    if (finished) return finished;
    const snapshot = await storage.loadCheckpoint(executionId);
    if (!snapshot) throw new FsmError('SNAPSHOT_INVALID', `no checkpoint for execution "${executionId}"`);
    if (snapshot.fsm !== this.name) {
      throw new FsmError(
        'SNAPSHOT_INVALID',
        `checkpoint "${executionId}" belongs to FSM "${snapshot.fsm}", not "${this.name}"`,
      );
    }
    const timeoutMs = options.timeoutMs ?? this.prepared.plan.timeoutMs;
    const timer = timeoutMs === undefined ? undefined : new RefTimeout(timeoutMs);
    const closing = signalFollowsClose ? undefined : this.closingSignal();
    const signal = combineSignals(options.signal, timer?.signal, closing);
    const execution = new Execution(
      this.prepared.env,
      executionId,
      snapshot.data,
      this.prepared.plan.main.start,
      { signal, batch: snapshot.batch, pauseRule: this.pauseRule },
    );
    execution.restore(snapshot);
    try {
      return await (this.prepared.tracing
        ? this.traced(execution, snapshot.batch?.batchId, signal, recordItem, true)
        : this.runDurably(execution, signal, recordItem, true));
    } finally {
      timer?.clear();
    }
  }

  /** A finished execution's result from its history, after finishing what a crash left undone. */
  private async finishedResult(
    storage: HistoryStore & CheckpointStore,
    executionId: string,
    recordItem: boolean,
  ): Promise<ExecutionResult | undefined> {
    const history = await storage.load(executionId);
    if (!history || !isFinishedHistory(history)) return undefined;
    const result = resultFromHistory(history);
    await this.finishRecord(result, undefined, recordItem);
    return result;
  }

  /**
   * Runs one item of a durable batch: continues it from its checkpoint, reports it from its history
   * when it finished but was not recorded, or runs it from its record.
   */
  private async runDurableItem(
    record: unknown,
    batch: BatchInfo,
    options: ProcessOptions,
    maybeStarted: boolean,
  ): Promise<ExecutionResult> {
    const storage = this.checkpointStorage('a durable batch');
    // Deterministic ids let a resumed batch continue an in-flight record from its last checkpoint.
    const executionId = `${batch.batchId}:${batch.itemIndex}`;
    if (maybeStarted) {
      const finished = await this.finishedResult(storage, executionId, true);
      if (finished) return finished;
      if (await storage.loadCheckpoint(executionId))
        return this.resumeExecution(executionId, options, DURABLE_ITEM);
    }
    return this.runOne(
      record,
      { ...options, executionId },
      batch,
      maybeStarted ? DURABLE_ITEM : FRESH_DURABLE_ITEM,
    );
  }

  /**
   * Which items of a batch may have started before a crash: with a step-log store that lists its
   * checkpoints, exactly those (read once); otherwise every item is looked up.
   */
  private async startedItems(
    storage: HistoryStore & CheckpointStore,
    batchId: string,
  ): Promise<((index: number) => boolean) | undefined> {
    if (!isStepLogStore(storage) || !storage.listCheckpoints) return undefined;
    const prefix = `${batchId}:`;
    const started = new Set<number>();
    for (const id of await storage.listCheckpoints(prefix)) started.add(Number(id.slice(prefix.length)));
    return (index) => started.has(index);
  }

  /**
   * Runs a batch whose finished items are recorded in the checkpoint store; calling it again with the
   * same `batchId` and the same records (after a crash) runs only the items not yet recorded. Its result
   * holds every record's result; `processDurableStream` runs the same in constant memory.
   */
  async processDurableBatch(
    records: Iterable<unknown> | AsyncIterable<unknown>,
    options: BatchOptions & { batchId: string },
  ): Promise<BatchResult> {
    this.assertOpen();
    const storage = this.checkpointStorage('processDurableBatch()');
    const completed = new Map<number, ExecutionResult>();
    for (const item of await storage.loadBatchItems(options.batchId))
      completed.set(item.itemIndex, item.result as ExecutionResult);
    const started = await this.startedItems(storage, options.batchId);
    return runBatch(
      (record, batch, signal) =>
        this.runDurableItem(
          record,
          batch,
          itemOptions(signal, options.recordTimeoutMs),
          started ? started(batch.itemIndex) : true,
        ),
      records,
      this.followingClose({ ...options, completed }),
    );
  }

  /**
   * A durable batch as a stream: results in input order (a window of at most `highWaterMark` records
   * in memory), each record's history, batch item and checkpoint written as it finishes. Run again with
   * the same `batchId` and records after a crash: finished items come back from the store (read in
   * index order, page by page), in-flight ones continue from their checkpoints, the rest run.
   */
  processDurableStream(
    records: AsyncIterable<unknown> | Iterable<unknown>,
    options: StreamOptions & { batchId: string },
  ): ResultStream {
    this.assertOpen();
    const storage = this.checkpointStorage('processDurableStream()');
    const batchId = options.batchId;
    const items = withBatchItems(records, storage, batchId);
    let started: Promise<((index: number) => boolean) | undefined> | undefined;
    return runStream(
      async (value, signal) => {
        const item = value as DurableItem;
        if (item.stored) return item.stored;
        started ??= this.startedItems(storage, batchId);
        const isStarted = await started;
        return this.runDurableItem(
          item.record,
          { batchId, itemIndex: item.index },
          itemOptions(signal, options.recordTimeoutMs),
          isStarted ? isStarted(item.index) : true,
        );
      },
      items,
      this.followingClose(options),
    );
  }
}

/**
 * The everyday API: load a config once, then run records through it one at a time, in batches or as
 * a stream; with a checkpointing store, `resume(executionId)` continues after a crash.
 */
export class SimpleFSM extends BaseFsm {
  static async create(source: string | object, options: FsmOptions = {}): Promise<SimpleFSM> {
    return new SimpleFSM(await prepareFsm(source, options));
  }

  /**
   * Continues an execution after a crash from its last checkpoint, without re-running completed
   * steps; one that had already finished is reported from its history without running again.
   */
  resume(
    executionId: string,
    options: Omit<ProcessOptions, 'executionId' | 'initialState'> = {},
  ): Promise<ExecutionResult> {
    return this.resumeExecution(executionId, options);
  }
}

/**
 * One signal that aborts on the caller's signal, the timeout, or the FSM closing — whichever comes
 * first. Nothing is allocated when only one of them (or none) is given.
 */
function combineSignals(
  caller: AbortSignal | undefined,
  timeout: AbortSignal | undefined,
  closing: AbortSignal | undefined,
): AbortSignal | undefined {
  const count = (caller ? 1 : 0) + (timeout ? 1 : 0) + (closing ? 1 : 0);
  if (count === 0) return undefined;
  if (count === 1) return caller ?? timeout ?? closing;
  const signals: AbortSignal[] = [];
  if (caller) signals.push(caller);
  if (timeout) signals.push(timeout);
  if (closing) signals.push(closing);
  return AbortSignal.any(signals);
}

/** A serialization failure (from serializeData, a store, or JSON.stringify): the record's data is at fault. */
function isUnstorable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (FsmError.is(e) && e.code === 'DATA_INVALID') return true;
    if (
      (e instanceof TypeError || e instanceof RangeError) &&
      /serializ|circular|BigInt|call stack|string length/i.test(e.message)
    )
      return true;
  }
  return false;
}

function unstorable(error: unknown, what: string): DataError {
  const message = error instanceof Error ? error.message : String(error);
  return new DataError(`the record's data cannot be stored (${what}): ${message}`, { cause: error });
}

/** The failed result (and history) of a record whose data cannot be stored: everything but the data. */
function withoutData(result: ExecutionResult, error: DataError, fsm: string): ExecutionResult {
  const failed: ExecutionResult = {
    ...result,
    success: false,
    data: null,
    error: error.toJSON(),
    path: [...result.path],
  };
  const previous = result.history;
  const history = new ExecutionHistory({
    executionId: result.executionId,
    fsm: previous?.fsm ?? fsm,
    status: 'failed',
    startedAt: previous?.startedAt ?? Date.now(),
    endedAt: Date.now(),
    finalState: result.finalState,
    error: error.toJSON(),
    output: { data: null, path: [...result.path], transitions: result.transitions },
    steps: [],
  });
  if (result.batchId !== undefined) history.batchId = result.batchId;
  if (result.itemIndex !== undefined) history.itemIndex = result.itemIndex;
  if (previous?.metadata) history.metadata = previous.metadata;
  failed.history = history;
  return failed;
}

/** What this process already wrote to an execution's step log: later entries leave out what did not change. */
class WrittenSoFar {
  first = true;
  pathLength = 0;
  stackLength = 0;
  variables = false;

  changes(full: ExecutionSnapshot): StepSnapshot {
    const entry: StepSnapshot = {
      network: full.network,
      state: full.state,
      phase: full.phase,
      data: full.data,
      transitions: full.transitions,
      path: full.path.slice(this.pathLength),
      pathFrom: this.pathLength,
    };
    if (full.stack.length > 0 || this.stackLength > 0) entry.stack = full.stack;
    if (this.variables || Object.keys(full.variables).length > 0) entry.variables = full.variables;
    return entry;
  }
}

/** A record's input with its index, or its stored result when the batch finished it before. */
interface DurableItem {
  index: number;
  record: unknown;
  stored: ExecutionResult | undefined;
}

/** Numbers the records and merges the batch's finished items (both in index order) into them. */
async function* withBatchItems(
  records: AsyncIterable<unknown> | Iterable<unknown>,
  storage: CheckpointStore,
  batchId: string,
): AsyncGenerator<DurableItem> {
  const done = (
    isStepLogStore(storage) && storage.streamBatchItems
      ? storage.streamBatchItems(batchId)
      : await storage.loadBatchItems(batchId)
  ) as AsyncIterable<BatchItemRecord> | Iterable<BatchItemRecord>;
  const doneIterator =
    Symbol.asyncIterator in Object(done)
      ? (done as AsyncIterable<BatchItemRecord>)[Symbol.asyncIterator]()
      : (done as Iterable<BatchItemRecord>)[Symbol.iterator]();
  let head = await doneIterator.next();
  let index = 0;
  try {
    for await (const record of records) {
      while (!head.done && head.value.itemIndex < index) head = await doneIterator.next();
      const stored = !head.done && head.value.itemIndex === index ? head.value.result : undefined;
      yield { index, record, stored: stored as ExecutionResult | undefined };
      index++;
    }
  } finally {
    if (!head.done) await doneIterator.return?.();
  }
}

function itemOptions(signal: AbortSignal | undefined, timeoutMs: number | undefined): ProcessOptions {
  const options: ProcessOptions = {};
  if (signal) options.signal = signal;
  if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
  return options;
}

function withoutHistory(result: ExecutionResult): ExecutionResult {
  const { history: _omit, ...stored } = result;
  return stored;
}

function resultFromHistory(history: ExecutionHistory & FinishedHistoryFields): ExecutionResult {
  const result = resultOfHistory(history, (history.endedAt ?? history.startedAt) - history.startedAt);
  result.history = history;
  return result;
}
