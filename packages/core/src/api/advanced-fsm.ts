import { MisuseError } from '../errors/errors.js';
import { FsmError } from '../errors/fsm-error.js';
import type { ArcStatistics } from '../engine/arc-selection.js';
import { drive } from '../engine/drive.js';
import {
  Execution,
  type ExecutionObserver,
  PAUSED,
  type StateEvent,
  type TransitionEvent,
} from '../engine/execution.js';
import type { ExecutionSnapshot } from '../engine/snapshot.js';
import type { FsmErrorInfo } from '../errors/fsm-error.js';
import type { ExecutionHistory } from '../history/execution-history.js';
import { isCheckpointStore, isStepLogStore } from '../interfaces/history-store.js';
import type { CompiledState } from '../plan/types.js';
import { OpenExecutionSpans } from '../tracing/open-spans.js';
import type { ExecutionSpans } from '../tracing/otel.js';
import { BaseFsm, nextExecutionId, prepareFsm, type PreparedFsm } from './simple-fsm.js';
import type { ExecutionResult, FsmOptions, ProcessOptions } from './types.js';

export interface AdvancedHooks {
  onStateEnter?(event: StateEvent): void;
  onStateExit?(event: StateEvent & { durationMs: number }): void;
  onTransition?(event: TransitionEvent): void;
  onError?(event: StateEvent & { error: FsmErrorInfo }): void;
}

export interface AdvancedOptions extends FsmOptions {
  hooks?: AdvancedHooks;
  /** State names where `run()` pauses on arrival, before choosing an arc. */
  breakpoints?: readonly string[];
}

export interface TraceEntry {
  type: 'enter' | 'exit' | 'transition' | 'error';
  network: string;
  state: string;
  /** Milliseconds since the execution was created. */
  at: number;
  durationMs?: number;
  /** For transitions: the arc and the state entered. */
  arc?: string;
  to?: string;
  error?: FsmErrorInfo;
}

export interface ExecutionProfile {
  states: Record<string, { count: number; totalMs: number; meanMs: number }>;
  arcs: Record<string, { taken: number }>;
}

/** What one `step()` did. */
export interface StepOutcome {
  /** The state the step started in (undefined for the first step, which enters the start state). */
  from: string | undefined;
  /** The state the execution is in now. */
  state: string;
  network: string;
  /** The arc taken (undefined for the first step). */
  arc: string | undefined;
  data: unknown;
  done: boolean;
  result: ExecutionResult | undefined;
}

/** One record's execution under the debugger's control. */
export class FsmExecution {
  readonly trace: TraceEntry[] = [];
  private readonly profileStates = new Map<string, { count: number; totalMs: number }>();
  private readonly profileArcs = new Map<string, number>();
  private readonly breakpoints: Set<string>;
  private readonly created = performance.now();
  private lastArc: string | undefined;
  /** The execution's OpenTelemetry spans: open from creation to the end, across pauses. */
  private readonly spans: ExecutionSpans | undefined;

  constructor(
    private readonly execution: Execution,
    private readonly owner: AdvancedFSM,
    hooks: AdvancedHooks | undefined,
    breakpoints: readonly string[],
    private readonly signal: AbortSignal | undefined,
    private readonly tracing?: OpenExecutionSpans,
  ) {
    this.breakpoints = new Set(breakpoints);
    this.spans = tracing?.start(this, {
      id: execution.id,
      fsm: owner.name,
      batchId: execution.context.batch?.batchId,
    });
    const at = () => performance.now() - this.created;
    // Spans see each event before the user's hooks, so a throwing hook cannot leave them behind.
    const observer: ExecutionObserver = {
      onStateEnter: (event) => {
        this.spans?.onStateEnter(event);
        this.trace.push({ type: 'enter', network: event.network, state: event.state, at: at() });
        hooks?.onStateEnter?.(event);
      },
      onStateExit: (event) => {
        this.spans?.onStateExit();
        this.trace.push({
          type: 'exit',
          network: event.network,
          state: event.state,
          at: at(),
          durationMs: event.durationMs,
        });
        const key = `${event.network}.${event.state}`;
        const entry = this.profileStates.get(key) ?? { count: 0, totalMs: 0 };
        entry.count++;
        entry.totalMs += event.durationMs;
        this.profileStates.set(key, entry);
        hooks?.onStateExit?.(event);
      },
      onTransition: (event) => {
        this.spans?.onTransition(event);
        this.lastArc = event.arc;
        this.trace.push({
          type: 'transition',
          network: event.network,
          state: event.from,
          to: event.to,
          arc: event.arc,
          at: at(),
        });
        this.profileArcs.set(event.arc, (this.profileArcs.get(event.arc) ?? 0) + 1);
        hooks?.onTransition?.(event);
      },
      onError: (event) => {
        this.spans?.onError(event);
        this.trace.push({
          type: 'error',
          network: event.network,
          state: event.state,
          at: at(),
          error: event.error,
        });
        hooks?.onError?.(event);
      },
    };
    execution.observer = observer;
  }

