import { MisuseError } from '../errors/errors.js';
import type { CompiledNetwork, CompiledState, ExecutionPlan } from '../plan/types.js';
import { getField } from '../util/field-path.js';

export type ProcessingMode = 'single' | 'batch' | 'stream';

/**
 * Picks where a record enters, in this order (dataknobs' levels, minus the ones a config check
 * already guarantees):
 * 1. an explicit `initialState` (`state` or `network.state`) or `network` option;
 * 2. only when the config opts in with `network_hint_field: <field>`: that field of the record, when it
 *    names a network (records from outside must not skip the main network's checks by default);
 * 3. a network whose `metadata.processing_mode` matches the mode (`batch`, `stream`, `single`);
 * 4. the main network;
 * 5. the first network with a start state.
 * (Push arcs name their network, and returns follow the push stack, so the stack level is the engine's.)
 */
export function selectEntry(
  plan: ExecutionPlan,
  record: unknown,
  options: { initialState?: string | undefined; network?: string | undefined; mode?: ProcessingMode },
): CompiledState {
  if (options.initialState !== undefined) {
    const dot = options.initialState.indexOf('.');
    const networkName = dot === -1 ? (options.network ?? plan.main.name) : options.initialState.slice(0, dot);
    const stateName = dot === -1 ? options.initialState : options.initialState.slice(dot + 1);
    const state = plan.networks.get(networkName)?.byName.get(stateName);
    if (!state)
      throw new MisuseError(
        `initialState "${options.initialState}" is not a state of network "${networkName}"`,
      );
    return state;
  }
  if (options.network !== undefined) {
    const network = plan.networks.get(options.network);
    if (!network) throw new MisuseError(`network "${options.network}" is not part of FSM "${plan.name}"`);
    return network.start;
  }
  if (plan.networks.size === 1) return plan.main.start;
  const hintField = plan.config.network_hint_field;
  if (hintField !== undefined) {
    const hint = getField(record, hintField);
    if (typeof hint === 'string' && plan.networks.has(hint))
      return (plan.networks.get(hint) as CompiledNetwork).start;
  }
  if (options.mode) {
    for (const network of plan.networks.values()) {
      if (network.metadata?.processing_mode === options.mode && network.start) return network.start;
    }
  }
  if (plan.main.start) return plan.main.start;
  for (const network of plan.networks.values()) if (network.start) return network.start;
  throw new MisuseError(`FSM "${plan.name}" has no network with a start state`);
}
