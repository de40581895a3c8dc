/** Exit codes of `fsm` (SPEC §5). */
export const EXIT_OK = 0;
/** Some records failed, or `validate` found errors. */
export const EXIT_FAILED = 1;
/** Usage error, unreadable file, invalid config. */
export const EXIT_USAGE = 2;

/** A problem with the command line or its files: printed as is, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
