/** Stable error codes. Never renamed; new ones are only added. */
export const FSM_ERROR_CODES = [
  'CONFIG_INVALID',
  'CODE_NOT_ALLOWED',
  'VALIDATION_FAILED',
  'NO_TRANSITION',
  'MAX_TRANSITIONS',
  'FUNCTION_FAILED',
  'TIMEOUT',
  'ABORTED',
  'RESOURCE_UNAVAILABLE',
  'RESOURCE_TIMEOUT',
  'RESOURCE_RELEASE_FAILED',
  'CIRCUIT_OPEN',
  'BULKHEAD_FULL',
  'ETL_FAILED',
  'STORAGE_FAILED',
  'LLM_FAILED',
  'UNSUPPORTED',
  'IO_FAILED',
  'STREAM_FAILED',
  'MISUSE',
  'SNAPSHOT_INVALID',
  'DATA_INVALID',
] as const;

export type FsmErrorCode = (typeof FSM_ERROR_CODES)[number];

export interface FsmErrorOptions {
  cause?: unknown;
  /** JSON path into the config (`networks[0].states[2].arcs[1].target`) when the error is about config. */
  path?: string;
  /** State in which the error happened, for execution errors. */
  state?: string;
  /** Network in which the error happened, for execution errors. */
  network?: string;
}

/** Serializable form of an error, as it appears in results, history and CLI output. */
export interface FsmErrorInfo {
  code: FsmErrorCode | string;
  message: string;
  state?: string;
  network?: string;
  path?: string;
  cause?: { name: string; message: string; code?: string };
}

const FSM_ERROR_BRAND = Symbol.for('@fsm/core/FsmError');

/** The one error hierarchy of @fsm: every thrown error is an FsmError with a stable `code`. */
export class FsmError extends Error {
  readonly code: FsmErrorCode;
  readonly path: string | undefined;
  readonly state: string | undefined;
  readonly network: string | undefined;

  constructor(code: FsmErrorCode, message: string, options: FsmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.path = options.path;
    this.state = options.state;
    this.network = options.network;
    Object.defineProperty(this, FSM_ERROR_BRAND, { value: true });
  }

  /** True for any FsmError, also one thrown by another copy of this package. */
  static is(error: unknown): error is FsmError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[FSM_ERROR_BRAND] === true
    );
  }

  toJSON(): FsmErrorInfo {
    const info: FsmErrorInfo = { code: this.code, message: this.message };
    if (this.state !== undefined) info.state = this.state;
    if (this.network !== undefined) info.network = this.network;
    if (this.path !== undefined) info.path = this.path;
    const cause = describeCause(this.cause);
    if (cause) info.cause = cause;
    return info;
  }
}

export function describeCause(cause: unknown): FsmErrorInfo['cause'] | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string'
      ? { name: cause.name, message: cause.message, code }
      : { name: cause.name, message: cause.message };
  }
  return { name: typeof cause, message: String(cause) };
}

/** Turns anything thrown into an FsmError, keeping an FsmError as it is. */
export function toFsmError(
  error: unknown,
  code: FsmErrorCode,
  message: string,
  options: FsmErrorOptions = {},
): FsmError {
  if (FsmError.is(error)) return error;
  return new FsmError(code, message, { ...options, cause: error });
}
