import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type FakeLlmServer, startFakeLlmServer } from '@fsm/llm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ticket, triage } from './index.js';

const tickets = readFileSync(fileURLToPath(new URL('../data/tickets.jsonl', import.meta.url)), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Ticket);

/** A stand-in model on the OpenAI wire protocol: keyword rules instead of weights. */
let server: FakeLlmServer;
beforeAll(async () => {
  server = await startFakeLlmServer({
    reply: (prompt, body) => {
      const text = prompt.toLowerCase();
      if (body.response_format) {
        const high = text.includes('outage') || text.includes('security');
        return {
          text: JSON.stringify({
            urgency: high ? 'high' : 'normal',
            reason: high ? 'service down' : 'routine',
          }),
        };
      }
      if (text.includes('charged') || text.includes('invoice')) return { text: 'billing' };
      if (text.includes('crash') || text.includes('outage')) return { text: 'technical' };
      if (text.includes('email') || text.includes('password')) return { text: 'account' };
      return { text: 'other' };
    },
  });
});
afterAll(() => server.close());

describe('llm-triage', () => {
  it('classifies and routes the sample tickets through the OpenAI SDK against a local protocol server', async () => {
    const batch = await triage(tickets, { baseUrl: `${server.url}/v1`, model: 'local-test' });
    expect(batch.results.map((r) => [(r.data as Ticket).id, r.finalState])).toEqual([
      ['T-1', 'finance'],
      ['T-2', 'engineering'],
      ['T-3', 'on_call'],
      ['T-4', 'accounts'],
      ['T-5', 'general'],
    ]);
    const outage = batch.results[2]?.data as {
      category: string;
      assessment: { urgency: string };
      usage: { totalTokens: number };
    };
    expect(outage).toMatchObject({ category: 'technical', assessment: { urgency: 'high' } });
    expect(outage.usage.totalTokens).toBe(38);
    expect(server.requests.every((r) => r.body.model === 'local-test')).toBe(true);
  });

  it('a ticket missing its body is rejected before any model call', async () => {
    const before = server.requests.length;
    const batch = await triage([{ id: 'T-9', subject: 'x' } as Ticket], { baseUrl: `${server.url}/v1` });
    expect(batch.results[0]?.error?.code).toBe('VALIDATION_FAILED');
    expect(server.requests.length).toBe(before);
  });

  it('an unreachable endpoint fails the records with LLM_FAILED, not a hang', async () => {
    const batch = await triage(tickets.slice(0, 1), { baseUrl: 'http://127.0.0.1:1/v1' });
    expect(batch.results[0]?.error?.code).toMatch(/LLM_FAILED|TIMEOUT/);
  });
});

describe('llm-triage through the fsm CLI', () => {
  it('fsm run triage.yaml routes the tickets (spawned CLI, local protocol server)', async () => {
    // Spawned asynchronously: the local protocol server runs in this process and must keep answering.
    const { execFile } = await import('node:child_process');
    const bin = fileURLToPath(new URL('../../../packages/cli/dist/bin.js', import.meta.url));
    const args = [
      bin,
      'run',
      fileURLToPath(new URL('../triage.yaml', import.meta.url)),
      '-i',
      fileURLToPath(new URL('../data/tickets.jsonl', import.meta.url)),
      '--no-progress',
    ];
    const out = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        args,
        { env: { ...process.env, LLM_BASE_URL: `${server.url}/v1`, OPENAI_API_KEY: 'sk-local' } },
        (error, stdout, stderr) =>
          resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(out.status, out.stderr).toBe(0);
    expect(
      out.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { finalState: string }).finalState),
    ).toEqual(['finance', 'engineering', 'on_call', 'accounts', 'general']);
  });
});
