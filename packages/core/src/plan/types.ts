import type { DataIsolation, DataMode, ExecutionStrategy, FsmConfig } from '../config/types.js';
import type { ValidationIssue } from '../errors/errors.js';
import type { ResolvedFunction } from '../functions/types.js';

/** A state's JSON Schema, compiled once: returns the issues, or null when the data is valid. */
export type CompiledSchema = (data: unknown) => ValidationIssue[] | null;

export interface ResourceBinding {
  /** How functions ask for it (`context.resources.get(role)`): the role, or the name itself. */
  role: string;
  name: string;
}

export interface PushSpec {
  network: CompiledNetwork;
  isolation: DataIsolation;
  /** `[parentField, childField]` pairs; undefined = the whole data goes down. */
  dataMapping: ReadonlyArray<readonly [string, string]> | undefined;
  /** `[childField, parentField]` pairs; undefined = the child's result is merged into the parent's data. */
  resultMapping: ReadonlyArray<readonly [string, string]> | undefined;
  /** `semantics: dataknobs` without `return_state`: the run ends in the sub-network's end state. */
  endsInChild?: boolean;
  /** `semantics: dataknobs` without `result_mapping`: the child's result replaces the parent's data. */
  replacesData?: boolean;
}

export interface CompiledArc {
  /** Position among the source state's arcs after sorting by priority. */
  readonly index: number;
  /** The arc's `name`, else `source->target` (`source=>network` for a push). */
  readonly label: string;
  readonly source: CompiledState;
  /** Where execution goes: the target state, or for a push arc the state to return to. */
  target: CompiledState;
  readonly condition: ResolvedFunction | undefined;
  readonly transforms: readonly ResolvedFunction[];
  readonly resources: readonly ResourceBinding[];
  readonly priority: number;
  push: PushSpec | undefined;
}

export interface CompiledState {
  /** Unique across the plan; indexes per-state tables (profiles, statistics). */
  readonly id: number;
  readonly name: string;
  readonly network: CompiledNetwork;
  readonly isStart: boolean;
  readonly isEnd: boolean;
  readonly schema: CompiledSchema | undefined;
  readonly preValidators: readonly ResolvedFunction[];
  readonly transforms: readonly ResolvedFunction[];
  readonly validators: readonly ResolvedFunction[];
  readonly arcs: CompiledArc[];
  /** Resources held while in the state. */
  readonly resources: readonly ResourceBinding[];
  /** Union of the arcs' resources, held while arcs are evaluated and the chosen arc's transform runs. */
  readonly arcResources: readonly ResourceBinding[];
  readonly dataMode: DataMode;
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
}

export interface CompiledNetwork {
  readonly name: string;
  readonly states: CompiledState[];
  readonly byName: ReadonlyMap<string, CompiledState>;
  /** The first `is_start` state. */
  start: CompiledState;
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
}

/** A config compiled once: functions resolved, arcs sorted, states indexed. Executed many times. */
export interface ExecutionPlan {
  readonly config: FsmConfig;
  readonly name: string;
  readonly networks: ReadonlyMap<string, CompiledNetwork>;
  readonly main: CompiledNetwork;
  /** Every state of every network, indexed by `CompiledState.id`. */
  readonly states: readonly CompiledState[];
  readonly maxTransitions: number;
  readonly timeoutMs: number | undefined;
  readonly strategy: ExecutionStrategy;
  /** True when no function can return a promise and no resource is used: `processSync` may run it. */
  readonly allSync: boolean;
  /** The first function that makes the plan async, for the processSync error message. */
  readonly firstAsync: string | undefined;
  readonly usesResources: boolean;
}
