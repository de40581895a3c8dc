import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ExecutionHistory,
  type ExecutionSearchPage,
  type HistoryStore,
  loadConfig,
  SimpleFSM,
  scanExecutions,
} from '@fsm/core';
import { createStorage } from '@fsm/storage';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphModel } from '../src/graph-model.js';
import { type Inspector, startInspector } from '../src/server.js';
import { etlHistories } from './etl-histories.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const etlConfig = join(repo, 'apps', 'etl-demo', 'etl.yaml');
const nestedConfig = fileURLToPath(new URL('./fixtures/nested.yaml', import.meta.url));
const webRoot = fileURLToPath(new URL('../dist/web', import.meta.url));
// Screenshots stay after the run (test output); the stores are temporary.
const output = fileURLToPath(new URL('../test-output', import.meta.url));
const dir = join(tmpdir(), `fsm-inspector-${process.pid}`);
const etlUrl = `sqlite:${join(dir, 'etl.db')}`;
const nestedUrl = `sqlite:${join(dir, 'nested.db')}`;
const COUNT = 10_000;
const T0 = Date.UTC(2026, 5, 1, 12);

let etl: Inspector;
let nested: Inspector;
/** The etl store again, with data-field searches read in windows of 1 000 histories. */
let windowed: Inspector;
const WINDOW = 1000;
const CUSTOMER = { path: 'customer', value: 'cust-5' };
/** Executions of customer `cust-5`: in the whole store, and in the newest WINDOW. */
let customerCounts: { all: number; newest: number };
let browser: Browser;
let expected: ReturnType<typeof etlHistories>['expected'];

async function saveAll(store: HistoryStore, histories: Iterable<ExecutionHistory>): Promise<void> {
  for (const h of histories) await store.save(h);
}

/** Runs real records through the nested config, then stores copies of them up to `count` executions. */
async function nestedHistories(store: HistoryStore, count: number): Promise<void> {
  const fsm = await SimpleFSM.create(nestedConfig, { storage: store, history: true });
  const records = Array.from({ length: 30 }, (_, i) => ({ id: i, qty: i % 5, card_ok: i % 3 !== 0 }));
  await fsm.processDurableBatch(records, { concurrency: 1, batchId: 'seed' });
  await fsm.close();
  const seeds: ExecutionHistory[] = [];
  for await (const s of store.query({ fsm: 'nested_orders' })) {
    const h = await store.load(s.executionId);
    if (h) seeds.push(h);
  }
  const copies = function* () {
    for (let i = seeds.length; i < count; i++) {
      const data = (seeds[i % seeds.length] as ExecutionHistory).toJSON();
      yield new ExecutionHistory({ ...data, executionId: `bulk:${i}`, batchId: 'bulk', itemIndex: i });
    }
  };
  await saveAll(store, copies());
}

async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

async function open(inspector: Inspector): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  page.setDefaultTimeout(15_000);
  await page.goto(inspector.url);
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

/** Node boxes in page coordinates, and the pairs that overlap. */
async function overlaps(page: Page): Promise<{ count: number; pairs: string[] }> {
  return page.evaluate(() => {
    const boxes = [...document.querySelectorAll('.node')].map((g) => {
      const r = (g.querySelector('rect') as SVGRectElement).getBoundingClientRect();
      return { id: g.getAttribute('data-node') ?? '', r };
    });
    const pairs: string[] = [];
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = (boxes[i] as (typeof boxes)[number]).r;
        const b = (boxes[j] as (typeof boxes)[number]).r;
        if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) {
          pairs.push(`${boxes[i]?.id} × ${boxes[j]?.id}`);
        }
      }
    }
    return { count: boxes.length, pairs };
  });
}

/** What the config says the diagram must hold: states, arcs (a push arc is one enter edge), returns. */
async function configCounts(path: string): Promise<{ nodes: number; arcs: number; returns: number }> {
  const networks = graphModel(await loadConfig(path));
  const byName = new Map(networks.map((n) => [n.name, n]));
  let returns = 0;
  for (const n of networks) {
    for (const a of n.arcs)
      if (a.push) returns += byName.get(a.push)?.states.filter((s) => s.end).length ?? 0;
  }
  return {
    nodes: networks.reduce((sum, n) => sum + n.states.length, 0),
    arcs: networks.reduce((sum, n) => sum + n.arcs.length, 0),
    returns,
  };
}

const attrs = (page: Page, selector: string, name: string) =>
  page.$$eval(selector, (els, n) => els.map((e) => e.getAttribute(n) ?? '').sort(), name);

