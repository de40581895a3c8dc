import type { ConfigError } from '@fsm/core';

/** Every issue of a config error, one per line, with its path. */
export function describeConfigError(error: ConfigError, configPath: string): string {
  const lines = error.issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`);
  return `${configPath}: invalid config (${error.code}, ${error.issues.length} issue${error.issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}\n`;
}
