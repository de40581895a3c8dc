import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, type FsmFunction, SimpleFSM, loadConfigWithWarnings } from '@fsm/core';
import { EXIT_FAILED, EXIT_OK, UsageError } from '../exit-codes.js';
import { cliPackages, describeConfigError, loadFunctionsModule } from '../load-fsm.js';

/**
 * Any registered name resolves to a placeholder: graphs and structural checks need no real code. Names of
 * `Object.prototype` members (`toString`, `constructor`, `__proto__`, …) are not: `fsm run` refuses them as
 * unknown functions, so `validate` must too.
 */
const placeholderName = (name: string | symbol): name is string =>
  typeof name === 'string' && !(name in Object.prototype);
const placeholders = new Proxy({} as Record<string, FsmFunction>, {
  get: (_t, name) => (placeholderName(name) ? (data: unknown) => data : undefined),
  has: (_t, name) => placeholderName(name),
  // The resolver looks registered names up as own keys (Object.hasOwn): every other name is one here.
  getOwnPropertyDescriptor: (_t, name) =>
    placeholderName(name)
      ? { value: (data: unknown) => data, writable: false, enumerable: true, configurable: true }
      : undefined,
});

async function compileForInspection(
  configPath: string,
  functionsModule: string | undefined,
  allowCode: boolean,
  allowedRoots: readonly string[],
) {
  if (!existsSync(configPath)) throw new UsageError(`config file "${configPath}" does not exist`);
  const functions = functionsModule ? await loadFunctionsModule(functionsModule, allowCode) : placeholders;
  // The resource types and builtins `fsm run` has (db_*, llm_*, dataknobs' library names); providers open
  // nothing until a record acquires them, which compiling does not.
  return SimpleFSM.create(resolve(configPath), { functions, allowCode: true, allowedRoots, ...cliPackages });
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

export interface InspectOptions {
  storage: string;
  port: string;
  host: string;
}

/**
 * `fsm inspect`: serves the inspector (apps/inspector) for a config and a history store until
 * SIGINT/SIGTERM. The inspector is an optional companion package: without it, a usage error says so.
 */
export async function inspectCommand(configPath: string, options: InspectOptions): Promise<number> {
  if (!existsSync(configPath)) throw new UsageError(`config file "${configPath}" does not exist`);
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`--port must be a port number (0-65535), not "${options.port}"`);
  }
  let inspector: typeof import('@fsm/inspector');
  try {
    inspector = await import('@fsm/inspector');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new UsageError('fsm inspect needs the @fsm/inspector package next to @fsm/cli', { cause: error });
  }
  const running = await inspector.startInspector({
    config: resolve(configPath),
    storage: options.storage,
    port,
    host: options.host,
  });
  process.stderr.write(`fsm inspect: ${running.url} (Ctrl-C to stop)\n`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await running.close();
  return EXIT_OK;
}
