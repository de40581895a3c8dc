/**
 * The normalized config: what `loadConfig` returns and the engine compiles. Keys are those of the
 * file (snake_case, as in dataknobs-fsm); defaults are applied, env and includes resolved, and
 * network-level `from/to` arcs moved onto their source states.
 */

export type DataMode = 'copy' | 'reference' | 'direct';
export type DataIsolation = 'copy' | 'reference' | 'serialize';
export type ExecutionStrategy = 'depth_first' | 'breadth_first' | 'resource_optimized' | 'stream_optimized';
export type ExpressionLanguage = 'jsonata' | 'cel';
/**
 * `dataknobs`: a push arc without `return_state` ends the run inside the sub-network, and one without
 * `result_mapping` replaces the parent's data with the sub-network's result (as dataknobs-fsm does).
 */
export type Semantics = 'fsm' | 'dataknobs';

/** JSON-compatible value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type FunctionParams = Record<string, unknown>;

/** How a condition, transform or validator is named in a config. */
export type FunctionRef =
  | string
  | { type: 'registered' | 'builtin'; name: string; params?: FunctionParams }
  | { type: 'expression'; code: string; language?: ExpressionLanguage; params?: FunctionParams }
  | { type: 'inline'; code: string; params?: FunctionParams }
  | { type: 'custom'; module: string; name: string; params?: FunctionParams };

export interface RetryPolicyConfig {
  attempts: number;
  backoff?: 'fixed' | 'exponential';
  delay_ms?: number;
}

export interface ArcConfig {
  target: string;
  condition?: FunctionRef;
  /** One transform or a list, run in order. */
  transform?: FunctionRef | FunctionRef[];
  /** Resources held while the arc's condition and transform run: a list of names or a `{role: name}` map. */
  resources?: string[] | Record<string, string>;
  /** Higher first; ties keep declaration order. */
  priority: number;
  /** From network-level arcs (`name:`), kept for history and graphs. */
  name?: string;
  metadata?: Record<string, unknown>;
  /** Push arc: run this network, then continue in `return_state` (or `target`). */
  target_network?: string;
  return_state?: string;
  data_isolation?: DataIsolation;
  /** Push arc: `{parentField: childField}` copied into the sub-network's data. */
  data_mapping?: Record<string, string>;
  /** Push arc: `{childField: parentField}` copied back from the sub-network's result. */
  result_mapping?: Record<string, string>;
}

export interface StateConfig {
  name: string;
  is_start: boolean;
  is_end: boolean;
  /** JSON Schema checked on entry. */
  schema?: Record<string, unknown>;
  pre_validators: FunctionRef[];
  transforms: FunctionRef[];
  validators: FunctionRef[];
  arcs: ArcConfig[];
  resources: string[];
  data_mode?: DataMode;
  emit_output: boolean;
  run_on_failure: boolean;
  retry?: RetryPolicyConfig;
  metadata?: Record<string, unknown>;
}

export interface StreamConfig {
  enabled: boolean;
  chunk_size: number;
  parallelism: number;
  memory_limit_mb?: number;
  backpressure_threshold: number;
  format?: string;
}

export interface NetworkConfig {
  name: string;
  states: StateConfig[];
  resources: string[];
  streaming?: StreamConfig;
  metadata?: Record<string, unknown>;
}

export type ResourceType =
  | 'database'
  | 'async_database'
  | 'filesystem'
  | 'http'
  | 'llm'
  | 'vector_store'
  | 'custom'
  | (string & {});

export interface ResourceConfig {
  name: string;
  type: ResourceType;
  config: Record<string, unknown>;
  connection_pool_size: number;
  timeout_seconds: number;
  retry_attempts: number;
  retry_delay_seconds: number;
  health_check_interval?: number;
}

export interface DataModeConfig {
  default: DataMode;
  state_overrides: Record<string, DataMode>;
}

export interface FsmConfig {
  name: string;
  version: string;
  description?: string;
  main_network: string;
  data_mode: DataModeConfig;
  resources: ResourceConfig[];
  functions: Record<string, FunctionRef>;
  networks: NetworkConfig[];
  execution_strategy: ExecutionStrategy;
  /** Absent means `fsm`. */
  semantics?: Semantics;
  /**
   * Opt-in: a record field (e.g. `_network`) whose value, when it names a network, is where the record
   * enters. Absent: the entry comes from the caller's options or the config only, never from record data.
   */
  network_hint_field?: string;
  max_transitions: number;
  timeout_seconds?: number;
  metadata?: Record<string, unknown>;
}

/** A non-fatal finding (unreachable state, deprecated key). */
export interface ConfigWarning {
  path: string;
  message: string;
}

export interface LoadedConfig {
  config: FsmConfig;
  warnings: ConfigWarning[];
  /** Absolute path of the file the config came from, when it came from a file. */
  sourceFile?: string;
  /** Directory that relative paths in the config (custom modules) resolve against. */
  baseDir: string;
}
