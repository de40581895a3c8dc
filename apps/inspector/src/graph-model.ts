import type { FsmConfig, FunctionRef } from '@fsm/core';

export interface GraphArc {
  from: string;
  to: string;
  /** As history records it: the arc's `name`, else `from->to`, or `from=>network->to` for a push. */
  name: string;
  priority: number;
  /** The condition's text (a function name or an expression), when the arc has one. */
  condition?: string;
  /** A push arc into another network; `to` is the state it returns to. */
  push?: string;
  /** The whole arc definition as configured (transforms, resources, mappings…). */
  definition: Record<string, unknown>;
}

export interface GraphState {
  name: string;
  start: boolean;
  end: boolean;
  /** The state's definition: schema, validators, transforms, resources, retry… */
  definition: Record<string, unknown>;
}

export interface GraphNetwork {
  name: string;
  states: GraphState[];
  arcs: GraphArc[];
}

/** A function reference as text: an expression's code, else the function's name. */
export function describeRef(ref: FunctionRef | undefined): string | undefined {
  if (ref === undefined || ref === null) return undefined;
  if (typeof ref === 'string') return ref;
  if ('code' in ref) return ref.code;
  return ref.name;
}

/** The arc name the engine records (see core's plan/compile.ts). */
export function arcLabel(
  from: string,
  arc: { name?: string; target: string; target_network?: string; return_state?: string },
): string {
  if (arc.name) return arc.name;
  if (arc.target_network) return `${from}=>${arc.target_network}->${arc.return_state ?? arc.target}`;
  return `${from}->${arc.target}`;
}

/** Drops empty lists and absent fields so the definition panel shows what was configured. */
function compact(value: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) continue;
    out[key] = v;
  }
  return out;
}

/**
 * The networks of a normalized config as plain JSON for the browser: states and arcs with their
 * names as history records them, priorities, condition text and full definitions.
 */
export function graphModel(config: FsmConfig): GraphNetwork[] {
  return config.networks.map((network) => ({
    name: network.name,
    states: network.states.map((s) => {
      const { arcs: _arcs, name: _name, ...rest } = s;
      return { name: s.name, start: s.is_start === true, end: s.is_end === true, definition: compact(rest) };
    }),
    arcs: network.states.flatMap((state) =>
      (state.arcs ?? []).map((arc) => {
        const out: GraphArc = {
          from: state.name,
          to: arc.return_state ?? arc.target,
          name: arcLabel(state.name, arc),
          priority: arc.priority ?? 0,
          definition: compact(arc),
        };
        const condition = describeRef(arc.condition);
        if (condition !== undefined) out.condition = condition;
        if (arc.target_network) out.push = arc.target_network;
        return out;
      }),
    ),
  }));
}
