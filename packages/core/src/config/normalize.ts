import type { ConfigIssue } from '../errors/index.js';
import { childPath } from './path.js';
import type { RawArc, RawConfig, RawFunctionRef, RawNetwork, RawNetworkArc, RawState } from './schema.js';
import type {
  ArcConfig,
  ConfigWarning,
  DataModeConfig,
  FsmConfig,
  FunctionRef,
  NetworkConfig,
  ResourceConfig,
  StateConfig,
  StreamConfig,
} from './types.js';

/** Where each normalized network, state and arc came from in the file (arcs moved from network level too). */
export type Origins = WeakMap<object, string>;

export interface Normalized {
  config: FsmConfig;
  origins: Origins;
  issues: ConfigIssue[];
  warnings: ConfigWarning[];
}

export const DEFAULTS = {
  version: '1.0.0',
  data_mode: 'copy',
  execution_strategy: 'depth_first',
  max_transitions: 1000,
  priority: 0,
  resource: { connection_pool_size: 10, timeout_seconds: 30, retry_attempts: 3, retry_delay_seconds: 1.0 },
  stream: { enabled: false, chunk_size: 1000, parallelism: 1, backpressure_threshold: 0.8 },
  mainNetworkOfShorthand: 'main',
} as const;

/** Copies `value` to `target[key]` unless undefined (for exactOptionalPropertyTypes). */
function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

export function normalizeFunctionRef(ref: RawFunctionRef): FunctionRef {
  if (typeof ref === 'string') return ref;
  const type = ref.type ?? 'registered';
  const params = ref.params;
  switch (type) {
    case 'registered':
    case 'builtin': {
      const out: FunctionRef = { type, name: ref.name ?? '' };
      put(out, 'params', params);
      return out;
    }
    case 'expression': {
      const out: FunctionRef = { type, code: ref.code ?? '' };
      put(out, 'language', ref.language);
      put(out, 'params', params);
      return out;
    }
    case 'inline': {
      const out: FunctionRef = { type, code: ref.code ?? '' };
      put(out, 'params', params);
      return out;
    }
    case 'custom': {
      const out: FunctionRef = { type, module: ref.module ?? '', name: ref.name ?? '' };
      put(out, 'params', params);
      return out;
    }
  }
}

function refList(refs: RawFunctionRef | RawFunctionRef[] | undefined): FunctionRef[] {
  if (refs === undefined) return [];
  return (Array.isArray(refs) ? refs : [refs]).map(normalizeFunctionRef);
}

function normalizeArc(
  raw: RawArc | RawNetworkArc,
  target: string | undefined,
  targetKey: 'target' | 'to',
  path: string,
  issues: ConfigIssue[],
): ArcConfig | undefined {
  const resolvedTarget = target ?? (raw.target_network !== undefined ? raw.return_state : undefined);
  if (resolvedTarget === undefined) {
    issues.push({
      path: childPath(path, targetKey),
      message:
        raw.target_network !== undefined
          ? `a push arc needs '${targetKey}' or 'return_state'`
          : `an arc needs a '${targetKey}' state`,
    });
    return undefined;
  }
  const arc: ArcConfig = { target: resolvedTarget, priority: raw.priority ?? DEFAULTS.priority };
  if (raw.condition !== undefined) arc.condition = normalizeFunctionRef(raw.condition);
  if (raw.transform !== undefined) {
    arc.transform = Array.isArray(raw.transform)
      ? raw.transform.map(normalizeFunctionRef)
      : normalizeFunctionRef(raw.transform);
  }
  put(arc, 'resources', raw.resources);
  put(arc, 'name', raw.name);
  put(arc, 'metadata', raw.metadata);
  put(arc, 'target_network', raw.target_network);
  put(arc, 'return_state', raw.return_state);
  put(arc, 'data_isolation', raw.data_isolation);
  put(arc, 'data_mapping', raw.data_mapping);
  put(arc, 'result_mapping', raw.result_mapping);
  return arc;
}

