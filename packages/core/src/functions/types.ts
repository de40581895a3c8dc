import type { FunctionParams } from '../config/types.js';

/** What a function may log through; defaults to a no-op logger. */
export interface FsmLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What functions see as `context.resources`. */
export interface ResourceAccess {
  /** The handle of a resource held for the current state or arc, by name or by role. */
  get<H = unknown>(nameOrRole: string): H;
  has(nameOrRole: string): boolean;
}

export interface BatchInfo {
  batchId: string;
  itemIndex: number;
}

/** The second argument of every condition, transform and validator. */
export interface FunctionContext {
  /** Name of the state being entered, or the source state of the arc being evaluated. */
  state: string;
  network: string;
  executionId: string;
  /** The `params` of the function reference being called (empty object when none). */
  params: FunctionParams;
  resources: ResourceAccess;
  signal: AbortSignal;
  batch: BatchInfo | undefined;
  logger: FsmLogger;
  /** The error of a failed push into a sub-network, while the parent state's remaining arcs are tried. */
  lastError: { code: string; message: string } | undefined;
  /** Free-form per-execution variables (shared across states of one record). */
  variables: Record<string, unknown>;
}

/**
 * A condition, transform or validator. `data` is typed `unknown`; declare your record type on the
 * parameter (`(order: Order) => order.amount > 100`) — the method-style signature accepts that.
 */
export type FsmFunction<TData = unknown, TResult = unknown> = {
  bivarianceHack(data: TData, context: FunctionContext): TResult | Promise<TResult>;
}['bivarianceHack'];

export type FunctionRole = 'condition' | 'transform' | 'validator';

/**
 * A function resolved from a config reference, ready to call. `sync: true` promises that `call`
 * never returns a promise (CEL, most builtins, non-async registered functions); the engine uses
 * it to decide whether `processSync` is possible.
 */
export interface ResolvedFunction {
  /** Display name: the registered/builtin name, or `expression`/`inline` with a short excerpt. */
  readonly name: string;
  /** JSON path of the reference in the config. */
  readonly path: string;
  readonly sync: boolean;
  /**
   * Never changes the data it is given (expressions: their languages have no assignment), so copy mode
   * need not copy the data for it; a failure still leaves the data as it was.
   */
  readonly pure?: boolean;
  /**
   * An expression (JSONata, CEL): computes a value and has no side effects, so a durable run need not
   * checkpoint after it (a resume may evaluate it again, like an arc condition).
   */
  readonly expression?: boolean;
  readonly params: FunctionParams;
  readonly call: (data: unknown, context: FunctionContext) => unknown;
}

/** A builtin function factory: gets the reference's params once at compile time. */
export interface BuiltinFunction {
  readonly name: string;
  readonly roles: readonly FunctionRole[];
  readonly sync: boolean;
  /** Never changes the data it is given (see `ResolvedFunction.pure`). */
  readonly pure?: boolean;
  readonly description: string;
  /** Returns the callable; throws a ConfigError-worthy message (string) when params are wrong. */
  create(params: FunctionParams): (data: unknown, context: FunctionContext) => unknown;
}

/** Options that decide which references may resolve, given to the resolver at compile time. */
export interface ResolveOptions {
  /** Allows `{type: inline}`, `{type: custom}` and bare strings that are code. Default false. */
  allowCode: boolean;
  /** Directory that custom module paths resolve against. */
  baseDir: string;
}
