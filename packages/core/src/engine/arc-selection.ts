import type { ExecutionStrategy } from '../config/types.js';
import type { ResourceBroker } from '../interfaces/resource.js';
import type { CompiledArc, CompiledState, ExecutionPlan } from '../plan/types.js';

/**
 * Chooses among the arcs whose conditions held. Absent for `depth_first`, where the engine takes the
 * first holding arc in priority order without evaluating the rest (the fast path).
 */
export interface ArcSelector {
  choose(candidates: readonly CompiledArc[], state: CompiledState): CompiledArc;
  /** Called once per finished record with the arcs it took, to keep success statistics. */
  recordOutcome(taken: readonly CompiledArc[], success: boolean): void;
  statistics(): ArcStatistics[];
}

export interface ArcStatistics {
  network: string;
  state: string;
  arc: string;
  taken: number;
  succeeded: number;
  failed: number;
  successRate: number;
}

interface ArcStats {
  taken: number;
  succeeded: number;
  failed: number;
}

/** Weights of the multi-factor score used by `resource_optimized` (documented in core's README). */
export const ARC_SCORE_WEIGHTS = { priority: 1, resources: 2, success: 1, load: 0.5 } as const;

/**
 * Builds the selector for a strategy:
 * - `breadth_first`: every condition is evaluated; the holding arc whose target is fewest hops from an
 *   end state wins, then higher priority, then round-robin among ties.
 * - `resource_optimized`: multi-factor score — priority rank, whether all the arc's resources can be
 *   had now (`broker.isAvailable`), the arc's historical success rate, and how little it has been used
 *   (load balancing) — the highest score wins, round-robin among ties.
 * - `stream_optimized`: arcs without resources and without a push (cheap, no I/O) first, then priority,
 *   then round-robin.
 */
export function createArcSelector(
  strategy: ExecutionStrategy,
  plan: ExecutionPlan,
  broker: ResourceBroker | undefined,
): ArcSelector | undefined {
  if (strategy === 'depth_first') return undefined;
  const stats = new Map<CompiledArc, ArcStats>();
  const roundRobin = new Map<CompiledState, number>();
  const statsOf = (arc: CompiledArc): ArcStats => {
    let s = stats.get(arc);
    if (!s) {
      s = { taken: 0, succeeded: 0, failed: 0 };
      stats.set(arc, s);
    }
    return s;
  };
  const distance = strategy === 'breadth_first' ? distancesToEnd(plan) : undefined;
  const score = (arc: CompiledArc, candidates: readonly CompiledArc[]): number => {
    switch (strategy) {
      case 'breadth_first':
        return -(distance?.get(arc.target) ?? Number.MAX_SAFE_INTEGER) * 1000 + arc.priority;
      case 'stream_optimized':
        return (arc.resources.length === 0 && !arc.push ? 1000 : 0) + arc.priority;
      default: {
        const s = statsOf(arc);
        const maxPriority = Math.max(...candidates.map((c) => c.priority));
        const minPriority = Math.min(...candidates.map((c) => c.priority));
        const priorityRank =
          maxPriority === minPriority ? 1 : (arc.priority - minPriority) / (maxPriority - minPriority);
        const available = arc.resources.every((r) => broker?.isAvailable?.(r.name) ?? true) ? 1 : 0;
        const finished = s.succeeded + s.failed;
        const successRate = finished === 0 ? 1 : s.succeeded / finished;
        const totalTaken = candidates.reduce((sum, c) => sum + statsOf(c).taken, 0);
        const load = totalTaken === 0 ? 0 : s.taken / totalTaken;
        return (
          ARC_SCORE_WEIGHTS.priority * priorityRank +
          ARC_SCORE_WEIGHTS.resources * available +
          ARC_SCORE_WEIGHTS.success * successRate -
          ARC_SCORE_WEIGHTS.load * load
        );
      }
    }
  };
  return {
    choose(candidates, state) {
      let best: CompiledArc[] = [];
      let bestScore = Number.NEGATIVE_INFINITY;
      for (const arc of candidates) {
        const value = score(arc, candidates);
        if (value > bestScore + 1e-9) {
          bestScore = value;
          best = [arc];
        } else if (Math.abs(value - bestScore) <= 1e-9) best.push(arc);
      }
      const turn = roundRobin.get(state) ?? 0;
      roundRobin.set(state, turn + 1);
      const chosen = best[turn % best.length] as CompiledArc;
      statsOf(chosen).taken++;
      return chosen;
    },
    recordOutcome(taken, success) {
      for (const arc of taken) {
        const s = statsOf(arc);
        if (success) s.succeeded++;
        else s.failed++;
      }
    },
    statistics() {
      return [...stats.entries()].map(([arc, s]) => ({
        network: arc.source.network.name,
        state: arc.source.name,
        arc: arc.label,
        taken: s.taken,
        succeeded: s.succeeded,
        failed: s.failed,
        successRate: s.succeeded + s.failed === 0 ? 1 : s.succeeded / (s.succeeded + s.failed),
      }));
    },
  };
}

/** Hops from each state to the nearest end state of its network (push arcs count as one hop). */
function distancesToEnd(plan: ExecutionPlan): Map<CompiledState, number> {
  const distance = new Map<CompiledState, number>();
  for (const state of plan.states) if (state.isEnd) distance.set(state, 0);
  let changed = true;
  while (changed) {
    changed = false;
    for (const state of plan.states) {
      for (const arc of state.arcs) {
        const via = distance.get(arc.target);
        if (via === undefined) continue;
        const current = distance.get(state);
        if (current === undefined || via + 1 < current) {
          distance.set(state, via + 1);
          changed = true;
        }
      }
    }
  }
  return distance;
}
