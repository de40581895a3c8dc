import { FsmError, type FsmErrorCode, type FsmErrorOptions } from './fsm-error.js';

export interface ConfigIssue {
  /** JSON path into the config, e.g. `networks[0].states[2].arcs[1].target`; `''` for the root. */
  path: string;
  message: string;
  /** Source file of the issue when the config came from (or included) a file. */
  file?: string;
}

/** A config that cannot be used. Lists every issue found, not only the first. */
export class ConfigError extends FsmError {
  readonly issues: readonly ConfigIssue[];
  constructor(
    issues: readonly ConfigIssue[],
    options: { code?: 'CONFIG_INVALID' | 'CODE_NOT_ALLOWED'; cause?: unknown; source?: string } = {},
  ) {
    const where = options.source ? ` in ${options.source}` : '';
    const lines = issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n');
    const first = issues[0];
    super(
      options.code ?? 'CONFIG_INVALID',
      `Invalid FSM config${where} (${issues.length} issue${issues.length === 1 ? '' : 's'}):\n${lines}`,
      { cause: options.cause, ...(first ? { path: first.path } : {}) },
    );
    this.issues = issues;
  }
}

export interface ValidationIssue {
  path: string;
  message: string;
}

/** A record that failed a schema or validator. */
export class ValidationError extends FsmError {
  readonly issues: readonly ValidationIssue[];
  constructor(message: string, issues: readonly ValidationIssue[] = [], options: FsmErrorOptions = {}) {
    super('VALIDATION_FAILED', message, options);
    this.issues = issues;
  }
}

/**
 * Record data the engine refuses to handle: a forbidden key in a field path (`__proto__`, `constructor`,
 * `prototype`), nesting deeper than the depth limit, a value that cannot be copied or serialized.
 * Fails that record only.
 */
export class DataError extends FsmError {
  constructor(message: string, options: FsmErrorOptions = {}) {
    super('DATA_INVALID', message, options);
  }
}

export class ResourceError extends FsmError {
  readonly resource: string;
  constructor(
    code: Extract<FsmErrorCode, 'RESOURCE_UNAVAILABLE' | 'RESOURCE_TIMEOUT' | 'RESOURCE_RELEASE_FAILED'>,
    resource: string,
    message: string,
    options: FsmErrorOptions = {},
  ) {
    super(code, message, options);
    this.resource = resource;
  }
}

export class StorageError extends FsmError {
  readonly backend: string;
  readonly operation: string;
  constructor(backend: string, operation: string, message: string, options: FsmErrorOptions = {}) {
    super('STORAGE_FAILED', `[${backend}] ${operation}: ${message}`, options);
    this.backend = backend;
    this.operation = operation;
  }
}

export class LlmError extends FsmError {
  readonly provider: string;
  readonly status: number | undefined;
  constructor(
    provider: string,
    message: string,
    options: FsmErrorOptions & {
      status?: number;
      code?: Extract<FsmErrorCode, 'LLM_FAILED' | 'UNSUPPORTED' | 'TIMEOUT' | 'ABORTED'>;
    } = {},
  ) {
    super(options.code ?? 'LLM_FAILED', `[${provider}] ${message}`, options);
    this.provider = provider;
    this.status = options.status;
  }
}

export class IoError extends FsmError {
  /** 1-based line (or record) number of the bad input, when known. */
  readonly line: number | undefined;
  readonly source: string | undefined;
  constructor(message: string, options: FsmErrorOptions & { line?: number; source?: string } = {}) {
    super('IO_FAILED', message, options);
    this.line = options.line;
    this.source = options.source;
  }
}

export class CircuitBreakerError extends FsmError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options: FsmErrorOptions = {}) {
    super('CIRCUIT_OPEN', message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

export class BulkheadTimeoutError extends FsmError {
  constructor(message: string, options: FsmErrorOptions = {}) {
    super('BULKHEAD_FULL', message, options);
  }
}

export class ETLError extends FsmError {
  readonly stage: string;
  readonly record: unknown;
  constructor(stage: string, message: string, options: FsmErrorOptions & { record?: unknown } = {}) {
    super('ETL_FAILED', `[${stage}] ${message}`, options);
    this.stage = stage;
    this.record = options.record;
  }
}

/** Thrown when an API is used wrongly (closed FSM, bad options, processSync on async functions). */
export class MisuseError extends FsmError {
  constructor(message: string, options: FsmErrorOptions = {}) {
    super('MISUSE', message, options);
  }
}
