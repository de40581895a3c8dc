import type { FsmConfig } from '@fsm/core';

export interface GraphArc {
  from: string;
  to: string;
  name: string;
  priority: number;
  /** The condition's text (a function name or an expression), when the arc has one. */
  condition?: string;
  /** A push arc into another network. */
  push?: string;
}

export interface GraphNetwork {
  name: string;
  states: { name: string; start: boolean; end: boolean }[];
  arcs: GraphArc[];
}

function describeRef(ref: unknown): string | undefined {
  if (ref === undefined || ref === null) return undefined;
  if (typeof ref === 'string') return ref;
  const r = ref as { type?: string; name?: string; code?: string };
  return r.code ?? r.name ?? r.type;
}

/**
 * The networks of a normalized config as plain JSON for the browser: states and arcs with their
 * names (as history records them: `name`, else `from->to`), priorities and condition text.
 */
export function graphModel(config: FsmConfig): GraphNetwork[] {
  return config.networks.map((network) => ({
    name: network.name,
    states: network.states.map((s) => ({ name: s.name, start: s.is_start === true, end: s.is_end === true })),
    arcs: network.states.flatMap((state) =>
      (state.arcs ?? []).map((arc) => {
        const out: GraphArc = {
          from: state.name,
          to: arc.target,
          name: arc.name ?? `${state.name}->${arc.target}`,
          priority: arc.priority ?? 0,
        };
        const condition = describeRef(arc.condition);
        if (condition !== undefined) out.condition = condition;
        if (arc.target_network) out.push = arc.target_network;
        return out;
      }),
    ),
  }));
}
