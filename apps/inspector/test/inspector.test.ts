import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimpleFSM } from '@fsm/core';
import { createStorage } from '@fsm/storage';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Inspector, startInspector } from '../src/server.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const config = join(repo, 'examples', 'dataknobs', 'order-routing.yaml');
const dir = mkdtempSync(join(tmpdir(), 'fsm-inspector-'));
const storageUrl = `sqlite:${join(dir, 'history.db')}`;
const webRoot = fileURLToPath(new URL('../dist/web', import.meta.url));
const screenshot = join(dir, 'inspector.png');
let inspector: Inspector;
let browser: Browser;

beforeAll(async () => {
  expect(
    existsSync(join(webRoot, 'index.html')),
    'build the web app first (pnpm --filter @fsm/inspector build; scripts/test.sh does)',
  ).toBe(true);
  expect(existsSync('/usr/bin/chromium'), "Debian's Chromium is needed: apt-get install -y chromium").toBe(
    true,
  );
  const storage = await createStorage(storageUrl);
  const fsm = await SimpleFSM.create(config, { storage, history: true });
  const orders = readFileSync(join(repo, 'examples', 'data', 'orders.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
  await fsm.processDurableBatch(orders, { concurrency: 1, batchId: 'inspect' });
  await fsm.close();
  await storage.close();
  inspector = await startInspector({ config, storage: storageUrl, webRoot });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await inspector?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('inspector', () => {
  it('the API serves the graph and the executions', async () => {
    const graph = (await (await fetch(`${inspector.url}/api/graph`)).json()) as {
      name: string;
      networks: { arcs: { condition?: string }[] }[];
    };
    expect(graph.name).toBe('order_routing');
    expect(graph.networks[0]?.arcs.map((a) => a.condition)).toContain('total > 1000');
    const list = (await (await fetch(`${inspector.url}/api/executions?status=failed`)).json()) as unknown[];
    expect(list).toHaveLength(2);
    expect((await fetch(`${inspector.url}/api/executions/nope`)).status).toBe(404);
  });

  it('shows the graph, lists executions, and steps through one execution in the browser', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.setDefaultTimeout(10_000);
    await page.goto(inspector.url);
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.textContent('#fsm-name')).toBe('order_routing');
    expect(await page.locator('#graph .state').allTextContents()).toEqual([
      'receive',
      'price',
      'manual_review',
      'express',
      'standard',
    ]);
    expect(await page.locator('tr.execution').count()).toBe(40);

    await page.selectOption('#status-filter', 'failed');
    await expect.poll(() => page.locator('tr.execution').count()).toBe(2);

    await page.selectOption('#status-filter', '');
    await expect.poll(() => page.locator('tr.execution').count()).toBe(40);
    await page.click('tr.execution[data-id="inspect:0"]');
    await page.waitForSelector('#timeline-panel:not([hidden])');
    expect(await page.textContent('#step-label')).toBe('step 1 of 3');
    expect(await page.textContent('#step-state')).toContain('main.receive');
    expect(await page.textContent('#step-arc')).toContain('receive->price');

    await page.click('#next');
    expect(await page.textContent('#step-state')).toContain('main.price');
    // A-0001 is a US order under 1000: the express arc, because its condition held.
    expect(await page.textContent('#step-arc')).toContain('because region = "US" held');
    expect(JSON.parse((await page.textContent('#step-data')) ?? '{}')).toMatchObject({
      order_id: 'A-0001',
      region: 'US',
    });
    expect(await page.locator('.state.current').textContent()).toBe('price');
    expect(await page.locator('.arc.taken').count()).toBe(2);

    await page.click('#next');
    expect(await page.textContent('#step-state')).toContain('main.express');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);
    await page.close();
  });
});