beforeAll(async () => {
  expect(
    existsSync(join(webRoot, 'index.html')),
    'build the web app first (pnpm --filter @fsm/inspector build; scripts/test.sh does)',
  ).toBe(true);
  expect(existsSync('/usr/bin/chromium'), "Debian's Chromium is needed: apt-get install -y chromium").toBe(
    true,
  );
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  mkdirSync(output, { recursive: true });

  const etlStore = await createStorage(etlUrl);
  const generated = etlHistories(COUNT, 'nightly', T0);
  expected = generated.expected;
  const newest = [...generated.histories]
    .sort((a, b) => b.startedAt - a.startedAt || (a.executionId < b.executionId ? 1 : -1))
    .slice(0, WINDOW);
  const total = (page: ExecutionSearchPage) =>
    page.counts.succeeded + page.counts.failed + page.counts.running;
  customerCounts = {
    all: total(await scanExecutions(generated.histories, { field: CUSTOMER })),
    newest: total(await scanExecutions(newest, { field: CUSTOMER })),
  };
  await saveAll(
    etlStore,
    generated.histories.map((h) => new ExecutionHistory(h)),
  );
  await etlStore.close();

  const nestedStore = await createStorage(nestedUrl);
  await nestedHistories(nestedStore, COUNT);
  await nestedStore.close();

  etl = await startInspector({ config: etlConfig, storage: etlUrl, webRoot });
  nested = await startInspector({ config: nestedConfig, storage: nestedUrl, webRoot });
  windowed = await startInspector({ config: etlConfig, storage: etlUrl, webRoot, fieldScanLimit: WINDOW });
  browser = await launch();
}, 120_000);

