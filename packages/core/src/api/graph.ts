import type { CompiledArc, ExecutionPlan } from '../plan/types.js';

const id = (network: string, state: string) => `${network}__${state}`.replace(/[^A-Za-z0-9_]/g, '_');

function arcLabel(arc: CompiledArc): string {
  const parts: string[] = [];
  if (arc.condition) parts.push(arc.condition.name);
  if (arc.priority !== 0) parts.push(`p${arc.priority}`);
  if (arc.push) parts.push(`push ${arc.push.network.name}`);
  return parts
    .join(' ')
    .replace(/["\n:]/g, ' ')
    .slice(0, 60);
}

/** Mermaid `stateDiagram-v2`: one composite state per network, push arcs drawn to the sub-network. */
export function planToMermaid(plan: ExecutionPlan): string {
  const lines = ['stateDiagram-v2'];
  for (const network of plan.networks.values()) {
    lines.push(`  state ${id(network.name, '')}["${network.name}"] {`);
    if (network.start) lines.push(`    [*] --> ${id(network.name, network.start.name)}`);
    for (const state of network.states) {
      lines.push(`    ${id(network.name, state.name)}: ${state.name}`);
      if (state.isEnd) lines.push(`    ${id(network.name, state.name)} --> [*]`);
      for (const arc of state.arcs) {
        const label = arcLabel(arc);
        lines.push(
          `    ${id(network.name, state.name)} --> ${id(network.name, arc.target.name)}${label ? `: ${label}` : ''}`,
        );
      }
    }
    lines.push('  }');
  }
  return lines.join('\n');
}

/** Graphviz DOT: clusters per network, dashed edges for pushes into sub-networks. */
export function planToDot(plan: ExecutionPlan): string {
  const lines = [`digraph "${plan.name}" {`, '  rankdir=LR;', '  node [shape=box, style=rounded];'];
  for (const network of plan.networks.values()) {
    lines.push(`  subgraph "cluster_${network.name}" {`, `    label="${network.name}";`);
    for (const state of network.states) {
      const shape = state.isEnd ? ', peripheries=2' : state.isStart ? ', style="rounded,bold"' : '';
      lines.push(`    "${id(network.name, state.name)}" [label="${state.name}"${shape}];`);
    }
    lines.push('  }');
  }
  for (const network of plan.networks.values()) {
    for (const state of network.states) {
      for (const arc of state.arcs) {
        const from = id(network.name, state.name);
        lines.push(`  "${from}" -> "${id(network.name, arc.target.name)}" [label="${arcLabel(arc)}"];`);
        if (arc.push)
          lines.push(
            `  "${from}" -> "${id(arc.push.network.name, arc.push.network.start.name)}" [style=dashed];`,
          );
      }
    }
  }
  lines.push('}');
  return lines.join('\n');
}
