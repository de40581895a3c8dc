import { normalizeConfig } from '../config/index.js';
import type {
  ArcConfig,
  DataMode,
  ExecutionStrategy,
  FsmConfig,
  FunctionRef,
  ResourceConfig,
  StateConfig,
} from '../config/types.js';
import type { FsmFunction } from '../functions/types.js';
import { SimpleFSM } from './simple-fsm.js';
import type { ExecutionResult, FsmOptions, ProcessOptions } from './types.js';

/** What `.state()` accepts: the YAML keys of a state (name given separately). */
export type StateSpec = Partial<Omit<StateConfig, 'name' | 'arcs'>> & { arcs?: ArcSpec[] };
/** What `.arc()` accepts: the YAML keys of an arc (target given separately). */
export type ArcSpec = Partial<Omit<ArcConfig, 'target'>> & { target?: string };
export type ResourceSpec = Pick<ResourceConfig, 'name' | 'type'> &
  Partial<Omit<ResourceConfig, 'name' | 'type'>>;

interface RawNetwork {
  name: string;
  states: Array<Record<string, unknown>>;
}

/** Adds states and arcs to one network; shared by the FSM builder and `.network()` callbacks. */
export class NetworkBuilder<TData = unknown> {
  protected readonly net: RawNetwork;

  constructor(net: RawNetwork) {
    this.net = net;
  }

  /** Adds a state (keys as in YAML: is_start, is_end, schema, transforms, validators, resources, …). */
  state(name: string, spec: StateSpec = {}): this {
    this.net.states.push({ name, ...spec, arcs: [...(spec.arcs ?? [])] });
    return this;
  }

  /** Adds an arc from `from` to `target` (push arcs: give `target_network` and `return_state`). */
  arc(from: string, target: string, spec: Omit<ArcSpec, 'target'> = {}): this {
    const state = this.net.states.find((s) => s.name === from);
    if (!state) throw new Error(`defineFsm: arc from unknown state "${from}" (declare the state first)`);
    (state.arcs as ArcSpec[]).push({ target, ...spec });
    return this;
  }

  /** Shorthand for a push arc into `network`, returning to `returnState`. */
  push(
    from: string,
    network: string,
    returnState: string,
    spec: Omit<ArcSpec, 'target' | 'target_network' | 'return_state'> = {},
  ): this {
    return this.arc(from, returnState, { ...spec, target_network: network, return_state: returnState });
  }

  /** Marker for `TData` so function specs stay typed. */
  protected typed(fn: FsmFunction<TData>): FsmFunction {
    return fn as FsmFunction;
  }
}

/**
 * Typed builder for the same config object YAML gives: `defineFsm('orders').state(...).arc(...).build()`
 * deep-equals `loadConfig('orders.yaml')` for the same machine. `execute(record)` runs it.
 */
export class FsmBuilder<TData = unknown> extends NetworkBuilder<TData> {
  private readonly raw: Record<string, unknown>;
  private readonly networks: RawNetwork[];
  private readonly registered: Record<string, FsmFunction> = {};
  private compiled: Promise<SimpleFSM> | undefined;

  constructor(name: string) {
    const main: RawNetwork = { name: 'main', states: [] };
    super(main);
    this.networks = [main];
    this.raw = { name, networks: this.networks };
  }

  /** Adds a sub-network (the first network is `main`). */
  network(name: string, define: (network: NetworkBuilder<TData>) => void): this {
    const net: RawNetwork = { name, states: [] };
    this.networks.push(net);
    define(new NetworkBuilder<TData>(net));
    return this;
  }

  /** Names the main network (default `main`). */
  mainNetwork(name: string): this {
    (this.networks[0] as RawNetwork).name = name;
    return this;
  }

  description(text: string): this {
    this.raw.description = text;
    return this;
  }

  version(version: string): this {
    this.raw.version = version;
    return this;
  }

  dataMode(mode: DataMode, stateOverrides: Record<string, DataMode> = {}): this {
    this.raw.data_mode = { default: mode, state_overrides: stateOverrides };
    return this;
  }

  maxTransitions(count: number): this {
    this.raw.max_transitions = count;
    return this;
  }

  timeoutSeconds(seconds: number): this {
    this.raw.timeout_seconds = seconds;
    return this;
  }

  strategy(strategy: ExecutionStrategy): this {
    this.raw.execution_strategy = strategy;
    return this;
  }

  metadata(metadata: Record<string, unknown>): this {
    this.raw.metadata = metadata;
    return this;
  }

  resource(spec: ResourceSpec): this {
    const list = (this.raw.resources as ResourceSpec[] | undefined) ?? [];
    list.push(spec);
    this.raw.resources = list;
    return this;
  }

  /** A named reference under `functions:` (usable by name from states and arcs). */
  function(name: string, ref: FunctionRef): this {
    const functions = (this.raw.functions as Record<string, FunctionRef> | undefined) ?? {};
    functions[name] = ref;
    this.raw.functions = functions;
    return this;
  }

  /** Registers a JavaScript function under `name` for `execute()` (not part of the config). */
  register(name: string, fn: FsmFunction<TData>): this {
    this.registered[name] = this.typed(fn);
    this.compiled = undefined;
    return this;
  }

  /** The normalized config, exactly what `loadConfig` gives for the equivalent YAML. */
  build(): FsmConfig {
    const usesMain = this.networks.length > 1 ? { main_network: (this.networks[0] as RawNetwork).name } : {};
    return normalizeConfig(structuredClone({ ...this.raw, ...usesMain })).config;
  }

  /** Builds (once) and runs one record. */
  async execute(
    record: TData,
    options: ProcessOptions = {},
    fsmOptions: FsmOptions = {},
  ): Promise<ExecutionResult<TData>> {
    this.compiled ??= SimpleFSM.create(this.build(), {
      ...fsmOptions,
      functions: { ...fsmOptions.functions, ...this.registered },
    });
    return (await (await this.compiled).process(record, options)) as ExecutionResult<TData>;
  }

  /** The FSM behind `execute()`, for batches, streams and close(). */
  async toFsm(options: FsmOptions = {}): Promise<SimpleFSM> {
    return SimpleFSM.create(this.build(), {
      ...options,
      functions: { ...options.functions, ...this.registered },
    });
  }
}

export function defineFsm<TData = unknown>(name: string): FsmBuilder<TData> {
  return new FsmBuilder<TData>(name);
}
