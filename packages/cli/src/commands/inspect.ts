import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, type FsmFunction, SimpleFSM, loadConfigWithWarnings } from '@fsm/core';
import { EXIT_FAILED, EXIT_OK, UsageError } from '../exit-codes.js';
import { describeConfigError, loadFunctionsModule } from '../load-fsm.js';

/** Any registered name resolves to a placeholder: graphs and structural checks need no real code. */
const placeholders = new Proxy({} as Record<string, FsmFunction>, {
  get: (_t, name) => (typeof name === 'string' ? (data: unknown) => data : undefined),
  has: () => true,
});

async function compileForInspection(
  configPath: string,
  functionsModule: string | undefined,
  allowCode: boolean,
  allowedRoots: readonly string[],
) {
  if (!existsSync(configPath)) throw new UsageError(`config file "${configPath}" does not exist`);
  const functions = functionsModule ? await loadFunctionsModule(functionsModule, allowCode) : placeholders;
  return SimpleFSM.create(resolve(configPath), { functions, allowCode: true, allowedRoots });
}

export interface ValidateOptions {
  json?: boolean;
  functions?: string;
  allowCode?: boolean;
  /** `--allow-read`: folders besides the config's that `$include`/`$import` may read. */
  allowRead?: string[];
}

/**
 * `fsm validate`: the config's schema and cross-checks, every issue with its path; then the functions
 * it names (with --functions, registered names must exist; without it only builtins and expressions
 * are checked). Code in the config is compiled, never run.
 */
export async function validateCommand(configPath: string, options: ValidateOptions): Promise<number> {
  if (!existsSync(configPath)) throw new UsageError(`config file "${configPath}" does not exist`);
  const report: {
    valid: boolean;
    issues: Array<{ path: string; message: string }>;
    warnings: Array<{ path: string; message: string }>;
  } = {
    valid: true,
    issues: [],
    warnings: [],
  };
  try {
    const allowedRoots = options.allowRead ?? [];
    const loaded = await loadConfigWithWarnings(resolve(configPath), { allowedRoots });
    report.warnings = loaded.warnings;
    const fsm = await compileForInspection(
      configPath,
      options.functions,
      options.allowCode ?? false,
      allowedRoots,
    );
    await fsm.close();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    report.valid = false;
    report.issues = [...error.issues];
    if (!options.json) process.stderr.write(describeConfigError(error, configPath));
  }
  if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    for (const w of report.warnings)
      process.stderr.write(`${configPath}: warning: ${w.path || '(root)'}: ${w.message}\n`);
    if (report.valid) process.stdout.write(`${configPath}: valid\n`);
  }
  return report.valid ? EXIT_OK : EXIT_FAILED;
}

export async function graphCommand(
  configPath: string,
  options: { format: string; allowRead?: string[] },
): Promise<number> {
  if (options.format !== 'mermaid' && options.format !== 'dot') {
    throw new UsageError(`--format must be mermaid or dot, not "${options.format}"`);
  }
  const fsm = await compileForInspection(configPath, undefined, false, options.allowRead ?? []);
  process.stdout.write(`${options.format === 'dot' ? fsm.toDot() : fsm.toMermaid()}\n`);
  await fsm.close();
  return EXIT_OK;
}
