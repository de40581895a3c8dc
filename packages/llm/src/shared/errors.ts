import { LlmError } from '@fsm/core';

/** Removes an API key from a text, so errors and logs never carry it. */
export function redact(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join('[redacted]');
}

function holdsSecret(error: unknown, secret: string | undefined): boolean {
  if (!secret || secret.length < 4) return false;
  try {
    const e = error as { message?: unknown };
    return JSON.stringify({ ...(error as object), message: e?.message }).includes(secret);
  } catch {
    // Not serialisable (a cycle): cannot prove it is clean, so treat it as holding the key.
    return true;
  }
}

/**
 * Any SDK error as an `LlmError`: the status kept, aborts and timeouts with their own codes, and the
 * key scrubbed from the message. The original error stays as `cause` only when it does not hold the key.
 * `timeout` is the signal of our own timer (when we, not the SDK, enforce the timeout).
 */
export function toLlmError(
  provider: string,
  error: unknown,
  options: { apiKey?: string; signal?: AbortSignal; timeout?: AbortSignal } = {},
): LlmError {
  if (error instanceof LlmError) return error;
  const e = error as
    | { status?: number; name?: string; message?: string; httpResponse?: { status?: number } }
    | undefined;
  // OpenAI and Anthropic errors carry `status`; HuggingFace's carry `httpResponse.status`.
  const status = e?.status ?? e?.httpResponse?.status;
  const message = redact(e?.message ?? String(error), options.apiKey);
  const cause = holdsSecret(error, options.apiKey) ? undefined : error;
  if (options.signal?.aborted)
    return new LlmError(provider, `request aborted: ${message}`, { code: 'ABORTED', cause });
  if (
    options.timeout?.aborted ||
    e?.name === 'APIConnectionTimeoutError' ||
    e?.name === 'TimeoutError' ||
    /timed? ?out/i.test(message)
  ) {
    return new LlmError(provider, `request timed out: ${message}`, { code: 'TIMEOUT', cause });
  }
  return new LlmError(provider, message, {
    ...(typeof status === 'number' ? { status } : {}),
    cause,
  });
}

/**
 * Loads an optional SDK when a provider is first used, so apps without it only fail when they ask for
 * that provider — with an error that says what to install.
 */
export async function loadSdk<M>(provider: string, pkg: string, load: () => Promise<M>): Promise<M> {
  try {
    return await load();
  } catch (error) {
    throw new LlmError(provider, `the ${provider} provider needs the "${pkg}" package: pnpm add ${pkg}`, {
      cause: error,
    });
  }
}

/** A FIFO limit on requests in flight to one provider; a caller that aborts while queued leaves the queue. */
export class ConcurrencyLimit {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxConcurrency must be >= 1, got ${max}`);
  }

  private async acquire(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.active < this.max) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        this.active++;
        resolve();
      };
      const onAbort = () => {
        const index = this.queue.indexOf(wake);
        if (index >= 0) this.queue.splice(index, 1);
        reject(signal?.reason);
      };
      this.queue.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private release(): void {
    this.active--;
    this.queue.shift()?.();
  }

  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  /** Holds a slot for the life of a stream. */
  async *stream<T>(open: () => AsyncIterable<T>, signal?: AbortSignal): AsyncGenerator<T> {
    await this.acquire(signal);
    try {
      yield* open();
    } finally {
      this.release();
    }
  }
}

export function unsupported(provider: string, what: string): LlmError {
  return new LlmError(provider, `${what} is not supported by ${provider}`, { code: 'UNSUPPORTED' });
}

/** A stream that holds a concurrency slot while it runs and turns every failure into an `LlmError`. */
export async function* guardedStream<T>(
  limit: ConcurrencyLimit,
  signal: AbortSignal | undefined,
  open: () => AsyncIterable<T>,
  fail: (error: unknown) => LlmError,
): AsyncGenerator<T> {
  try {
    yield* limit.stream(open, signal);
  } catch (error) {
    throw fail(error);
  }
}
