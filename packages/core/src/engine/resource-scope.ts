import { ResourceError } from '../errors/errors.js';
import type { ResourceAccess } from '../functions/types.js';
import type { ResourceBinding } from '../plan/types.js';

const NO_NAMES: readonly string[] = Object.freeze([]);

/** `context.resources` for one execution: the handles held for the current state and its arcs, by role. */
export class ResourceScope implements ResourceAccess {
  private readonly handles = new Map<string, unknown>();
  private readonly names: string[] = [];
  state = '';

  get<H = unknown>(nameOrRole: string): H {
    if (!this.handles.has(nameOrRole)) {
      const held = [...this.handles.keys()];
      throw new ResourceError(
        'RESOURCE_UNAVAILABLE',
        nameOrRole,
        `resource "${nameOrRole}" is not held in state "${this.state}"` +
          (held.length ? ` (held: ${held.join(', ')})` : ' (declare it under the state or arc `resources:`)'),
        { state: this.state },
      );
    }
    return this.handles.get(nameOrRole) as H;
  }

  has(nameOrRole: string): boolean {
    return this.handles.has(nameOrRole);
  }

  add(binding: ResourceBinding, handle: unknown): void {
    this.handles.set(binding.role, handle);
    if (binding.role !== binding.name) this.handles.set(binding.name, handle);
    this.names.push(binding.name);
  }

  /** Names of the resources held, for history (no allocation per step when none are held). */
  heldNames(): readonly string[] {
    const names = this.names;
    if (names.length === 0) return NO_NAMES;
    return names.length === 1 ? [names[0] as string] : [...new Set(names)];
  }

  clear(): void {
    if (this.names.length === 0) return;
    this.handles.clear();
    this.names.length = 0;
  }
}

/** A scope that never holds anything: shared by executions of plans without resources. */
export const EMPTY_RESOURCES: ResourceAccess = {
  get(name: string): never {
    throw new ResourceError(
      'RESOURCE_UNAVAILABLE',
      name,
      `resource "${name}" is not declared on this state or arc`,
    );
  },
  has: () => false,
};
