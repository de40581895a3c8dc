import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeHistoryStore, sampleHistory } from '@fsm/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore } from './file-store.js';

const root = mkdtempSync(join(tmpdir(), 'fsm-file-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

describeHistoryStore('file', () => FileStore.open({ directory: join(root, `suite-${++n}`) }));

describe('file store', () => {
  it('reopening finds histories, checkpoints and batch items', async () => {
    const directory = join(root, 'reopen');
    const first = await FileStore.open({ directory, fsync: true });
    await first.save(sampleHistory({ executionId: 'a' }));
    await first.saveBatchItems('b', [{ itemIndex: 4, executionId: 'b:4', success: true, result: { ok: 1 } }]);
    await first.close();
    const second = await FileStore.open({ directory });
    expect((await second.load('a'))?.executionId).toBe('a');
    expect(await second.loadBatchItems('b')).toHaveLength(1);
    await second.close();
  });

  it('a torn last line (crash mid-write) is cut off; earlier lines survive', async () => {
    const directory = join(root, 'torn');
    const first = await FileStore.open({ directory });
    await first.save(sampleHistory({ executionId: 'whole' }));
    await first.close();
    appendFileSync(join(directory, 'histories.jsonl'), '{"op":"put","key":"half","value":{"execu');
    const second = await FileStore.open({ directory });
    expect(await second.load('whole')).toBeDefined();
    expect(await second.load('half')).toBeUndefined();
    await second.save(sampleHistory({ executionId: 'after' }));
    await second.close();
    const lines = readFileSync(join(directory, 'histories.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { key: string }).key)).toEqual(['whole', 'after']);
  });

  it('a corrupt line in the middle is a StorageError naming file and line', async () => {
    const directory = join(root, 'corrupt');
    const store = await FileStore.open({ directory });
    await store.close();
    writeFileSync(join(directory, 'histories.jsonl'), 'not json\n{"op":"del","key":"x"}\n');
    await expect(FileStore.open({ directory })).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringContaining('histories.jsonl line 1 is corrupt'),
    });
  });

  it('compaction keeps only live entries', async () => {
    const directory = join(root, 'compact');
    const store = await FileStore.open({ directory });
    for (let i = 0; i < 50; i++) await store.saveCheckpoint({ ...snapshot, state: `s${i}` });
    await store.close();
    const reopened = await FileStore.open({ directory });
    expect((await reopened.loadCheckpoint('cp'))?.state).toBe('s49');
    // 50 writes of ~40 KB were compacted to the one live line on open.
    expect(statSync(join(directory, 'checkpoints.jsonl')).size).toBeLessThan(50_000);
    await reopened.close();
  });
});

const snapshot = {
  version: 1 as const,
  fsm: 'f',
  executionId: 'cp',
  network: 'main',
  state: 's0',
  phase: 'enter' as const,
  data: { big: 'x'.repeat(40_000) },
  transitions: 0,
  path: [],
  startedAt: 0,
  stack: [],
  variables: {},
};
