import type { FsmErrorInfo } from '../errors/fsm-error.js';
import type { BuiltinFunction, FsmFunction, FsmLogger } from '../functions/types.js';
import type { ExecutionHistory } from '../history/execution-history.js';
import type { HistoryStore } from '../interfaces/history-store.js';
import type { ResourceBroker, ResourceFactory, ResourceProvider } from '../interfaces/resource.js';
import type { TracingOptions } from '../tracing/otel.js';

/** The outcome of one record. `process()` returns failures as results; it never throws for them. */
export interface ExecutionResult<TData = unknown> {
  success: boolean;
  finalState: string;
  data: TData;
  /** States entered, in order (sub-network states included). */
  path: string[];
  error?: FsmErrorInfo;
  executionId: string;
  transitions: number;
  durationMs: number;
  /** Set when the record ran in a batch. */
  batchId?: string;
  itemIndex?: number;
  /** Set when history recording is on. */
  history?: ExecutionHistory;
}

export interface FsmOptions {
  /** Registered functions, looked up first by name. */
  functions?: Readonly<Record<string, FsmFunction>>;
  /** Builtin packs from other packages (e.g. `@fsm/llm`'s `llmBuiltins`). */
  builtins?: readonly BuiltinFunction[];
  /** Provider instances by resource name: override or add to the config's `resources:`. */
  resources?: Readonly<Record<string, ResourceProvider>>;
  /** Factories for config resource types (`database`, `http`, `llm`, …), e.g. from `@fsm/resources`. */
  resourceTypes?: Readonly<Record<string, ResourceFactory>>;
  /** The resource manager to use; defaults to core's unpooled `BasicResourceManager`. */
  resourceManager?: ResourceBroker;
  /** Where histories are saved (and checkpoints, when the store is also a `CheckpointStore`). */
  storage?: HistoryStore;
  /** Record history for every execution (on by default when `storage` is given). */
  history?: boolean;
  /** Checkpoint policy when `storage` is a CheckpointStore. */
  checkpoint?: 'every-step' | 'end' | { every: number };
  /** Allow inline JavaScript and custom modules from the config. Default false. */
  allowCode?: boolean;
  /** Kept in every history's `metadata` and every checkpoint (e.g. `{ config: '/abs/orders.yaml' }`). */
  runMetadata?: Record<string, unknown>;
  /** Environment for `${VAR}` substitution; defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Folders besides the config's own that `$include`/`$import` may read (see `loadConfig`). */
  allowedRoots?: readonly string[];
  /**
   * For a config given as an object: the folder its `$include`/`$import` and custom modules resolve against
   * (and may read from); default the current directory. A config file uses its own folder.
   */
  baseDir?: string;
  logger?: FsmLogger;
  /**
   * OpenTelemetry: a span per execution, state and push. On by default when `@opentelemetry/api` is
   * installed and a tracer provider is registered; `{ tracer }` picks one, `{ enabled: false }` turns it off.
   */
  tracing?: TracingOptions;
}

export interface ProcessOptions {
  /** Start here: `state` of the main network, or `network.state`. */
  initialState?: string;
  /** Enter this network at its start state (see core's README for how the entry network is chosen). */
  network?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Use this execution id instead of a generated one. */
  executionId?: string;
}

/** Anything that processes one record: `fsm.process.bind(fsm)`, or a queue runner's submit. */
export type RecordProcessor<TIn = unknown, TOut = unknown> = (
  record: TIn,
  options?: ProcessOptions,
) => Promise<ExecutionResult<TOut>>;