  get id(): string {
    return this.execution.id;
  }

  /** The current state's name. */
  get state(): string {
    return this.execution.state.name;
  }

  get network(): string {
    return this.execution.state.network.name;
  }

  get data(): unknown {
    return this.execution.data;
  }

  get done(): boolean {
    return this.execution.done;
  }

  get result(): ExecutionResult | undefined {
    return this.execution.result;
  }

  /** The history so far (recorded for every AdvancedFSM execution). */
  get history(): ExecutionHistory {
    return this.execution.result?.history ?? this.execution.toHistory();
  }

  get profile(): ExecutionProfile {
    const states: ExecutionProfile['states'] = {};
    for (const [key, { count, totalMs }] of this.profileStates)
      states[key] = { count, totalMs, meanMs: totalMs / count };
    const arcs: ExecutionProfile['arcs'] = {};
    for (const [label, taken] of this.profileArcs) arcs[label] = { taken };
    return { states, arcs };
  }

  addBreakpoint(state: string): void {
    this.breakpoints.add(state);
  }

  removeBreakpoint(state: string): void {
    this.breakpoints.delete(state);
  }

  /** One transition: the first call enters the start state; each later call takes one arc and enters its target. */
  async step(): Promise<StepOutcome> {
    this.assertRunnable();
    const from = this.execution.path.length === 0 ? undefined : this.execution.state.name;
    this.lastArc = undefined;
    await this.advanceUntil(() => true);
    return {
      from,
      state: this.execution.state.name,
      network: this.execution.state.network.name,
      arc: this.lastArc,
      data: this.execution.data,
      done: this.execution.done,
      result: this.execution.result,
    };
  }

  /** Runs to the end, or to the next breakpoint (then resolves to undefined; `state` tells where). */
  async run(): Promise<ExecutionResult | undefined> {
    this.assertRunnable();
    await this.advanceUntil((state) => this.breakpoints.has(state.name));
    return this.execution.result;
  }

  /** Runs until arriving in `state` (or the end). */
  async runUntil(state: string): Promise<ExecutionResult | undefined> {
    this.assertRunnable();
    await this.advanceUntil((s) => s.name === state);
    return this.execution.result;
  }

  /** Plain JSON; `AdvancedFSM.resume(snapshot)` continues from here, also inside a sub-network. */
  snapshot(): ExecutionSnapshot {
    return this.execution.snapshot();
  }

  private async advanceUntil(pause: (state: CompiledState) => boolean): Promise<void> {
    this.execution.pauseWhen = pause;
    const outcome = await drive(this.execution, this.signal);
    if (outcome === PAUSED) return;
    const spans = this.spans;
    if (!spans) return this.owner.finished(outcome);
    // Like SimpleFSM: the span ends once the result is stored; a store that throws fails it.
    const tracing = this.tracing as OpenExecutionSpans;
    try {
      await this.owner.finished(outcome);
    } catch (error) {
      tracing.fail(spans, error);
      throw error;
    }
    tracing.end(spans, outcome);
  }