function normalizeState(raw: RawState, path: string, origins: Origins, issues: ConfigIssue[]): StateConfig {
  const state: StateConfig = {
    name: raw.name,
    is_start: raw.is_start ?? false,
    is_end: raw.is_end ?? false,
    pre_validators: refList(raw.pre_validators),
    transforms: refList(raw.transforms),
    validators: refList(raw.validators),
    arcs: [],
    resources: raw.resources ?? [],
    emit_output: raw.emit_output ?? true,
    run_on_failure: raw.run_on_failure ?? false,
  };
  put(state, 'schema', raw.schema ?? raw.data_schema);
  put(state, 'data_mode', raw.data_mode);
  if (raw.retry !== undefined) {
    state.retry = { attempts: raw.retry.attempts };
    put(state.retry, 'backoff', raw.retry.backoff);
    put(state.retry, 'delay_ms', raw.retry.delay_ms);
  }
  put(state, 'metadata', raw.metadata);
  (raw.arcs ?? []).forEach((rawArc, i) => {
    const arcPath = childPath(childPath(path, 'arcs'), i);
    const arc = normalizeArc(rawArc, rawArc.target, 'target', arcPath, issues);
    if (arc) {
      origins.set(arc, arcPath);
      state.arcs.push(arc);
    }
  });
  origins.set(state, path);
  return state;
}

function normalizeStream(raw: NonNullable<RawNetwork['streaming']>): StreamConfig {
  const stream: StreamConfig = {
    enabled: raw.enabled ?? DEFAULTS.stream.enabled,
    chunk_size: raw.chunk_size ?? DEFAULTS.stream.chunk_size,
    parallelism: raw.parallelism ?? DEFAULTS.stream.parallelism,
    backpressure_threshold: raw.backpressure_threshold ?? DEFAULTS.stream.backpressure_threshold,
  };
  put(stream, 'memory_limit_mb', raw.memory_limit_mb);
  put(stream, 'format', raw.format);
  return stream;
}

interface NetworkInput {
  name: string;
  states: RawState[];
  arcs?: RawNetworkArc[] | undefined;
  resources?: string[] | undefined;
  streaming?: RawNetwork['streaming'];
  metadata?: Record<string, unknown> | undefined;
}

/**
 * `statesPath`/`arcsPath` say where the network's states and network-level arcs are in the file
 * (`networks[0].states`, or `states` for the single-network shorthand).
 */
function normalizeNetwork(
  raw: NetworkInput,
  paths: { network: string; states: string; arcs: string },
  origins: Origins,
  issues: ConfigIssue[],
): NetworkConfig {
  const states = raw.states.map((s, j) => normalizeState(s, childPath(paths.states, j), origins, issues));
  (raw.arcs ?? []).forEach((rawArc, k) => {
    const arcPath = childPath(paths.arcs, k);
    const source = states.find((s) => s.name === rawArc.from);
    if (!source) {
      issues.push({
        path: childPath(arcPath, 'from'),
        message: `unknown state '${rawArc.from}' in network '${raw.name}'`,
      });
      return;
    }
    const arc = normalizeArc(rawArc, rawArc.to, 'to', arcPath, issues);
    if (arc) {
      origins.set(arc, arcPath);
      source.arcs.push(arc);
    }
  });
  const network: NetworkConfig = { name: raw.name, states, resources: raw.resources ?? [] };
  if (raw.streaming !== undefined) network.streaming = normalizeStream(raw.streaming);
  put(network, 'metadata', raw.metadata);
  origins.set(network, paths.network);
  return network;
}

