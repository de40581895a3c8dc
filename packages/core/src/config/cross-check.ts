import type { ConfigIssue } from '../errors/index.js';
import type { Origins } from './normalize.js';
import { childPath } from './path.js';
import type { ArcConfig, ConfigWarning, FsmConfig, NetworkConfig, StateConfig } from './types.js';

export interface CrossCheckResult {
  issues: ConfigIssue[];
  warnings: ConfigWarning[];
}

function origin(origins: Origins, item: object, fallback: string): string {
  return origins.get(item) ?? fallback;
}

/** The key under which an arc's target is written: `target` on states, `to` on network-level arcs. */
function targetKey(arcPath: string): 'target' | 'to' {
  return /states\[\d+\]\.arcs\[\d+\]$/.test(arcPath) ? 'target' : 'to';
}

function statesPath(networkPath: string): string {
  return networkPath === '' ? 'states' : childPath(networkPath, 'states');
}

/** The state an arc continues in within its own network: its target, or a push arc's return state. */
function continuation(arc: ArcConfig): { state: string; key: 'return_state' | 'target' } {
  return arc.target_network !== undefined && arc.return_state !== undefined
    ? { state: arc.return_state, key: 'return_state' }
    : { state: arc.target, key: 'target' };
}

function checkResources(
  config: FsmConfig,
  origins: Origins,
  known: ReadonlySet<string>,
  issues: ConfigIssue[],
): void {
  const check = (name: string, path: string) => {
    if (!known.has(name)) {
      issues.push({ path, message: `resource '${name}' is not declared under 'resources'` });
    }
  };
  config.networks.forEach((network, i) => {
    const networkPath = origin(origins, network, childPath('networks', i));
    network.resources.forEach((r, k) => {
      check(r, childPath(childPath(networkPath, 'resources'), k));
    });
    network.states.forEach((state, j) => {
      const statePath = origin(origins, state, childPath(statesPath(networkPath), j));
      state.resources.forEach((r, k) => {
        check(r, childPath(childPath(statePath, 'resources'), k));
      });
      state.arcs.forEach((arc, k) => {
        const arcPath = origin(origins, arc, childPath(childPath(statePath, 'arcs'), k));
        const resourcesPath = childPath(arcPath, 'resources');
        if (Array.isArray(arc.resources)) {
          arc.resources.forEach((r, m) => {
            check(r, childPath(resourcesPath, m));
          });
        } else if (arc.resources !== undefined) {
          for (const [role, r] of Object.entries(arc.resources)) check(r, childPath(resourcesPath, role));
        }
      });
    });
  });
}

function reachability(config: FsmConfig, origins: Origins, warnings: ConfigWarning[]): void {
  const byName = new Map(config.networks.map((n) => [n.name, n]));
  const reached = new Map<string, Set<string>>();
  const queue: [NetworkConfig, StateConfig][] = [];
  const visit = (network: NetworkConfig, stateName: string) => {
    const seen = reached.get(network.name) ?? new Set<string>();
    reached.set(network.name, seen);
    if (seen.has(stateName)) return;
    const state = network.states.find((s) => s.name === stateName);
    if (!state) return;
    seen.add(stateName);
    queue.push([network, state]);
  };
  const enterNetwork = (network: NetworkConfig) => {
    if (!reached.has(network.name)) reached.set(network.name, new Set());
    for (const s of network.states) if (s.is_start) visit(network, s.name);
  };
  const main = byName.get(config.main_network);
  if (!main) return;
  enterNetwork(main);
  for (let item = queue.shift(); item; item = queue.shift()) {
    const [network, state] = item;
    for (const arc of state.arcs) {
      if (arc.target_network !== undefined) {
        const sub = byName.get(arc.target_network);
        if (sub && !reached.has(sub.name)) enterNetwork(sub);
      }
      visit(network, continuation(arc).state);
    }
  }

  const pushedTo = new Set(
    config.networks.flatMap((n) => n.states.flatMap((s) => s.arcs.flatMap((a) => a.target_network ?? []))),
  );
  config.networks.forEach((network, i) => {
    const networkPath = origin(origins, network, childPath('networks', i));
    const seen = reached.get(network.name);
    if (!seen) {
      warnings.push({
        path: networkPath,
        message: pushedTo.has(network.name)
          ? `network '${network.name}' is pushed to only from unreachable states`
          : `network '${network.name}' is never pushed to and is not the main network`,
      });
      return;
    }
    network.states.forEach((state, j) => {
      const statePath = origin(origins, state, childPath(statesPath(networkPath), j));
      if (!seen.has(state.name)) {
        warnings.push({
          path: statePath,
          message: `state '${state.name}' of network '${network.name}' is unreachable from its start state`,
        });
      }
      const firstArc = state.arcs[0];
      if (state.is_end && firstArc) {
        warnings.push({
          path: origin(origins, firstArc, childPath(statePath, 'arcs')),
          message: `end state '${state.name}' has arcs; they are never taken`,
        });
      }
    });
  });
}

