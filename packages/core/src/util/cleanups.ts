/**
 * Runs cleanup steps in order, each one even when a step before it failed, then throws what failed: the
 * one error as it is, or an AggregateError (with `message`) of them all. Nothing is swallowed.
 */
export async function runCleanups(
  message: string,
  steps: ReadonlyArray<() => Promise<unknown> | unknown>,
): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, message);
}
