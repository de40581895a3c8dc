/** Counts the `abort` listeners put on and taken off a signal (through its own add/remove calls). */
export function abortListenerCount(signal: AbortSignal): () => number {
  let count = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
    count++;
    add(...args);
  }) as AbortSignal['addEventListener'];
  signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => {
    count--;
    remove(...args);
  }) as AbortSignal['removeEventListener'];
  return () => count;
}