afterAll(async () => {
  const failures: unknown[] = [];
  for (const close of [
    () => browser?.close(),
    () => etl?.close(),
    () => nested?.close(),
    () => windowed?.close(),
  ]) {
    try {
      await close();
    } catch (error) {
      failures.push(error);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  if (failures.length > 0) throw new AggregateError(failures, 'closing the inspector test failed');
});

describe('inspector API', () => {
  it('aggregates the flow in the store: records per arc, failures per state, per batch', async () => {
    const flow = (await (await fetch(`${etl.url}/api/flow`)).json()) as {
      executions: number;
      arcs: { network: string; state: string; arc: string; count: number }[];
      states: { network: string; state: string; failures: number; meanMs: number }[];
    };
    expect(flow.executions).toBe(COUNT);
    const counts = new Map(flow.arcs.map((a) => [`${a.network}/${a.state}/${a.arc}`, a.count]));
    expect(counts).toEqual(expected.arcs);
    expect(flow.states.find((s) => s.state === 'extract')?.failures).toBe(expected.failedValidation);
    expect(flow.states.find((s) => s.state === 'load')).toMatchObject({ failures: expected.failedLoad });
    const none = (await (await fetch(`${etl.url}/api/flow?batch=other`)).json()) as { executions: number };
    expect(none.executions).toBe(0);
  });

  it('filters with counts and cursor paging, and rejects bad filters with 400', async () => {
    const page = (await (
      await fetch(`${etl.url}/api/executions?errorCode=RESOURCE_UNAVAILABLE&limit=150`)
    ).json()) as {
      items: { executionId: string; errorCode: string }[];
      counts: { failed: number };
      nextCursor?: string;
    };
    expect(page.counts.failed).toBe(expected.failedLoad);
    expect(page.items).toHaveLength(150);
    expect(new Set(page.items.map((i) => i.errorCode))).toEqual(new Set(['RESOURCE_UNAVAILABLE']));
    const rest = (await (
      await fetch(
        `${etl.url}/api/executions?errorCode=RESOURCE_UNAVAILABLE&limit=1000&cursor=${page.nextCursor}`,
      )
    ).json()) as { items: { executionId: string }[] };
    expect(page.items.length + rest.items.length).toBe(expected.failedLoad);
    const byField = (await (await fetch(`${etl.url}/api/executions?field=order_id&value=A-0042`)).json()) as {
      items: { executionId: string }[];
    };
    expect(byField.items.map((i) => i.executionId)).toEqual(['nightly:42']);
    expect((await fetch(`${etl.url}/api/executions?field=__proto__&value=1`)).status).toBe(400);
    expect((await fetch(`${etl.url}/api/executions?status=nope`)).status).toBe(400);
    expect((await fetch(`${etl.url}/api/executions/nope`)).status).toBe(404);
  });

  it('counts a data-field search over the newest histories, all of them on request, and pages past the window', async () => {
    expect(customerCounts.newest).toBeGreaterThan(0);
    expect(customerCounts.all).toBeGreaterThan(customerCounts.newest);
    const get = async (query: string) =>
      (await (await fetch(`${windowed.url}/api/executions?${query}`)).json()) as ExecutionSearchPage;
    const field = `field=${CUSTOMER.path}&value=${CUSTOMER.value}`;
    const first = await get(field);
    expect(first).toMatchObject({ countsExact: false, countedExecutions: WINDOW });
    expect(first.counts.succeeded + first.counts.failed).toBe(customerCounts.newest);
    const all = await get(`${field}&exactCounts=1`);
    expect(all.countsExact).toBe(true);
    expect(all.counts.succeeded + all.counts.failed).toBe(customerCounts.all);
    expect((await fetch(`${windowed.url}/api/executions?${field}&exactCounts=2`)).status).toBe(400);
    // The oldest record: empty pages of the newer windows lead to it, one window a request.
    const seen: string[] = [];
    let cursor = '';
    let requests = 0;
    for (; requests < COUNT / WINDOW + 2; requests++) {
      const page = await get(`field=order_id&value=A-0042${cursor}`);
      seen.push(...page.items.map((i) => i.executionId));
      if (!page.nextCursor) break;
      cursor = `&cursor=${page.nextCursor}`;
    }
    expect(seen).toEqual(['nightly:42']);
    expect(requests).toBeGreaterThan(1);
  });
});

describe('inspector in the browser', () => {
  for (const [name, config] of [
    ['etl-demo', etlConfig],
    ['nested sub-networks', nestedConfig],
  ] as const) {
    it(`draws the ${name} graph: every state and arc, no overlapping nodes, nested clusters`, async () => {
      const page = await open(name === 'etl-demo' ? etl : nested);
      const want = await configCounts(config);
      const boxes = await overlaps(page);
      expect(boxes.count).toBe(want.nodes);
      expect(boxes.pairs).toEqual([]);
      const arcEdges = await page.locator('.edge[data-kind="arc"], .edge[data-kind="enter"]').count();
      expect(arcEdges).toBe(want.arcs);
      expect(await page.locator('.edge[data-kind="return"]').count()).toBe(want.returns);
      expect(await page.locator('.node.start').count()).toBeGreaterThan(0);
      expect(await page.locator('.node.end').count()).toBeGreaterThan(0);
      // Every node lies inside its network's cluster box.
      const outside = await page.evaluate(
        () =>
          [...document.querySelectorAll('.node')].filter((g) => {
            const cluster = document.querySelector(
              `.cluster[data-network="${g.getAttribute('data-network')}"] rect`,
            );
            const a = (g.querySelector('rect') as SVGRectElement).getBoundingClientRect();
            const c = (cluster as SVGRectElement).getBoundingClientRect();
            return a.left < c.left || a.right > c.right || a.top < c.top || a.bottom > c.bottom;
          }).length,
      );
      expect(outside).toBe(0);
      await page.screenshot({ path: join(output, `graph-${name.replace(/\W+/g, '-')}.png`) });
      await page.close();
    });
  }

  it('shows the flow counts, a definition on click, finds failed records and lights one path with its diff', async () => {
    const page = await open(etl);
    await expect.poll(() => page.textContent('#count-total'), { timeout: 10_000 }).toBe(String(COUNT));
    expect(await page.textContent('#count-failed')).toBe(
      String(expected.failedLoad + expected.failedValidation),
    );
    const highValue = page.locator('.edge[data-edge="main/route/high_value"]');
    expect(await highValue.getAttribute('data-count')).toBe(
      String(expected.arcs.get('main/route/high_value')),
    );
    expect(Number(await highValue.locator('.line').getAttribute('stroke-width'))).toBeGreaterThan(1.5);

    // Pan and zoom change the viewport's transform.
    const before = await page.getAttribute('#viewport', 'transform');
    await page.click('#zoom-in');
    expect(await page.getAttribute('#viewport', 'transform')).not.toBe(before);
    await page.click('#zoom-fit');

    await page.click('.node[data-node="main/extract"]');
    expect(await page.textContent('#definition-title')).toContain('main.extract (start)');
    expect(await page.textContent('#definition-body')).toContain('"order_id"');
    expect(await page.textContent('#definition-stats')).toContain(`${expected.failedValidation} failed here`);
    await highValue.dispatchEvent('click');
    expect(await page.textContent('#definition-stats')).toContain('condition: total > 1000');
    await page.click('#definition-close');

    // Find the records that failed in load by their error code.
    await page.fill('#error-code-filter', 'RESOURCE_UNAVAILABLE');
    await page.click('#find');
    await expect
      .poll(() => page.getAttribute('#filter-counts', 'data-total'), { timeout: 10_000 })
      .toBe(String(expected.failedLoad));
    const codes = await page.locator('tr.execution .error-code').allTextContents();
    expect(codes).toHaveLength(50);
    expect(new Set(codes)).toEqual(new Set(['RESOURCE_UNAVAILABLE']));
    await page.click('#more');
    await expect.poll(() => page.locator('tr.execution').count(), { timeout: 10_000 }).toBe(100);

    // Its error and the cause chain.
    await page.locator('tr.execution').first().click();
    await page.waitForSelector('#timeline-panel:not([hidden])');
    expect(await page.textContent('#execution-error')).toContain(
      'caused by SqliteError [SQLITE_BUSY]: database is locked',
    );
    expect(await page.locator('.node.failed-here').getAttribute('data-node')).toBe('main/load');

    // One record by a data field: its path is lit, nothing else.
    await page.fill('#error-code-filter', '');
    await page.fill('input[name="field"]', 'order_id');
    await page.fill('input[name="value"]', 'A-0042');
    await page.click('#find');
    await expect.poll(() => page.getAttribute('#filter-counts', 'data-total'), { timeout: 10_000 }).toBe('1');
    await page.click('tr.execution[data-id="nightly:42"]');
    await page.waitForSelector('body[data-execution="nightly:42"]');
    const history = (await (await fetch(`${etl.url}/api/executions/nightly:42`)).json()) as {
      steps: { network: string; state: string; arc?: string; returnedFrom?: string }[];
    };
    const litNodes = [...new Set(history.steps.map((s) => `${s.network}/${s.state}`))].sort();
    const litEdges = history.steps
      .flatMap((s) => {
        if (!s.arc) return [];
        const id = `${s.network}/${s.state}/${s.arc}`;
        return s.returnedFrom ? [id, `${id}#return:${s.returnedFrom}`] : [id];
      })
      .sort();
    expect(await attrs(page, '.node.lit', 'data-node')).toEqual(litNodes);
    expect(await attrs(page, '.edge.lit', 'data-edge')).toEqual(litEdges);
    expect(litNodes).toContain('pricing/tax');
    expect(litEdges).toContain('main/normalize/price#return:priced');

    // The route step got tax and total back from the pricing sub-network: the diff shows them.
    const route = history.steps.findIndex((s) => s.state === 'route');
    await page.click(`#steps li[data-index="${route}"]`);
    expect(await page.textContent('#step-arc')).toMatch(/took (high_value|domestic|default)/);
    const changed = await attrs(page, '#step-diff .changed', 'data-field');
    expect(changed).toEqual(['tax', 'total']);
    // The normalize step rounded the amount.
    await page.click('#steps li[data-index="1"]');
    expect(await attrs(page, '#step-diff .changed', 'data-field')).toEqual(['amount']);
    expect(await page.locator('#steps li.depth-1').count()).toBe(3);
    await page.screenshot({ path: join(output, 'inspector-etl.png'), fullPage: true });
    expect(statSync(join(output, 'inspector-etl.png')).size).toBeGreaterThan(20_000);
    await page.close();
  });

  it('shows a data-field count over the newest histories as a lower bound, and counts all on a click', async () => {
    const page = await open(windowed);
    await page.fill('input[name="field"]', CUSTOMER.path);
    await page.fill('input[name="value"]', CUSTOMER.value);
    await page.click('#find');
    await expect
      .poll(() => page.getAttribute('#filter-counts', 'data-exact'), { timeout: 10_000 })
      .toBe('false');
    expect(await page.getAttribute('#filter-counts', 'data-total')).toBe(String(customerCounts.newest));
    expect(await page.textContent('#filter-counts')).toContain(
      `≥ ${customerCounts.newest} match — ${customerCounts.newest} in the newest ${await page.evaluate((n) => n.toLocaleString(), WINDOW)} executions`,
    );
    await page.click('#count-all');
    await expect
      .poll(() => page.getAttribute('#filter-counts', 'data-exact'), { timeout: 10_000 })
      .toBe('true');
    expect(await page.getAttribute('#filter-counts', 'data-total')).toBe(String(customerCounts.all));
    expect(await page.isHidden('#count-all')).toBe(true);
    // A record older than the window: none on the first page, and a way to search older ones.
    await page.fill('input[name="field"]', 'order_id');
    await page.fill('input[name="value"]', 'A-0042');
    await page.click('#find');
    await expect.poll(() => page.getAttribute('#filter-counts', 'data-total'), { timeout: 10_000 }).toBe('0');
    expect(await page.locator('tr.execution').count()).toBe(0);
    expect(await page.textContent('#more')).toBe('search older…');
    await page.screenshot({ path: join(output, 'inspector-field-window.png'), fullPage: true });
    await page.close();
  });

  it('lights a path through nested sub-networks, returns included', async () => {
    const page = await open(nested);
    // Each way back from a sub-network counts the records that ended in that end state.
    await expect.poll(() => page.textContent('#count-total'), { timeout: 10_000 }).toBe(String(COUNT));
    const flow = (await (await fetch(`${nested.url}/api/flow`)).json()) as {
      states: { network: string; state: string; visits: number }[];
    };
    for (const end of ['declined', 'captured']) {
      const visits = flow.states.find((s) => s.network === 'payment' && s.state === end)?.visits;
      expect(visits).toBeGreaterThan(0);
      expect(
        await page.getAttribute(`.edge[data-edge="checkout/pay/do_pay#return:${end}"]`, 'data-count'),
      ).toBe(String(visits));
    }
    await page.selectOption('select[name="finalState"]', 'done');
    await page.click('#find');
    await expect
      .poll(() => page.getAttribute('#filter-counts', 'data-total'), { timeout: 10_000 })
      .not.toBe(null);
    await page.locator('tr.execution').first().click();
    await page.waitForSelector('#timeline-panel:not([hidden])');
    const lit = await attrs(page, '.edge.lit', 'data-edge');
    expect(lit).toContain('main/checkout/do_checkout');
    expect(lit).toContain('main/checkout/do_checkout#return:confirm');
    expect(lit).toContain('checkout/pay/do_pay');
    expect(lit.some((id) => id.startsWith('checkout/pay/do_pay#return:'))).toBe(true);
    expect(await page.locator('#steps li.depth-2').count()).toBeGreaterThan(0);
    await page.close();
  });

  it('counts rise live while `fsm run --storage` writes to the store from another process', async () => {
    const bin = join(repo, 'packages', 'cli', 'dist', 'bin.js');
    expect(existsSync(bin), 'build the CLI first: pnpm exec turbo run build --filter=@fsm/cli').toBe(true);
    const page = await open(nested);
    await expect.poll(() => page.textContent('#count-total'), { timeout: 10_000 }).toBe(String(COUNT));
    const seen = new Set<string>();
    const watch = setInterval(() => {
      void page.textContent('#count-total').then(
        (t) => seen.add(t ?? ''),
        () => undefined,
      );
    }, 100);
    // Records arrive on stdin in five parts 1.5 s apart, so the store grows in steps a 1 s feed must show.
    const RECORDS = 1000;
    const run = spawn(
      process.execPath,
      [
        bin,
        'run',
        nestedConfig,
        '--storage',
        nestedUrl,
        '--input',
        '-',
        '--output',
        join(dir, 'live-out.jsonl'),
        '--batch-id',
        'live',
        '--concurrency',
        '2',
        '--no-progress',
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    const feed = (async () => {
      for (let part = 0; part < 5; part++) {
        const lines = Array.from({ length: RECORDS / 5 }, (_, i) =>
          JSON.stringify({ id: part * 1000 + i, qty: 1, card_ok: i % 2 === 0 }),
        );
        run.stdin.write(`${lines.join('\n')}\n`);
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
      run.stdin.end();
    })();
    let stderr = '';
    run.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      run.on('error', reject);
      run.on('close', resolve);
    });
    await feed;
    expect(code, stderr).toBe(0);
    await expect
      .poll(() => page.textContent('#count-total'), { timeout: 10_000 })
      .toBe(String(COUNT + RECORDS));
    clearInterval(watch);
    const between = [...seen].map(Number).filter((n) => n > COUNT && n < COUNT + RECORDS);
    expect(between.length, `counts seen: ${[...seen].join(', ')}`).toBeGreaterThan(0);
    await page.close();
  }, 60_000);
});