/** Checks that names refer to things that exist; collects every issue, and warnings for dead parts. */
export function crossCheck(
  config: FsmConfig,
  origins: Origins,
  knownResources: readonly string[] = [],
): CrossCheckResult {
  const issues: ConfigIssue[] = [];
  const warnings: ConfigWarning[] = [];
  const networks = new Map<string, NetworkConfig>();

  config.networks.forEach((network, i) => {
    const networkPath = origin(origins, network, childPath('networks', i));
    if (networks.has(network.name)) {
      issues.push({
        path: childPath(networkPath, 'name'),
        message: `duplicate network name '${network.name}'`,
      });
    } else {
      networks.set(network.name, network);
    }
  });

  if (config.networks.length > 0 && !networks.has(config.main_network)) {
    issues.push({ path: 'main_network', message: `unknown network '${config.main_network}'` });
  }

  const resourceNames = new Set<string>();
  config.resources.forEach((resource, i) => {
    if (resourceNames.has(resource.name)) {
      issues.push({ path: `resources[${i}].name`, message: `duplicate resource name '${resource.name}'` });
    }
    resourceNames.add(resource.name);
  });

  const allStates = new Set<string>();
  config.networks.forEach((network, i) => {
    const networkPath = origin(origins, network, childPath('networks', i));
    const names = new Set<string>();
    network.states.forEach((state, j) => {
      const statePath = origin(origins, state, childPath(statesPath(networkPath), j));
      if (names.has(state.name)) {
        issues.push({
          path: childPath(statePath, 'name'),
          message: `duplicate state name '${state.name}' in network '${network.name}'`,
        });
      }
      names.add(state.name);
      allStates.add(state.name);
    });
    if (!network.states.some((s) => s.is_start)) {
      issues.push({
        path: statesPath(networkPath),
        message: `network '${network.name}' has no start state (is_start: true)`,
      });
    }
    for (const [j, state] of network.states.entries()) {
      const statePath = origin(origins, state, childPath(statesPath(networkPath), j));
      state.arcs.forEach((arc, k) => {
        const arcPath = origin(origins, arc, childPath(childPath(statePath, 'arcs'), k));
        if (arc.target_network !== undefined && !networks.has(arc.target_network)) {
          issues.push({
            path: childPath(arcPath, 'target_network'),
            message: `unknown network '${arc.target_network}'`,
          });
        }
        const next = continuation(arc);
        if (!names.has(next.state)) {
          const key = next.key === 'target' ? targetKey(arcPath) : next.key;
          issues.push({
            path: childPath(arcPath, key),
            message: `unknown state '${next.state}' in network '${network.name}'`,
          });
        }
      });
    }
  });

  for (const stateName of Object.keys(config.data_mode.state_overrides)) {
    if (!allStates.has(stateName)) {
      issues.push({
        path: childPath('data_mode.state_overrides', stateName),
        message: `unknown state '${stateName}'`,
      });
    }
  }

  checkResources(config, origins, new Set([...resourceNames, ...knownResources]), issues);
  if (issues.length === 0) reachability(config, origins, warnings);
  return { issues, warnings };
}
