import type { ExecutionResult } from '../api/types.js';
import { ValidationError, type ValidationIssue } from '../errors/errors.js';
import { FsmError, type FsmErrorCode, type FsmErrorInfo } from '../errors/fsm-error.js';
import type { BatchInfo, FsmLogger, FunctionContext, ResolvedFunction } from '../functions/types.js';
import { ExecutionHistory } from '../history/execution-history.js';
import type { HistoryStep } from '../history/types.js';
import type { ResourceBroker } from '../interfaces/resource.js';
import type { CompiledArc, CompiledState, ExecutionPlan, ResourceBinding } from '../plan/types.js';
import { sameValues } from '../util/same-values.js';
import { cloneData, serializeData } from '../util/clone.js';
import { getField, isObject, setField } from '../util/field-path.js';
import { defineOwn } from '../util/safe-keys.js';
import type { ArcSelector } from './arc-selection.js';
import { HistoryRecorder } from './history-recorder.js';
import { EMPTY_RESOURCES, ResourceScope } from './resource-scope.js';
import type { ExecutionSnapshot, SnapshotFrame } from './snapshot.js';

/** Shared by every execution of one FSM. */
export interface ExecutionEnv {
  readonly plan: ExecutionPlan;
  readonly broker: ResourceBroker | undefined;
  readonly logger: FsmLogger;
  readonly recordHistory: boolean;
  /** Chooses among arcs whose conditions hold; undefined = first in priority order (depth_first). */
  readonly arcSelector: ArcSelector | undefined;
  /** Written into every history and snapshot (e.g. which config and functions produced it). */
  readonly runMetadata?: Record<string, unknown>;
}

export interface StateEvent {
  executionId: string;
  network: string;
  state: string;
  data: unknown;
}

export interface TransitionEvent {
  executionId: string;
  from: string;
  to: string;
  arc: string;
  network: string;
  /** Set when the arc pushes into a sub-network. */
  pushNetwork?: string;
}

/** Hooks and tracing for `AdvancedFSM`; absent on the hot path. */
export interface ExecutionObserver {
  onStateEnter?(event: StateEvent): void;
  onStateExit?(event: StateEvent & { durationMs: number }): void;
  onTransition?(event: TransitionEvent): void;
  onError?(event: StateEvent & { error: FsmErrorInfo }): void;
}

interface Frame {
  arc: CompiledArc;
  parentState: CompiledState;
  parentData: unknown;
  step: HistoryStep | undefined;
}

// Phases of the resumable state machine below. Numbers, not strings, to keep the switch cheap.
const ENTER = 0;
const PRE_VALIDATE = 1;
const TRANSFORM = 2;
const VALIDATE = 3;
const ARRIVED = 4;
const SELECT = 5;
const ARC_TRANSFORM = 6;
const LEAVE = 7;
const FAILING = 8;
const DONE = 9;

/** Returned by `advance()` when a pause condition (breakpoint, step) holds. */
export const PAUSED: unique symbol = Symbol('paused');
export type AdvanceResult = Promise<unknown> | typeof PAUSED | undefined;

const NEVER_ABORTED = new AbortController().signal;
const NO_PARAMS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

