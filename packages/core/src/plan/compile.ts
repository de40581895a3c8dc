import type { ArcConfig, FsmConfig, FunctionRef, NetworkConfig, StateConfig } from '../config/types.js';
import { ConfigError, type ConfigIssue } from '../errors/errors.js';
import type { FunctionResolver } from '../functions/resolver-types.js';
import type { FunctionRole, ResolvedFunction } from '../functions/types.js';
import { checkConfigFieldPath } from '../util/safe-keys.js';
import type {
  CompiledArc,
  CompiledNetwork,
  CompiledSchema,
  CompiledState,
  ExecutionPlan,
  PushSpec,
  ResourceBinding,
} from './types.js';

export interface CompileOptions {
  resolver: FunctionResolver;
  /** Compiles a state's JSON Schema (ajv in core); throws a ConfigError for an invalid schema. */
  compileSchema: (schema: Record<string, unknown>, path: string) => CompiledSchema;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Compiles a normalized config into an execution plan: every function reference resolved once, arcs
 * sorted by priority (ties keep declaration order), targets linked to state objects. Collects every
 * problem and throws one ConfigError listing them all.
 */
export async function compilePlan(config: FsmConfig, options: CompileOptions): Promise<ExecutionPlan> {
  const issues: ConfigIssue[] = [];
  let codeRefused = false;
  const resolveOne = async (ref: FunctionRef, role: FunctionRole, path: string) => {
    try {
      return await options.resolver.resolve(ref, role, path);
    } catch (error) {
      if (error instanceof ConfigError) {
        issues.push(...error.issues);
        if (error.code === 'CODE_NOT_ALLOWED') codeRefused = true;
      } else {
        issues.push({ path, message: error instanceof Error ? error.message : String(error) });
      }
      return undefined;
    }
  };
  const resolveList = async (refs: readonly FunctionRef[], role: FunctionRole, path: string) => {
    const resolved = await Promise.all(refs.map((ref, i) => resolveOne(ref, role, `${path}[${i}]`)));
    return resolved.filter((f): f is ResolvedFunction => f !== undefined);
  };

  const networks = new Map<string, CompiledNetwork>();
  const allStates: CompiledState[] = [];
  const pendingArcs: Array<{ state: Mutable<CompiledState>; arcs: ArcConfig[]; path: string }> = [];

  for (const [n, networkConfig] of config.networks.entries()) {
    const network = compileNetworkShell(networkConfig);
    networks.set(network.name, network);
    for (const [s, stateConfig] of networkConfig.states.entries()) {
      const path = `networks[${n}].states[${s}]`;
      const state: Mutable<CompiledState> = {
        id: allStates.length,
        name: stateConfig.name,
        network,
        isStart: stateConfig.is_start,
        isEnd: stateConfig.is_end,
        schema: compileStateSchema(stateConfig, path, options, issues),
        preValidators: await resolveList(stateConfig.pre_validators, 'validator', `${path}.pre_validators`),
        transforms: await resolveList(stateConfig.transforms, 'transform', `${path}.transforms`),
        validators: await resolveList(stateConfig.validators, 'validator', `${path}.validators`),
        arcs: [],
        resources: stateConfig.resources.map((name) => ({ role: name, name })),
        arcResources: [],
        dataMode:
          stateConfig.data_mode ??
          // Own keys only: a state named `constructor` must not pick up Object as its data mode.
          (Object.hasOwn(config.data_mode.state_overrides, stateConfig.name)
            ? config.data_mode.state_overrides[stateConfig.name]
            : undefined) ??
          config.data_mode.default,
        metadata: stateConfig.metadata,
      };
      network.states.push(state);
      (network.byName as Map<string, CompiledState>).set(state.name, state);
      allStates.push(state);
      pendingArcs.push({ state, arcs: stateConfig.arcs, path });
    }
    const start = network.states.find((s) => s.isStart);
    if (start) network.start = start;
    else
      issues.push({
        path: `networks[${n}]`,
        message: `network "${network.name}" has no start state (is_start: true)`,
      });
  }

  for (const { state, arcs, path } of pendingArcs) {
    const compiled: CompiledArc[] = [];
    for (const [a, arcConfig] of arcs.entries()) {
      const arc = await compileArc(
        arcConfig,
        state,
        networks,
        `${path}.arcs[${a}]`,
        resolveOne,
        resolveList,
        issues,
        config.semantics === 'dataknobs',
      );
      if (arc) compiled.push(arc);
    }
    // Stable sort: priority descending, ties in declaration order.
    compiled.sort((x, y) => y.priority - x.priority);
    compiled.forEach((arc, index) => {
      (arc as Mutable<CompiledArc>).index = index;
    });
    state.arcs = compiled;
    state.arcResources = uniqueBindings(compiled, path, issues);
  }

  if (config.network_hint_field !== undefined) {
    const issue = checkConfigFieldPath(config.network_hint_field, 'network_hint_field');
    if (issue) issues.push(issue);
  }
  const main = networks.get(config.main_network);
  if (!main) issues.push({ path: 'main_network', message: `unknown network "${config.main_network}"` });
  if (issues.length > 0 || !main) {
    throw new ConfigError(issues, codeRefused ? { code: 'CODE_NOT_ALLOWED' } : {});
  }

  const asyncFunction = allStates
    .flatMap((s) => [
      ...s.preValidators,
      ...s.transforms,
      ...s.validators,
      ...s.arcs.flatMap((arc) => (arc.condition ? [arc.condition, ...arc.transforms] : arc.transforms)),
    ])
    .find((f) => !f.sync);
  const usesResources = allStates.some((s) => s.resources.length > 0 || s.arcResources.length > 0);
  return {
    config,
    name: config.name,
    networks,
    main,
    states: allStates,
    maxTransitions: config.max_transitions,
    timeoutMs: config.timeout_seconds === undefined ? undefined : config.timeout_seconds * 1000,
    strategy: config.execution_strategy,
    allSync: asyncFunction === undefined && !usesResources,
    firstAsync: asyncFunction
      ? `${asyncFunction.name} (${asyncFunction.path})`
      : usesResources
        ? 'resources'
        : undefined,
    usesResources,
  };
}

function compileNetworkShell(config: NetworkConfig): CompiledNetwork {
  // `start` is linked once the states exist; a network without one is reported as a config issue.
  return {
    name: config.name,
    states: [],
    byName: new Map(),
    start: undefined as unknown as CompiledState,
    metadata: config.metadata,
  };
}

function compileStateSchema(
  state: StateConfig,
  path: string,
  options: CompileOptions,
  issues: ConfigIssue[],
): CompiledSchema | undefined {
  if (!state.schema) return undefined;
  try {
    return options.compileSchema(state.schema, `${path}.schema`);
  } catch (error) {
    if (error instanceof ConfigError) issues.push(...error.issues);
    else
      issues.push({
        path: `${path}.schema`,
        message: error instanceof Error ? error.message : String(error),
      });
    return undefined;
  }
}

async function compileArc(
  config: ArcConfig,
  source: CompiledState,
  networks: ReadonlyMap<string, CompiledNetwork>,
  path: string,
  resolveOne: (ref: FunctionRef, role: FunctionRole, path: string) => Promise<ResolvedFunction | undefined>,
  resolveList: (
    refs: readonly FunctionRef[],
    role: FunctionRole,
    path: string,
  ) => Promise<ResolvedFunction[]>,
  issues: ConfigIssue[],
  dataknobs: boolean,
): Promise<CompiledArc | undefined> {
  const parent = source.network;
  const condition =
    config.condition === undefined
      ? undefined
      : await resolveOne(config.condition, 'condition', `${path}.condition`);
  const transformRefs =
    config.transform === undefined
      ? []
      : Array.isArray(config.transform)
        ? config.transform
        : [config.transform];
  const transforms = Array.isArray(config.transform)
    ? await resolveList(transformRefs, 'transform', `${path}.transform`)
    : (
        await Promise.all(transformRefs.map((ref) => resolveOne(ref, 'transform', `${path}.transform`)))
      ).filter((f): f is ResolvedFunction => f !== undefined);
  const resources: ResourceBinding[] = Array.isArray(config.resources)
    ? config.resources.map((name) => ({ role: name, name }))
    : Object.entries(config.resources ?? {}).map(([role, name]) => ({ role, name }));

  let push: PushSpec | undefined;
  const returnName = config.return_state ?? config.target;
  const target = parent.byName.get(returnName);
  if (config.target_network !== undefined) {
    const network = networks.get(config.target_network);
    if (!network) {
      issues.push({ path: `${path}.target_network`, message: `unknown network "${config.target_network}"` });
      return undefined;
    }
    checkMappingPaths(config.data_mapping, `${path}.data_mapping`, issues);
    checkMappingPaths(config.result_mapping, `${path}.result_mapping`, issues);
    push = {
      network,
      isolation: config.data_isolation ?? 'copy',
      dataMapping: config.data_mapping ? Object.entries(config.data_mapping) : undefined,
      resultMapping: config.result_mapping ? Object.entries(config.result_mapping) : undefined,
      ...(dataknobs
        ? {
            endsInChild: config.return_state === undefined,
            replacesData: config.result_mapping === undefined,
          }
        : {}),
    };
  }
  if (!target) {
    const key = config.return_state !== undefined ? 'return_state' : 'target';
    issues.push({
      path: `${path}.${key}`,
      message: `unknown state "${returnName}" in network "${parent.name}"`,
    });
    return undefined;
  }
  const label =
    config.name ??
    (push ? `${source.name}=>${push.network.name}->${target.name}` : `${source.name}->${target.name}`);
  return {
    index: 0,
    label,
    source,
    target,
    condition,
    transforms,
    resources,
    priority: config.priority,
    push,
  };
}

/** Both sides of a `{from: to}` mapping are field paths: no `__proto__`, `constructor`, `prototype`. */
function checkMappingPaths(
  mapping: Readonly<Record<string, string>> | undefined,
  path: string,
  issues: ConfigIssue[],
): void {
  if (!mapping) return;
  for (const key of Reflect.ownKeys(mapping)) {
    if (typeof key !== 'string') continue;
    const at = `${path}.${key}`;
    const issue = checkConfigFieldPath(key, at) ?? checkConfigFieldPath(String(mapping[key]), at);
    if (issue) issues.push(issue);
  }
}

function uniqueBindings(
  arcs: readonly CompiledArc[],
  statePath: string,
  issues: ConfigIssue[],
): ResourceBinding[] {
  const byRole = new Map<string, ResourceBinding>();
  for (const arc of arcs) {
    for (const binding of arc.resources) {
      const existing = byRole.get(binding.role);
      if (existing && existing.name !== binding.name) {
        issues.push({
          path: `${statePath}.arcs`,
          message: `arcs bind role "${binding.role}" to both "${existing.name}" and "${binding.name}"`,
        });
      }
      byRole.set(binding.role, binding);
    }
  }
  return [...byRole.values()];
}