  private assertRunnable(): void {
    if (this.execution.done) throw new MisuseError(`execution ${this.execution.id} is already done`);
  }
}

/**
 * The debugger's API: executions that can be stepped, paused at breakpoints, observed with hooks,
 * traced and profiled, snapshotted to JSON and resumed — also in another process.
 */
export class AdvancedFSM extends BaseFsm {
  private readonly hooks: AdvancedHooks | undefined;
  private readonly breakpointList: readonly string[];
  /** Executions whose spans are open; only when tracing is on. */
  private readonly openSpans: OpenExecutionSpans | undefined;

  protected constructor(prepared: PreparedFsm, options: AdvancedOptions) {
    super(prepared);
    this.hooks = options.hooks;
    this.breakpointList = options.breakpoints ?? [];
    this.openSpans = prepared.tracing ? new OpenExecutionSpans(prepared.tracing) : undefined;
  }

  static async create(source: string | object, options: AdvancedOptions = {}): Promise<AdvancedFSM> {
    return new AdvancedFSM(
      await prepareFsm(source, { ...options, history: options.history ?? true }),
      options,
    );
  }

  createExecution(record: unknown, options: ProcessOptions = {}): FsmExecution {
    this.assertOpen();
    const execution = new Execution(
      this.prepared.env,
      options.executionId ?? nextExecutionId(),
      record,
      this.startState(options.initialState),
      { signal: options.signal },
    );
    return new FsmExecution(execution, this, this.hooks, this.breakpointList, options.signal, this.openSpans);
  }

  /** Continues from a snapshot, or from the checkpoint stored under an execution id. */
  async resume(
    from: ExecutionSnapshot | string,
    options: { signal?: AbortSignal } = {},
  ): Promise<FsmExecution> {
    this.assertOpen();
    const snapshot = typeof from === 'string' ? await this.loadCheckpoint(from) : from;
    if (snapshot.version !== 1 || snapshot.fsm !== this.name) {
      throw new FsmError(
        'SNAPSHOT_INVALID',
        `snapshot is for FSM "${snapshot.fsm}" (version ${snapshot.version}), not "${this.name}"`,
      );
    }
    const execution = new Execution(
      this.prepared.env,
      snapshot.executionId,
      snapshot.data,
      this.prepared.plan.main.start,
      {
        signal: options.signal,
        batch: snapshot.batch,
      },
    );
    execution.restore(snapshot);
    return new FsmExecution(execution, this, this.hooks, this.breakpointList, options.signal, this.openSpans);
  }

  /**
   * Ends the spans of executions left unfinished (paused at a breakpoint, or never run to the end) as
   * abandoned, then closes like every FSM.
   */
  override async close(): Promise<void> {
    this.openSpans?.abandonAll();
    await super.close();
  }

  /** Arc usage statistics of the strategy in use (empty for depth_first). */
  arcStatistics(): ArcStatistics[] {
    return this.prepared.env.arcSelector?.statistics() ?? [];
  }

  /**
   * @internal Saves the history of a finished stepped execution and deletes a checkpoint it was resumed
   * from (in one transaction with a step-log store), so a later resume cannot run it again.
   */
  async finished(result: ExecutionResult): Promise<void> {
    const storage = this.prepared.options.storage;
    if (!storage) return;
    if (isStepLogStore(storage)) {
      await storage.finishExecution({
        executionId: result.executionId,
        ...(result.history ? { history: result.history } : {}),
      });
      return;
    }
    if (result.history) await storage.save(result.history);
    if (isCheckpointStore(storage)) await storage.deleteCheckpoint(result.executionId);
  }

  private async loadCheckpoint(executionId: string): Promise<ExecutionSnapshot> {
    const storage = this.prepared.options.storage;
    if (!isCheckpointStore(storage)) {
      throw new MisuseError('resume(executionId) needs a storage that keeps checkpoints (options.storage)');
    }
    const snapshot = await storage.loadCheckpoint(executionId);
    if (!snapshot) throw new FsmError('SNAPSHOT_INVALID', `no checkpoint for execution "${executionId}"`);
    return snapshot;
  }
}
