import { loadConfigWithWarnings } from '../config/index.js';
import type { FsmConfig, LoadedConfig } from '../config/types.js';
import { ConfigError, type ConfigIssue, MisuseError, type ValidationIssue } from '../errors/errors.js';
import { FsmError } from '../errors/fsm-error.js';
import { createArcSelector } from '../engine/arc-selection.js';
import { drive, driveSync } from '../engine/drive.js';
import { Execution, type ExecutionEnv, PAUSED } from '../engine/execution.js';
import { compileJsonSchema, createFunctionResolver } from '../functions/index.js';
import type { BatchInfo, FsmLogger } from '../functions/types.js';
import type { ExecutionHistory } from '../history/execution-history.js';
import { type HistoryStore, isCheckpointStore } from '../interfaces/history-store.js';
import { type ResourceBroker, poolOptionsFromConfig } from '../interfaces/resource.js';
import { compilePlan } from '../plan/compile.js';
import { type ProcessingMode, selectEntry } from '../engine/network-selection.js';
import type { CompiledState, ExecutionPlan } from '../plan/types.js';
import { BasicResourceManager } from '../resources/index.js';
import { type BatchOptions, type BatchResult, runBatch } from './batch.js';
import { planToDot, planToMermaid } from './graph.js';
import { type ResultStream, type StreamOptions, runStream } from './stream.js';
import type { ExecutionResult, FsmOptions, ProcessOptions } from './types.js';

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
}

/** Loads, compiles and wires a config (shared by SimpleFSM, AdvancedFSM and the builder). */
export async function prepareFsm(source: string | object, options: FsmOptions = {}): Promise<PreparedFsm> {
  const loadOptions: Parameters<typeof loadConfigWithWarnings>[1] = {
    knownResources: Object.keys(options.resources ?? {}),
  };
  if (options.env) loadOptions.env = options.env;
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
  return { loaded, plan, env, broker, options };
}

