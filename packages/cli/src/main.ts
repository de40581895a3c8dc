import { ConfigError, FsmError } from '@fsm/core';
import { Command, CommanderError } from 'commander';
import type { historyDelete, historyList, historyShow, resumeCommand } from './commands/history.js';
import type { graphCommand, inspectCommand, validateCommand } from './commands/inspect.js';
import type { runCommand } from './commands/run.js';
import type { workerCommand } from './commands/worker.js';
import { EXIT_USAGE, UsageError } from './exit-codes.js';
import { describeConfigError } from './config-error.js';

/** `--allow-read <dir>`, repeatable: more folders that `$include`/`$import` may read. */
function allowRead(command: Command): Command {
  return command.option(
    '--allow-read <dir>',
    'let $include/$import also read files in this folder (repeatable; default: only the config folder)',
    (dir: string, dirs: string[]) => [...dirs, dir],
    [] as string[],
  );
}

function program(setCode: (code: number) => void): Command {
  const cli = new Command('fsm')
    .description('Run data-processing finite state machines (dataknobs-fsm compatible configs).')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();
  const after =
    <A extends unknown[]>(run: (...args: A) => Promise<number> | number) =>
    async (...args: A) =>
      setCode(await run(...args));

  allowRead(cli.command('run <config>'))
    .description('run records through a config; one JSON line per record on --output, summary on stderr')
    .option('-i, --input <file>', 'input file (.jsonl/.json/.csv, optionally .gz) or - for stdin', '-')
    .option('--input-format <format>', 'jsonl | json | csv (default: by extension; jsonl for stdin)')
    .option(
      '--replace-invalid-utf8',
      'replace input bytes that are not UTF-8 with U+FFFD (default: an error)',
    )
    .option('-o, --output <file>', 'output file or - for stdout', '-')
    .option(
      '-s, --storage <url>',
      'history store (sqlite:./fsm.db, postgres://..., file:./dir); makes the run a resumable batch',
    )
    .option(
      '-c, --concurrency <n>',
      'records in flight (their I/O waits overlap: a write-behind transaction takes the rows of all of them); default 64, 128 with a PostgreSQL store',
    )
    .option('--allow-code', 'allow inline JavaScript and custom modules in the config')
    .option('--functions <module>', 'ES module whose exported functions are registered (needs --allow-code)')
    .option('--timeout <duration>', 'per-record timeout, e.g. 500ms, 30s, 2m')
    .option('--resume <batchId>', 'finish a batch interrupted earlier (needs the same --storage and input)')
    .option('--batch-id <id>', 'name the batch (default: generated)')
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'no progress output')
    .option('--queue <name>', 'submit to this BullMQ queue instead of running here (workers: fsm worker)')
    .option('--redis <url>', 'Redis of the queue', 'redis://127.0.0.1:6379')
    .option('--otel', 'OpenTelemetry: a span per execution, state and push, exported over OTLP/HTTP')
    .option('--otel-endpoint <url>', 'OTLP/HTTP endpoint (default: OTEL_EXPORTER_OTLP_ENDPOINT)')
    .action(
      after(
        async (
          config: string,
          options: Parameters<typeof runCommand>[1] & { queue?: string; redis: string },
        ) => {
          // Each command's module loads when it runs: `fsm run` never loads BullMQ or OpenTelemetry.
          const queue = options.queue;
          if (queue) return (await import('./commands/worker.js')).runOnQueue(config, { ...options, queue });
          return (await import('./commands/run.js')).runCommand(config, options);
        },
      ),
    );

  allowRead(cli.command('worker <config>'))
    .description('run records submitted to a BullMQ queue (fsm run --queue) until stopped')
    .option('--redis <url>', 'Redis of the queue', 'redis://127.0.0.1:6379')
    .option('--queue <name>', 'queue name (default: derived from the config path)')
    .option('-c, --concurrency <n>', 'records in flight in this worker', '8')
    .option(
      '-s, --storage <url>',
      'checkpoint every step here, so a crashed worker resumes records from their last step',
    )
    .option('--allow-code', 'allow inline JavaScript and --functions')
    .option('--functions <module>', 'ES module of registered functions (needs --allow-code)')
    .option('--timeout <duration>', 'per-record timeout')
    .option('--otel', 'OpenTelemetry: a span per execution, state and push, exported over OTLP/HTTP')
    .option('--otel-endpoint <url>', 'OTLP/HTTP endpoint (default: OTEL_EXPORTER_OTLP_ENDPOINT)')
    .option('--metrics-port <port>', 'serve Prometheus metrics on http://127.0.0.1:<port>/metrics')
    .action(
      after((config: string, options: Parameters<typeof workerCommand>[1]) =>
        import('./commands/worker.js').then((m) => m.workerCommand(config, options)),
      ),
    );

  allowRead(cli.command('validate <config>'))
    .description('check a config: every error with its path (exit 1 when invalid)')
    .option(
      '--functions <module>',
      'ES module of registered functions to check names against (needs --allow-code)',
    )
    .option('--allow-code', 'allow loading --functions')
    .option('--json', 'machine-readable report on stdout')
    .action(
      after((config: string, options: Parameters<typeof validateCommand>[1]) =>
        import('./commands/inspect.js').then((m) => m.validateCommand(config, options)),
      ),
    );

  allowRead(cli.command('migrate <config>'))
    .description(
      'report what a dataknobs-fsm config needs to run here (exit 0: loads unchanged, 1: functions to port, 2: invalid)',
    )
    .option('-w, --write <file>', 'write the config rewritten to load here (.yaml, or .json)')
    .action(
      after((config: string, options: { write?: string; allowRead?: string[] }) =>
        import('./commands/migrate.js').then((m) => m.migrateCommand(config, options)),
      ),
    );

  cli
    .command('inspect <config>')
    .description('open the web inspector: the graph, the flow over stored executions, search, one execution')
    .requiredOption('-s, --storage <url>', 'history store (sqlite:./fsm.db, postgres://..., file:./dir)')
    .option('-p, --port <port>', 'port to listen on', '4173')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(
      after((config: string, options: Parameters<typeof inspectCommand>[1]) =>
        import('./commands/inspect.js').then((m) => m.inspectCommand(config, options)),
      ),
    );

  allowRead(cli.command('graph <config>'))
    .description('print the state graph')
    .option('-f, --format <format>', 'mermaid | dot', 'mermaid')
    .action(
      after((config: string, options: Parameters<typeof graphCommand>[1]) =>
        import('./commands/inspect.js').then((m) => m.graphCommand(config, options)),
      ),
    );

  const history = cli.command('history').description('list, show or delete stored execution histories');
  const storageOption = (c: Command) =>
    c.option('-s, --storage <url>', 'history store URL').option('--json', 'JSON output');
  storageOption(history.command('list').description('recent executions, newest first'))
    .option('--fsm <name>', 'only this FSM')
    .option('--status <status>', 'running | succeeded | failed')
    .option('--limit <n>', 'at most this many', '20')
    .action(
      after((options: Parameters<typeof historyList>[0]) =>
        import('./commands/history.js').then((m) => m.historyList(options)),
      ),
    );
  storageOption(history.command('show <executionId>').description('one execution, step by step')).action(
    after((id: string, options: Parameters<typeof historyShow>[1]) =>
      import('./commands/history.js').then((m) => m.historyShow(id, options)),
    ),
  );
  storageOption(history.command('delete <executionId>').description('delete one execution')).action(
    after((id: string, options: Parameters<typeof historyDelete>[1]) =>
      import('./commands/history.js').then((m) => m.historyDelete(id, options)),
    ),
  );

  allowRead(cli.command('resume <executionId> [config]'))
    .description('continue one execution from its last checkpoint (config: the one it ran with, by default)')
    .requiredOption('-s, --storage <url>', 'the store that holds its checkpoint')
    .option('--allow-code', 'allow code in the config / --functions')
    .option('--functions <module>', 'ES module of registered functions (needs --allow-code)')
    .action(
      after((id: string, config: string | undefined, options: Parameters<typeof resumeCommand>[2]) =>
        import('./commands/history.js').then((m) => m.resumeCommand(id, config, options)),
      ),
    );

  cli
    .command('init [dir]')
    .description('scaffold a config and sample data')
    .option('-p, --pattern <pattern>', 'basic | validation | etl', 'basic')
    .action(
      after((dir: string | undefined, options: { pattern: string }) =>
        import('./commands/init.js').then((m) => m.initCommand(dir ?? '.', options)),
      ),
    );
  return cli;
}

/** Runs the CLI; resolves to the exit code (0 ok, 1 records failed / invalid, 2 usage or config error). */
export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  try {
    await program((c) => {
      code = c;
    }).parseAsync([...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
        ? 0
        : EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(describeConfigError(error, argv[3] ?? 'config'));
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`fsm: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (FsmError.is(error)) {
      process.stderr.write(`fsm: ${error.code}: ${error.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(
      `fsm: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return EXIT_USAGE;
  }
}