function normalizeResource(raw: NonNullable<RawConfig['resources']>[number]): ResourceConfig {
  const resource: ResourceConfig = {
    name: raw.name,
    type: raw.type,
    config: raw.config ?? {},
    connection_pool_size: raw.connection_pool_size ?? DEFAULTS.resource.connection_pool_size,
    timeout_seconds: raw.timeout_seconds ?? DEFAULTS.resource.timeout_seconds,
    retry_attempts: raw.retry_attempts ?? DEFAULTS.resource.retry_attempts,
    retry_delay_seconds: raw.retry_delay_seconds ?? DEFAULTS.resource.retry_delay_seconds,
  };
  put(resource, 'health_check_interval', raw.health_check_interval);
  return resource;
}

function normalizeDataMode(raw: RawConfig['data_mode']): DataModeConfig {
  if (raw === undefined) return { default: DEFAULTS.data_mode, state_overrides: {} };
  if (typeof raw === 'string') return { default: raw, state_overrides: {} };
  return { default: raw.default ?? DEFAULTS.data_mode, state_overrides: raw.state_overrides ?? {} };
}

/** Turns a schema-valid raw config into the normalized FsmConfig: defaults, shorthand, network-level arcs. */
export function normalizeRaw(raw: RawConfig): Normalized {
  const origins: Origins = new WeakMap();
  const issues: ConfigIssue[] = [];
  const warnings: ConfigWarning[] = [];

  let networks: NetworkConfig[];
  if (raw.networks !== undefined) {
    if (raw.states !== undefined || raw.arcs !== undefined) {
      issues.push({
        path: raw.states !== undefined ? 'states' : 'arcs',
        message: "top-level 'states'/'arcs' (single-network shorthand) cannot be combined with 'networks'",
      });
    }
    networks = raw.networks.map((n, i) => {
      const path = childPath('networks', i);
      return normalizeNetwork(
        n,
        { network: path, states: childPath(path, 'states'), arcs: childPath(path, 'arcs') },
        origins,
        issues,
      );
    });
  } else if (raw.states !== undefined) {
    networks = [
      normalizeNetwork(
        { name: raw.main_network ?? DEFAULTS.mainNetworkOfShorthand, states: raw.states, arcs: raw.arcs },
        { network: '', states: 'states', arcs: 'arcs' },
        origins,
        issues,
      ),
    ];
  } else {
    issues.push({ path: 'networks', message: "a config needs 'networks' (or top-level 'states')" });
    networks = [];
  }

  let mainNetwork = raw.main_network;
  if (mainNetwork === undefined) {
    if (networks.length > 1) {
      issues.push({ path: 'main_network', message: 'required when the config has more than one network' });
    }
    mainNetwork = networks[0]?.name ?? DEFAULTS.mainNetworkOfShorthand;
  }

  if (raw.transaction !== undefined) {
    warnings.push({
      path: 'transaction',
      message:
        "the 'transaction' block is no longer supported and is ignored; use database transactions (batched commits) for atomicity",
    });
  }

  const functions: Record<string, FunctionRef> = {};
  for (const [key, ref] of Object.entries(raw.functions ?? {})) functions[key] = normalizeFunctionRef(ref);

  // Key order as in types.ts, so printed configs read naturally.
  const config: FsmConfig = {
    name: raw.name,
    version: raw.version === undefined ? DEFAULTS.version : String(raw.version),
    ...(raw.description !== undefined ? { description: raw.description } : {}),
    main_network: mainNetwork,
    data_mode: normalizeDataMode(raw.data_mode),
    resources: (raw.resources ?? []).map(normalizeResource),
    functions,
    networks,
    execution_strategy: raw.execution_strategy ?? DEFAULTS.execution_strategy,
    ...(raw.semantics === 'dataknobs' ? { semantics: raw.semantics } : {}),
    ...(raw.network_hint_field !== undefined ? { network_hint_field: raw.network_hint_field } : {}),
    max_transitions: raw.max_transitions ?? DEFAULTS.max_transitions,
    ...(raw.timeout_seconds !== undefined ? { timeout_seconds: raw.timeout_seconds } : {}),
    ...(raw.metadata !== undefined ? { metadata: raw.metadata } : {}),
  };
  return { config, origins, issues, warnings };
}