async function createBroker(config: FsmConfig, options: FsmOptions): Promise<ResourceBroker | undefined> {
  const instances = options.resources ?? {};
  if (config.resources.length === 0 && Object.keys(instances).length === 0) return options.resourceManager;
  const broker = options.resourceManager ?? new BasicResourceManager();
  const issues: ConfigIssue[] = [];
  for (const [i, entry] of config.resources.entries()) {
    const given = instances[entry.name];
    if (given) {
      broker.register(entry.name, given, poolOptionsFromConfig(entry));
      continue;
    }
    const factory = options.resourceTypes?.[entry.type];
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

/**
 * What SimpleFSM and AdvancedFSM share: a compiled config run one record at a time, in batches or as a
 * stream. `process()` returns failures as results and throws only for misuse.
 */
export class BaseFsm {
  protected readonly prepared: PreparedFsm;
  private closed = false;
  private readonly running = new Set<AbortController>();

  protected constructor(prepared: PreparedFsm) {
    this.prepared = prepared;
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
      (record, batch, signal) => this.runOne(record, itemOptions(signal, options.recordTimeoutMs), batch),
      records,
      options,
    );
  }

  /** Runs a stream of records, reading at most `highWaterMark` records ahead of the consumer. */
  processStream(
    source: AsyncIterable<unknown> | Iterable<unknown>,
    options: StreamOptions = {},
  ): ResultStream {
    this.assertOpen();
    return runStream(
      (record, signal) => this.runOne(record, itemOptions(signal, options.recordTimeoutMs), undefined),
      source,
      options,
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
    for (const controller of this.running) controller.abort(new Error('FSM closed'));
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
    mode: ProcessingMode = batch ? 'batch' : 'single',
  ): Promise<ExecutionResult> {
    this.assertOpen();
    const timeoutMs = options.timeoutMs ?? this.prepared.plan.timeoutMs;
    const controller = this.prepared.plan.usesResources ? new AbortController() : undefined;
    if (controller) this.running.add(controller);
    const signal = combineSignals(options.signal, timeoutMs, controller?.signal);
    const execution = new Execution(
      this.prepared.env,
      options.executionId ?? nextExecutionId(),
      record,
      this.startState(options.initialState, record, options.network, mode),
      { signal, batch },
    );
    try {
      return await this.runDurably(execution, signal);
    } finally {
      if (controller) this.running.delete(controller);
    }
  }

  /**
   * Runs to the end, writing a checkpoint per the `checkpoint` policy when the storage keeps them; the
   * history is saved before the checkpoint is deleted, so a crash in between never re-runs a finished record.
   */
  private async runDurably(execution: Execution, signal: AbortSignal | undefined): Promise<ExecutionResult> {
    const storage = this.prepared.options.storage;
    const policy = this.prepared.options.checkpoint;
    const store =
      policy !== undefined && policy !== 'end' && isCheckpointStore(storage) ? storage : undefined;
    if (store) {
      const every = policy === 'every-step' ? 1 : (policy as { every: number }).every;
      let arrivals = 0;
      execution.pauseWhen = () => ++arrivals % every === 0;
      if (execution.path.length === 0) await store.saveCheckpoint(execution.snapshot());
    }
    let outcome = await drive(execution, signal);
    while (outcome === PAUSED) {
      if (!store) throw new MisuseError('process() cannot pause; use AdvancedFSM for breakpoints');
      await store.saveCheckpoint(execution.snapshot());
      outcome = await drive(execution, signal);
    }
    // Stopped by its caller (not failed): the checkpoint stays, so a resume continues from it.
    if (store && outcome.error?.code === 'ABORTED') return outcome;
    await this.saveHistory(outcome);
    if (store) await store.deleteCheckpoint(execution.id);
    return outcome;
  }

  /**
   * Continues an execution after a crash from its last checkpoint (never re-running completed steps);
   * an execution that had already finished is reported from its history without running again.
   */
  protected async resumeExecution(
    executionId: string,
    options: Omit<ProcessOptions, 'executionId' | 'initialState'> = {},
  ): Promise<ExecutionResult> {
    this.assertOpen();
    const storage = this.prepared.options.storage;
    if (!isCheckpointStore(storage) || !storage) {
      throw new MisuseError(
        'resume() needs options.storage that keeps checkpoints (e.g. createStorage("sqlite:./fsm.db"))',
      );
    }
    const history = await storage.load(executionId);
    if (history && history.status !== 'running' && history.output) return resultFromHistory(history);
    const snapshot = await storage.loadCheckpoint(executionId);
    if (!snapshot) throw new FsmError('SNAPSHOT_INVALID', `no checkpoint for execution "${executionId}"`);
    if (snapshot.fsm !== this.name) {
      throw new FsmError(
        'SNAPSHOT_INVALID',
        `checkpoint "${executionId}" belongs to FSM "${snapshot.fsm}", not "${this.name}"`,
      );
    }
    const timeoutMs = options.timeoutMs ?? this.prepared.plan.timeoutMs;
    const signal = combineSignals(options.signal, timeoutMs, undefined);
    const execution = new Execution(
      this.prepared.env,
      executionId,
      snapshot.data,
      this.prepared.plan.main.start,
      {
        signal,
        batch: snapshot.batch,
      },
    );
    execution.restore(snapshot);
    return this.runDurably(execution, signal);
  }

  /**
   * Runs a batch whose finished items are recorded in the checkpoint store; calling it again with the
   * same `batchId` and the same records (after a crash) runs only the items not yet recorded.
   */
  async processDurableBatch(
    records: Iterable<unknown> | AsyncIterable<unknown>,
    options: BatchOptions & { batchId: string },
  ): Promise<BatchResult> {
    this.assertOpen();
    const storage = this.prepared.options.storage;
    if (!isCheckpointStore(storage) || !storage) {
      throw new MisuseError('processDurableBatch() needs options.storage that keeps checkpoints');
    }
    const completed = new Map<number, ExecutionResult>();
    for (const item of await storage.loadBatchItems(options.batchId))
      completed.set(item.itemIndex, item.result as ExecutionResult);
    const userOnResult = options.onResult;
    const batchId = options.batchId;
    // Deterministic ids let a resumed batch continue an in-flight record from its last checkpoint.
    const runItem = async (record: unknown, batch: BatchInfo, signal: AbortSignal | undefined) => {
      const executionId = `${batchId}:${batch.itemIndex}`;
      if (await storage.loadCheckpoint(executionId))
        return this.resumeExecution(executionId, itemOptions(signal, options.recordTimeoutMs));
      // A crash between saving the history and recording the batch item leaves a finished
      // execution without a checkpoint: report it, don't run the record again.
      const finished = await storage.load(executionId);
      if (finished && finished.status !== 'running' && finished.output) return resultFromHistory(finished);
      return this.runOne(record, { executionId, ...itemOptions(signal, options.recordTimeoutMs) }, batch);
    };
    return runBatch(runItem, records, {
      ...options,
      completed,
      onResult: async (result) => {
        // An aborted record is not finished: it is left for the resumed batch to continue.
        if (result.error?.code === 'ABORTED') {
          await userOnResult?.(result);
          return;
        }
        const { history: _omit, ...stored } = result;
        await storage.saveBatchItems(batchId, [
          {
            itemIndex: result.itemIndex as number,
            executionId: result.executionId,
            success: result.success,
            result: stored,
          },
        ]);
        await userOnResult?.(result);
      },
    });
  }

  /** A failed save throws (a StorageError from the store): history is never dropped silently. */
  private async saveHistory(result: ExecutionResult): Promise<void> {
    const storage = this.prepared.options.storage;
    if (storage && result.history) await storage.save(result.history);
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

/** One signal that aborts on the caller's signal, the timeout, or the FSM closing — whichever comes first. */
function combineSignals(
  caller: AbortSignal | undefined,
  timeoutMs: number | undefined,
  closing: AbortSignal | undefined,
): AbortSignal | undefined {
  const signals: AbortSignal[] = [];
  if (caller) signals.push(caller);
  if (timeoutMs !== undefined) signals.push(AbortSignal.timeout(timeoutMs));
  if (closing) signals.push(closing);
  return signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
}

function itemOptions(signal: AbortSignal | undefined, timeoutMs: number | undefined): ProcessOptions {
  const options: ProcessOptions = {};
  if (signal) options.signal = signal;
  if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
  return options;
}

function resultFromHistory(history: ExecutionHistory): ExecutionResult {
  const output = history.output as NonNullable<ExecutionHistory['output']>;
  const result: ExecutionResult = {
    success: history.status === 'succeeded',
    finalState: history.finalState ?? '',
    data: output.data,
    path: output.path,
    executionId: history.executionId,
    transitions: output.transitions,
    durationMs: (history.endedAt ?? history.startedAt) - history.startedAt,
    history,
  };
  if (history.error) result.error = history.error;
  if (history.batchId !== undefined) result.batchId = history.batchId;
  if (history.itemIndex !== undefined) result.itemIndex = history.itemIndex;
  return result;
}