function allPure(list: readonly ResolvedFunction[]): boolean {
  for (let i = 0; i < list.length; i++) if ((list[i] as ResolvedFunction).pure !== true) return false;
  return true;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** When a run stops to write a checkpoint: one object per FSM, shared by its executions (no closure per record), keeping its counts on each execution. */
export interface PauseRule {
  due(execution: Execution, state: CompiledState): boolean;
}

/**
 * One record's run through a plan, as an explicit, resumable state machine: `advance()` does all the
 * synchronous work it can and returns a promise only when a function (or resource) is async. The
 * same code therefore serves `processSync` (no promise at all), `process` (await only when needed),
 * stepping and snapshots (pause between phases), with no per-step allocation on the sync path.
 */
export class Execution {
  readonly id: string;
  readonly env: ExecutionEnv;
  readonly context: FunctionContext;
  state: CompiledState;
  data: unknown;
  /** Data before the current state's (or arc's) transforms: what a failure leaves in copy mode. */
  private committed: unknown;
  phase = ENTER;
  private index = 0;
  private arcIndex = 0;
  private chosen: CompiledArc | undefined;
  readonly path: string[] = [];
  transitions = 0;
  private readonly stack: Frame[] = [];
  readonly startedAt: number;
  private readonly startedPerf: number;
  private resumeValue: unknown;
  private hasResume = false;
  /** The pending promise is the engine's own (acquire/release): its value feeds no function. */
  private internalPending = false;
  /** Progress markers inside ENTER and LEAVE, so a resumed phase does not redo its first half. */
  private entering = false;
  private leaving = false;
  private calling: ResolvedFunction | undefined;
  private callingRole = '';
  error: FsmError | undefined;
  private failure: FsmError | undefined;
  /** The state where the current failure happened (a failing sub-network's, not the pushing state). */
  private failedIn: string | undefined;
  private finalResult: ExecutionResult | undefined;
  private readonly scope: ResourceScope | undefined;
  private stateLeased = false;
  private arcsLeased = false;
  private owner = '';
  /** With an arc selector: arcs whose conditions held, and every arc taken (for its statistics). */
  private readonly candidates: CompiledArc[] = [];
  readonly takenArcs: CompiledArc[] = [];
  readonly recorder: HistoryRecorder | undefined;
  private currentStep: HistoryStep | undefined;
  private readonly input: unknown;
  observer: ExecutionObserver | undefined;
  private enteredAt = 0;
  /** Functions other than conditions called so far (a durable run skips checkpoints that protect none). */
  effects = 0;
  /** Asked at each arrival in a non-end state; true pauses before its arcs are chosen. */
  pauseWhen: ((state: CompiledState) => boolean) | undefined;
  /** A durable run's checkpoint rule, asked like `pauseWhen`; its counts are the two fields below. */
  readonly pauseRule: PauseRule | undefined;
  /** Arrivals the pause rule has counted, and `effects` when it last paused. */
  ruleArrivals = 0;
  ruleEffects = 0;

  constructor(
    env: ExecutionEnv,
    id: string,
    input: unknown,
    start: CompiledState,
    options: {
      signal?: AbortSignal | undefined;
      batch?: BatchInfo | undefined;
      pauseRule?: PauseRule | undefined;
    } = {},
  ) {
    this.env = env;
    this.pauseRule = options.pauseRule;
    this.id = id;
    this.state = start;
    this.input = input;
    this.data = input;
    this.committed = input;
    this.startedAt = Date.now();
    this.startedPerf = performance.now();
    this.scope = env.plan.usesResources ? new ResourceScope() : undefined;
    this.recorder = env.recordHistory ? new HistoryRecorder() : undefined;
    this.context = {
      state: start.name,
      network: start.network.name,
      executionId: id,
      params: NO_PARAMS,
      resources: this.scope ?? EMPTY_RESOURCES,
      signal: options.signal ?? NEVER_ABORTED,
      batch: options.batch,
      logger: env.logger,
      lastError: undefined,
      variables: {},
    };
  }

  get done(): boolean {
    return this.phase === DONE;
  }

  /** How many pushed sub-networks the execution is inside. */
  get depth(): number {
    return this.stack.length;
  }

  get result(): ExecutionResult | undefined {
    return this.finalResult;
  }

  /** Feeds the value an awaited promise resolved to; call `advance()` next. */
  resolve(value: unknown): void {
    if (this.internalPending) {
      this.internalPending = false;
      return;
    }
    this.resumeValue = value;
    this.hasResume = true;
  }

  /** Feeds the reason an awaited promise rejected with; call `advance()` next. */
  reject(reason: unknown): void {
    this.hasResume = false;
    this.internalPending = false;
    this.beginFailure(this.wrapError(reason));
  }

  /** Stops the run (timeout or abort): no recovery into parent networks; resources are released. */
  stop(code: Extract<FsmErrorCode, 'TIMEOUT' | 'ABORTED'>, message: string): void {
    this.hasResume = false;
    this.internalPending = false;
    this.beginFailure(
      new FsmError(code, message, { state: this.state.name, network: this.state.network.name }),
    );
  }

  /**
   * Runs until the record is done (returns undefined), a pause condition holds (PAUSED), or an
   * async function or resource operation is pending (returns its promise: await it, then
   * `resolve`/`reject`, then `advance` again).
   */
  advance(): AdvanceResult {
    for (;;) {
      try {
        return this.run();
      } catch (error) {
        this.hasResume = false;
        this.beginFailure(this.wrapError(error));
      }
    }
  }

  private run(): AdvanceResult {
    const ctx = this.context;
    for (;;) {
      const state = this.state;
      switch (this.phase) {
        case ENTER: {
          if (!this.entering) {
            this.entering = true;
            ctx.state = state.name;
            ctx.network = state.network.name;
            this.path.push(state.name);
            if (this.recorder) this.currentStep = this.recorder.enter(state.network.name, state.name);
            if (this.observer) {
              this.enteredAt = performance.now();
              this.observer.onStateEnter?.(this.event());
            }
            if (state.resources.length > 0) return this.acquire(state.resources, 'state');
          }
          this.entering = false;
          if (state.schema) {
            const issues = state.schema(this.data);
            if (issues) throw this.validationError(`schema of state "${state.name}"`, issues);
          }
          this.phase = PRE_VALIDATE;
          this.index = 0;
          break;
        }
        case PRE_VALIDATE:
        case VALIDATE: {
          const list = this.phase === PRE_VALIDATE ? state.preValidators : state.validators;
          while (this.index < list.length) {
            const fn = list[this.index] as ResolvedFunction;
            let outcome: unknown;
            if (this.hasResume) {
              outcome = this.resumeValue;
              this.hasResume = false;
            } else {
              outcome = this.call(fn, this.phase === PRE_VALIDATE ? 'pre_validator' : 'validator');
              if (isThenable(outcome)) return outcome as Promise<unknown>;
            }
            const issues = validatorIssues(outcome);
            if (issues) throw this.validationError(`validator "${fn.name}" of state "${state.name}"`, issues);
            this.index++;
          }
          if (this.phase === PRE_VALIDATE) {
            this.phase = TRANSFORM;
            this.index = 0;
            if (state.transforms.length > 0) this.beginChanges(state.dataMode === 'copy', state.transforms);
          } else this.phase = ARRIVED;
          break;
        }
        case TRANSFORM: {
          const pending = this.runTransforms(state.transforms, 'transform');
          if (pending) return pending;
          this.phase = VALIDATE;
          this.index = 0;
          break;
        }
        case ARRIVED: {
          if (state.isEnd) {
            // semantics: dataknobs — a push without return_state ends the run in the sub-network.
            if (this.stack.length === 0 || (this.stack.at(-1) as Frame).arc.push?.endsInChild)
              return this.finish();
            if (!this.leaving) {
              this.leaving = true;
              const leaving = this.leaveState(undefined);
              if (leaving) return leaving;
            }
            this.leaving = false;
            this.returnFromPush();
            break;
          }
          this.phase = SELECT;
          this.arcIndex = 0;
          if (this.pauseWhen?.(state) || this.pauseRule?.due(this, state)) return PAUSED;
          break;
        }
        case SELECT: {
          if (state.arcResources.length > 0 && !this.arcsLeased)
            return this.acquire(state.arcResources, 'arcs');
          const arcs = state.arcs;
          const selector = this.env.arcSelector;
          let chosen: CompiledArc | undefined;
          while (this.arcIndex < arcs.length) {
            const arc = arcs[this.arcIndex] as CompiledArc;
            const condition = arc.condition;
            let holds = true;
            if (condition !== undefined) {
              let outcome: unknown;
              if (this.hasResume) {
                outcome = this.resumeValue;
                this.hasResume = false;
              } else {
                outcome = this.call(condition, 'condition');
                if (isThenable(outcome)) return outcome as Promise<unknown>;
              }
              holds = conditionHolds(outcome);
            }
            if (holds) {
              if (!selector) {
                chosen = arc;
                break;
              }
              this.candidates.push(arc);
            }
            this.arcIndex++;
          }
          if (selector && this.candidates.length > 0) {
            chosen = selector.choose(this.candidates, state);
            this.candidates.length = 0;
            this.takenArcs.push(chosen);
          }
          if (!chosen) throw this.noTransition();
          this.chosen = chosen;
          if (++this.transitions > this.env.plan.maxTransitions) {
            throw new FsmError(
              'MAX_TRANSITIONS',
              `max_transitions (${this.env.plan.maxTransitions}) exceeded in state "${state.name}"`,
              { state: state.name, network: state.network.name },
            );
          }
          ctx.lastError = undefined;
          this.phase = ARC_TRANSFORM;
          this.index = 0;
          if (chosen.transforms.length > 0) this.beginChanges(state.dataMode === 'copy', chosen.transforms);
          break;
        }
        case ARC_TRANSFORM: {
          const pending = this.runTransforms((this.chosen as CompiledArc).transforms, 'arc transform');
          if (pending) return pending;
          this.phase = LEAVE;
          break;
        }
        case LEAVE: {
          const arc = this.chosen as CompiledArc;
          if (!this.leaving) {
            this.leaving = true;
            const leaving = this.leaveState(arc);
            if (leaving) return leaving;
          }
          this.leaving = false;
          this.takeArc(arc);
          break;
        }
        case FAILING: {
          if (this.stateLeased || this.arcsLeased) return this.releaseHeld();
          const failure = this.failure as FsmError;
          if (this.stack.length > 0 && isRecoverable(failure)) {
            this.recoverIntoParent(failure);
            break;
          }
          return this.finish();
        }
        default:
          return undefined;
      }
    }
  }

  /**
   * Runs `list` from `this.index` (a state's or an arc's transforms). Returns the promise of an async
   * function, whose value comes back through `resolve()` and is applied when the phase runs again.
   */
  private runTransforms(
    list: readonly ResolvedFunction[],
    role: 'transform' | 'arc transform',
  ): Promise<unknown> | undefined {
    while (this.index < list.length) {
      let outcome: unknown;
      if (this.hasResume) {
        outcome = this.resumeValue;
        this.hasResume = false;
      } else {
        outcome = this.call(list[this.index] as ResolvedFunction, role);
        if (isThenable(outcome)) return outcome as Promise<unknown>;
      }
      if (outcome !== undefined) this.data = outcome;
      this.index++;
    }
    this.committed = this.data;
    return undefined;
  }

  private call(fn: ResolvedFunction, role: string): unknown {
    // Conditions are arc tests and expressions compute values: neither has side effects, so a resume
    // may redo them; a checkpoint protects the other calls.
    if (role !== 'condition' && fn.expression !== true) this.effects++;
    this.calling = fn;
    this.callingRole = role;
    this.context.params = fn.params;
    return fn.call(this.data, this.context);
  }

  /** Copy mode: the state's (or arc's) transforms work on a copy, so a failure leaves the last good data. */
  private beginChanges(copy: boolean, transforms: readonly ResolvedFunction[]): void {
    this.committed = this.data;
    // Functions that never change their input (expressions) leave `committed` intact without a copy.
    if (copy && !allPure(transforms)) this.data = cloneData(this.data);
  }

  private acquire(bindings: readonly ResourceBinding[], kind: 'state' | 'arcs'): Promise<unknown> {
    const broker = this.env.broker;
    const scope = this.scope as ResourceScope;
    const state = this.state;
    this.owner = `${this.id}/${state.network.name}/${state.name}`;
    scope.state = state.name;
    const owner = this.owner;
    if (kind === 'state') this.stateLeased = true;
    else this.arcsLeased = true;
    if (!broker) {
      return Promise.reject(
        new FsmError(
          'RESOURCE_UNAVAILABLE',
          `state "${state.name}" declares resources but the FSM has no resource manager`,
          {
            state: state.name,
          },
        ),
      );
    }
    const signal = this.context.signal;
    this.internalPending = true;
    return (async () => {
      for (const binding of bindings) {
        const lease = await broker.acquire(binding.name, owner, signal);
        scope.add(binding, lease.handle);
      }
    })();
  }

  /** Releases what this state (and its arcs) held; returns a promise when there was something. */
  private leaveState(arc: CompiledArc | undefined): Promise<unknown> | undefined {
    const state = this.state;
    if (this.recorder && this.currentStep) {
      this.recorder.leave(this.currentStep, arc?.label, this.data, state.dataMode, this.scope?.heldNames());
    }
    if (this.observer) {
      this.observer.onStateExit?.({ ...this.event(), durationMs: performance.now() - this.enteredAt });
    }
    if (this.stateLeased || this.arcsLeased) return this.releaseHeld();
    return undefined;
  }

  private releaseHeld(): Promise<unknown> {
    const broker = this.env.broker as ResourceBroker;
    this.stateLeased = false;
    this.arcsLeased = false;
    this.scope?.clear();
    this.internalPending = true;
    return broker.releaseAll(this.owner);
  }

  private takeArc(arc: CompiledArc): void {
    const from = this.state;
    const push = arc.push;
    if (push) {
      this.stack.push({ arc, parentState: from, parentData: this.data, step: this.currentStep });
      if (this.recorder && this.currentStep) this.recorder.push(this.currentStep);
      let child: unknown = this.data;
      if (push.dataMapping) {
        const mapped: Record<string, unknown> = {};
        for (const [parentField, childField] of push.dataMapping)
          setField(mapped, childField, getField(child, parentField));
        child = mapped;
      }
      this.data =
        push.isolation === 'copy'
          ? cloneData(child)
          : push.isolation === 'serialize'
            ? serializeData(child)
            : child;
      this.committed = this.data;
      this.state = push.network.start;
    } else {
      this.state = arc.target;
    }
    this.observer?.onTransition?.({
      executionId: this.id,
      from: from.name,
      to: this.state.name,
      arc: arc.label,
      network: from.network.name,
      ...(push ? { pushNetwork: push.network.name } : {}),
    });
    this.chosen = undefined;
    this.phase = ENTER;
  }

  /** A sub-network reached an end state: map its result back and continue in the return state. */
  private returnFromPush(): void {
    const frame = this.stack.pop() as Frame;
    const push = frame.arc.push as NonNullable<CompiledArc['push']>;
    if (frame.step) frame.step.endedAt = Date.now();
    const result = this.data;
    let parent = frame.parentData;
    if (push.resultMapping) {
      const copy = frame.parentState.dataMode === 'copy';
      const target: Record<string, unknown> = isObject(parent) ? (copy ? { ...parent } : parent) : {};
      for (const [childField, parentField] of push.resultMapping)
        setField(target, parentField, getField(result, childField));
      parent = target;
    } else if (
      push.replacesData ||
      push.isolation === 'reference' ||
      !isObject(parent) ||
      !isObject(result)
    ) {
      parent = result;
    } else {
      parent = { ...parent, ...result };
    }
    this.data = parent;
    this.committed = parent;
    if (this.recorder) this.recorder.pop();
    this.state = frame.arc.target;
    this.phase = ENTER;
  }

  /** A sub-network failed: back in the pushing state, its remaining arcs may handle the failure. */
  private recoverIntoParent(failure: FsmError): void {
    const frame = this.stack.pop() as Frame;
    if (this.recorder) this.recorder.pop();
    this.currentStep = frame.step;
    this.context.lastError = { code: failure.code, message: failure.message };
    this.data = frame.parentData;
    this.committed = frame.parentData;
    this.state = frame.parentState;
    this.context.state = frame.parentState.name;
    this.context.network = frame.parentState.network.name;
    const next = frame.arc.index + 1;
    if (next >= frame.parentState.arcs.length) {
      // Nothing left to try in this parent: the failure moves up (or becomes the record's failure).
      this.phase = FAILING;
      return;
    }
    this.failure = undefined;
    this.error = undefined;
    this.phase = SELECT;
    this.arcIndex = next;
  }

  private beginFailure(error: FsmError): void {
    if (this.phase === DONE) return;
    // A copy-mode failure discards the failed state's changes.
    if (this.state.dataMode === 'copy') this.data = this.committed;
    this.failure = error;
    this.error = error;
    this.failedIn = this.state.name;
    this.entering = false;
    this.leaving = false;
    if (this.recorder) this.recorder.fail(this.currentStep, error.toJSON());
    this.observer?.onError?.({ ...this.event(), error: error.toJSON() });
    this.phase = FAILING;
  }

  private finish(): undefined {
    const failure = this.phase === FAILING ? this.failure : undefined;
    if (!failure && this.recorder && this.currentStep) {
      this.recorder.leave(
        this.currentStep,
        undefined,
        this.data,
        this.state.dataMode,
        this.scope?.heldNames(),
      );
    }
    if (!failure && this.observer) {
      this.observer.onStateExit?.({ ...this.event(), durationMs: performance.now() - this.enteredAt });
    }
    this.phase = DONE;
    const result: ExecutionResult = {
      success: failure === undefined,
      finalState: failure ? (this.failedIn ?? this.state.name) : this.state.name,
      data: this.data,
      path: this.path,
      executionId: this.id,
      transitions: this.transitions,
      durationMs: performance.now() - this.startedPerf,
    };
    if (failure) result.error = failure.toJSON();
    const batch = this.context.batch;
    if (batch) {
      result.batchId = batch.batchId;
      result.itemIndex = batch.itemIndex;
    }
    if (this.recorder) {
      try {
        result.history = this.toHistory(result);
      } catch (error) {
        // The record's data cannot be copied into its history (nested too deep, a cycle): it fails alone.
        const failure = this.wrapError(error);
        this.error = failure;
        result.success = false;
        result.error = failure.toJSON();
        result.history = this.toHistory(result, false);
      }
    }
    if (this.env.arcSelector && this.takenArcs.length > 0)
      this.env.arcSelector.recordOutcome(this.takenArcs, result.success);
    this.finalResult = result;
    return undefined;
  }

  /** `copy: false` keeps references to the record's data (for data that cannot be copied). */
  toHistory(result?: ExecutionResult, copy = true): ExecutionHistory {
    const copyMode = copy && this.env.plan.config.data_mode.default === 'copy';
    const steps = this.recorder?.steps ?? [];
    const history = new ExecutionHistory({
      executionId: this.id,
      fsm: this.env.plan.name,
      status: result ? (result.success ? 'succeeded' : 'failed') : 'running',
      startedAt: this.startedAt,
      steps,
      input: copyMode ? snapshotLike(this.input, steps[0]?.data) : this.input,
    });
    if (this.env.runMetadata) history.metadata = { ...this.env.runMetadata };
    if (result) {
      history.endedAt = Date.now();
      history.finalState = result.finalState;
      if (result.error) history.error = result.error;
      history.output = {
        data: copyMode ? snapshotLike(result.data, steps[steps.length - 1]?.data) : result.data,
        path: [...result.path],
        transitions: result.transitions,
      };
    }
    const batch = this.context.batch;
    if (batch) {
      history.batchId = batch.batchId;
      history.itemIndex = batch.itemIndex;
    }
    return history;
  }

  private event(): StateEvent {
    return {
      executionId: this.id,
      network: this.state.network.name,
      state: this.state.name,
      data: this.data,
    };
  }

  private noTransition(): FsmError {
    const state = this.state;
    const lastError = this.context.lastError;
    if (lastError) {
      return new FsmError(
        (lastError.code as FsmErrorCode) ?? 'FUNCTION_FAILED',
        `${lastError.message} (no arc of state "${state.name}" handled the sub-network's failure)`,
        { state: state.name, network: state.network.name },
      );
    }
    return new FsmError(
      'NO_TRANSITION',
      `No valid transition from state "${state.name}"` +
        (state.arcs.length === 0
          ? ' (it has no arcs and is not an end state)'
          : ` (none of its ${state.arcs.length} arc conditions held)`),
      { state: state.name, network: state.network.name },
    );
  }

  private validationError(what: string, issues: ValidationIssue[]): ValidationError {
    const detail = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    return new ValidationError(`${what} failed: ${detail}`, issues, {
      state: this.state.name,
      network: this.state.network.name,
    });
  }

  private wrapError(error: unknown): FsmError {
    if (FsmError.is(error)) {
      if (error.state !== undefined) return error;
      if (error instanceof ValidationError) {
        return new ValidationError(error.message, error.issues, {
          state: this.state.name,
          network: this.state.network.name,
          cause: error.cause,
        });
      }
      return new FsmError(error.code, error.message, {
        state: this.state.name,
        network: this.state.network.name,
        cause: error,
      });
    }
    const fn = this.calling;
    const message = error instanceof Error ? error.message : String(error);
    const where = fn ? `${this.callingRole} "${fn.name}" (${fn.path})` : 'a function';
    return new FsmError('FUNCTION_FAILED', `${where} failed in state "${this.state.name}": ${message}`, {
      state: this.state.name,
      network: this.state.network.name,
      cause: error,
    });
  }

  /**
   * Plain JSON of where the execution is; only between steps (before entering, or before choosing an arc).
   * `withSteps: false` leaves the history steps out (a step log stores them as deltas); `live: true`
   * shares the data instead of copying it, for a caller that serializes it before the record runs on.
   */
  snapshot(withSteps = true, live = false): ExecutionSnapshot {
    const json = live ? same : serializeData;
    const atStart = this.phase === ENTER && !this.entering;
    const atSelect = (this.phase === SELECT && this.arcIndex === 0) || this.phase === ARRIVED;
    if (!atStart && !atSelect) {
      throw new FsmError(
        'MISUSE',
        'A snapshot can only be taken between steps (paused, or before the first step)',
      );
    }
    const frames: SnapshotFrame[] = this.stack.map((frame) => ({
      network: frame.parentState.network.name,
      state: frame.parentState.name,
      arcIndex: frame.arc.index,
      parentData: json(frame.parentData),
    }));
    const snapshot: ExecutionSnapshot = {
      version: 1,
      fsm: this.env.plan.name,
      executionId: this.id,
      network: this.state.network.name,
      state: this.state.name,
      phase: atStart ? 'enter' : 'select',
      data: json(this.data),
      transitions: this.transitions,
      path: [...this.path],
      startedAt: this.startedAt,
      stack: frames,
      variables: json(this.context.variables),
    };
    if (this.recorder && withSteps) snapshot.steps = serializeData(this.recorder.steps);
    if (this.context.batch) snapshot.batch = { ...this.context.batch };
    if (this.env.runMetadata) snapshot.metadata = { ...this.env.runMetadata };
    return snapshot;
  }

  /** Puts a fresh execution where a snapshot was taken (used by resume). */
  restore(snapshot: ExecutionSnapshot): void {
    const plan = this.env.plan;
    const findState = (network: string, state: string): CompiledState => {
      const found = plan.networks.get(network)?.byName.get(state);
      if (!found) {
        throw new FsmError(
          'SNAPSHOT_INVALID',
          `snapshot names state "${network}/${state}", which this FSM does not have`,
        );
      }
      return found;
    };
    for (const frame of snapshot.stack) {
      const parentState = findState(frame.network, frame.state);
      const arc = parentState.arcs[frame.arcIndex];
      if (!arc?.push) {
        throw new FsmError(
          'SNAPSHOT_INVALID',
          `snapshot frame arc ${frame.arcIndex} of "${frame.state}" is not a push arc`,
        );
      }
      this.stack.push({ arc, parentState, parentData: frame.parentData, step: undefined });
    }
    this.state = findState(snapshot.network, snapshot.state);
    this.data = snapshot.data;
    this.committed = snapshot.data;
    this.transitions = snapshot.transitions;
    this.path.push(...snapshot.path);
    // A stored snapshot is outside data: its keys are defined as own properties, never assigned (`__proto__`).
    for (const [key, value] of Object.entries(snapshot.variables ?? {}))
      defineOwn(this.context.variables, key, value);
    this.context.state = this.state.name;
    this.context.network = this.state.network.name;
    if (snapshot.phase === 'select') {
      this.phase = SELECT;
      this.arcIndex = 0;
    }
    // The history continues where the snapshot's steps end, so a resumed record has one whole history.
    if (this.recorder && Array.isArray(snapshot.steps)) {
      const pushers = this.recorder.restore(snapshot.steps as HistoryStep[], this.stack.length);
      for (let i = 0; i < pushers.length; i++) (this.stack[i] as Frame).step = pushers[i];
      if (snapshot.phase === 'select') this.currentStep = this.recorder.last();
    }
  }
}

const same = <T>(value: T): T => value;

function conditionHolds(outcome: unknown): boolean {
  return Array.isArray(outcome) ? Boolean(outcome[0]) : Boolean(outcome);
}

/** Reads a validator's outcome: true/undefined/{valid:true} pass; false/{valid:false,...} fail. */
function validatorIssues(outcome: unknown): ValidationIssue[] | undefined {
  if (outcome === undefined || outcome === true || outcome === null) return undefined;
  if (outcome === false) return [{ path: '', message: 'returned false' }];
  if (Array.isArray(outcome)) {
    return outcome[0] ? undefined : [{ path: '', message: String(outcome[1] ?? 'returned false') }];
  }
  if (isObject(outcome) && 'valid' in outcome) {
    if (outcome.valid) return undefined;
    const errors = outcome.errors;
    if (Array.isArray(errors) && errors.length > 0) {
      return errors.map((e) =>
        isObject(e)
          ? { path: String(e.path ?? ''), message: String(e.message ?? JSON.stringify(e)) }
          : { path: '', message: String(e) },
      );
    }
    return [{ path: '', message: String(outcome.reason ?? outcome.message ?? 'invalid') }];
  }
  return undefined;
}

function isRecoverable(error: FsmError): boolean {
  return error.code !== 'TIMEOUT' && error.code !== 'ABORTED' && error.code !== 'MAX_TRANSITIONS';
}

/** A copy of `value`, or `snapshot` (a history step's copy) when it holds the same values: one copy less. */
function snapshotLike(value: unknown, snapshot: unknown): unknown {
  return snapshot !== undefined && sameValues(value, snapshot) ? snapshot : cloneData(value);
}
