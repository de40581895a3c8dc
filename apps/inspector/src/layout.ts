import dagre from '@dagrejs/dagre';
import type { GraphNetwork } from './graph-model.js';

export interface LayoutNode {
  /** `network/state` */
  id: string;
  network: string;
  state: string;
  start: boolean;
  end: boolean;
  /** Top-left corner and size. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LayoutCluster {
  network: string;
  /** The network whose cluster holds this one (the first network that pushes into it). */
  parent?: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LayoutEdge {
  /** `network/from/arcName`, plus `#return:<state>` for the way back from a sub-network. */
  id: string;
  /** `arc` inside a network, `enter` a push arc into a sub-network, `return` back from one of its end states. */
  kind: 'arc' | 'enter' | 'return';
  network: string;
  from: string;
  arc: string;
  source: string;
  target: string;
  label: string;
  points: { x: number; y: number }[];
  labelX: number;
  labelY: number;
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: LayoutNode[];
  clusters: LayoutCluster[];
  edges: LayoutEdge[];
}

// A monospace-ish estimate of text width, so the layout reserves room for labels without a DOM.
const CHAR = 7.2;
const textWidth = (text: string) => Math.ceil(text.length * CHAR);

export function edgeLabel(arc: {
  name: string;
  condition?: string;
  priority: number;
  push?: string;
}): string {
  const parts = [arc.push ? `${arc.name} ⇒ ${arc.push}` : arc.name];
  if (arc.condition) parts.push(`[${arc.condition}]`);
  if (arc.priority) parts.push(`p${arc.priority}`);
  return parts.join(' ');
}

/** The network each sub-network is drawn inside: its first pusher, unless that would make a cycle. */
function clusterParents(networks: readonly GraphNetwork[]): Map<string, string> {
  const parents = new Map<string, string>();
  const root = networks[0]?.name;
  for (const network of networks) {
    for (const arc of network.arcs) {
      const child = arc.push;
      if (!child || child === root || parents.has(child) || child === network.name) continue;
      // Walk up from the would-be parent: if we reach the child, nesting it would loop.
      let up: string | undefined = network.name;
      let cycle = false;
      while (up !== undefined) {
        if (up === child) {
          cycle = true;
          break;
        }
        up = parents.get(up);
      }
      if (!cycle) parents.set(child, network.name);
    }
  }
  return parents;
}

/**
 * Lays out every network as a cluster (sub-networks nested in the network that pushes into them),
 * states as nodes, arcs as edges, push arcs as an edge into the sub-network's start state and edges
 * back from each of its end states. dagre's compound layout keeps nodes from overlapping.
 */
export function layoutGraph(networks: readonly GraphNetwork[]): GraphLayout {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 56, edgesep: 16, marginx: 24, marginy: 24 });
  g.setDefaultEdgeLabel(() => ({}));
  const byName = new Map(networks.map((n) => [n.name, n]));
  const parents = clusterParents(networks);
  for (const network of networks) {
    g.setNode(`net:${network.name}`, { label: network.name, paddingTop: 28 });
    const parent = parents.get(network.name);
    if (parent) g.setParent(`net:${network.name}`, `net:${parent}`);
    for (const state of network.states) {
      const id = `${network.name}/${state.name}`;
      g.setNode(id, { width: Math.max(72, textWidth(state.name) + 32), height: 36 });
      g.setParent(id, `net:${network.name}`);
    }
  }
  const edges: Omit<LayoutEdge, 'points' | 'labelX' | 'labelY'>[] = [];
  for (const network of networks) {
    for (const arc of network.arcs) {
      const id = `${network.name}/${arc.from}/${arc.name}`;
      const base = { network: network.name, from: arc.from, arc: arc.name };
      const sub = arc.push ? byName.get(arc.push) : undefined;
      if (!sub) {
        edges.push({
          ...base,
          id,
          kind: 'arc',
          source: `${network.name}/${arc.from}`,
          target: `${network.name}/${arc.to}`,
          label: edgeLabel(arc),
        });
        continue;
      }
      const start = sub.states.find((s) => s.start) ?? sub.states[0];
      if (start) {
        edges.push({
          ...base,
          id,
          kind: 'enter',
          source: `${network.name}/${arc.from}`,
          target: `${sub.name}/${start.name}`,
          label: edgeLabel(arc),
        });
      }
      for (const end of sub.states.filter((s) => s.end)) {
        edges.push({
          ...base,
          id: `${id}#return:${end.name}`,
          kind: 'return',
          source: `${sub.name}/${end.name}`,
          target: `${network.name}/${arc.to}`,
          label: `return ⇒ ${arc.to}`,
        });
      }
    }
  }
  for (const edge of edges) {
    g.setEdge(edge.source, edge.target, { width: textWidth(edge.label), height: 16, labelpos: 'c' }, edge.id);
  }
  dagre.layout(g);

  const nodes: LayoutNode[] = [];
  const clusters: LayoutCluster[] = [];
  for (const network of networks) {
    const c = g.node(`net:${network.name}`);
    const cluster: LayoutCluster = {
      network: network.name,
      x: c.x - c.width / 2,
      y: c.y - c.height / 2,
      width: c.width,
      height: c.height,
    };
    const parent = parents.get(network.name);
    if (parent) cluster.parent = parent;
    clusters.push(cluster);
    for (const state of network.states) {
      const n = g.node(`${network.name}/${state.name}`);
      nodes.push({
        id: `${network.name}/${state.name}`,
        network: network.name,
        state: state.name,
        start: state.start,
        end: state.end,
        x: n.x - n.width / 2,
        y: n.y - n.height / 2,
        width: n.width,
        height: n.height,
      });
    }
  }
  const laid = edges.map((edge) => {
    const e = g.edge({ v: edge.source, w: edge.target, name: edge.id });
    return { ...edge, points: e.points ?? [], labelX: e.x ?? 0, labelY: e.y ?? 0 };
  });
  const graph = g.graph();
  return { width: graph.width ?? 0, height: graph.height ?? 0, nodes, clusters, edges: laid };
}
