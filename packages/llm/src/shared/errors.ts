import { LlmError } from '@fsm/core';

/** Removes an API key from a text, so errors and logs never carry it. */
export function redact(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join('[redacted]');
}

/**
 * Any SDK error as an `LlmError`: the status kept, aborts and timeouts with their own codes, and the
 * key scrubbed from the message. The original error stays as `cause` only when it does not hold the key.
 */
export function toLlmError(
  provider: string,
  error: unknown,
  options: { apiKey?: string; signal?: AbortSignal } = {},
): LlmError {
  if (error instanceof LlmError) return error;
  const e = error as { status?: number; name?: string; message?: string };
  const message = redact(e?.message ?? String(error), options.apiKey);
  const leaks =
    options.apiKey !== undefined &&
    options.apiKey.length >= 4 &&
    JSON.stringify({ ...e, message: e?.message }).includes(options.apiKey);
  const cause = leaks ? undefined : error;
  if (options.signal?.aborted)
    return new LlmError(provider, `request aborted: ${message}`, { code: 'ABORTED', cause });
  if (e?.name === 'APIConnectionTimeoutError' || /timed? ?out/i.test(message)) {
    return new LlmError(provider, `request timed out: ${message}`, { code: 'TIMEOUT', cause });
  }
  return new LlmError(provider, message, {
    ...(typeof e?.status === 'number' ? { status: e.status } : {}),
    cause,
  });
}

/** A FIFO limit on requests in flight to one provider. */
export class ConcurrencyLimit {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }

  /** Holds a slot for the life of a stream. */
  async *stream<T>(open: () => AsyncIterable<T>): AsyncGenerator<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    try {
      yield* open();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

export function unsupported(provider: string, what: string): LlmError {
  return new LlmError(provider, `${what} is not supported by ${provider}`, { code: 'UNSUPPORTED' });
}
