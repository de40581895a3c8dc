import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const bin = join(import.meta.dirname, '..', 'dist', 'bin.js');
export const repo = join(import.meta.dirname, '..', '..', '..');
export const orderConfig = join(repo, 'examples', 'dataknobs', 'order-routing.yaml');
export const ordersJsonl = join(repo, 'examples', 'data', 'orders.jsonl');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `fsm` binary as a user would (tests need `pnpm build` first; scripts/test.sh does it). */
export function fsm(
  args: string[],
  options: { stdin?: string | Buffer; cwd?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build the CLI first (pnpm exec turbo run build)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd ?? repo,
      stdio: 'pipe',
      ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
