// The inspector page: the machine as a diagram (laid out by the server with dagre), the flow over the
// stored executions, a search over them, one execution lit on the graph, and live counts over SSE.
// The server's graph and layout types: type-only imports, erased from the page bundle.
import type { GraphArc, GraphNetwork } from '../src/graph-model.js';
import type { GraphLayout as Layout, LayoutEdge, LayoutNode } from '../src/layout.js';

type Point = LayoutEdge['points'][number];
type Status = 'running' | 'succeeded' | 'failed';
interface FlowSummary {
  executions: number;
  statuses: Record<Status, number>;
  arcs: { network: string; state: string; arc: string; count: number }[];
  states: { network: string; state: string; visits: number; failures: number; meanMs: number | null }[];
  errors: { code: string; count: number }[];
}
interface Match {
  executionId: string;
  status: Status;
  startedAt: number;
  endedAt?: number;
  batchId?: string;
  finalState?: string;
  errorCode?: string;
}
interface ErrorInfo {
  code: string;
  message: string;
  state?: string;
  network?: string;
  cause?: { name: string; message: string; code?: string };
}
interface Step {
  network: string;
  state: string;
  arc?: string;
  depth: number;
  startedAt: number;
  endedAt?: number;
  data?: unknown;
  error?: ErrorInfo;
  resources?: string[];
  pushed?: number;
  returnedFrom?: string;
  /** The arc taken, without its definition (the server leaves that out). */
  arcDetail?: Omit<GraphArc, 'definition'>;
}
interface History {
  executionId: string;
  status: Status;
  input?: unknown;
  error?: ErrorInfo;
  steps: Step[];
}

const SVG = 'http://www.w3.org/2000/svg';
const $ = <T extends Element = HTMLElement>(selector: string) => document.querySelector(selector) as T;
const el = (tag: string, attrs: Record<string, string> = {}, text = '') => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.textContent = text;
  return node;
};
const svg = (tag: string, attrs: Record<string, string | number> = {}, text?: string) => {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
};
const getJson = async <T>(url: string): Promise<T> => {
  const res = await fetch(url);
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${url}`);
  return body;
};

let networks: GraphNetwork[] = [];
let layout: Layout;
let steps: Step[] = [];
let history: History | undefined;
let flow: FlowSummary | undefined;
let nextCursor: string | undefined;

// ---- the diagram ----------------------------------------------------------------------------------

function pathOf(points: Point[]): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}

function renderGraph(): void {
  const root = $<SVGGElement>('#viewport');
  root.replaceChildren();
  const clusters = svg('g', { class: 'clusters' });
  for (const c of layout.clusters) {
    const g = svg('g', { class: `cluster${c.parent ? ' sub' : ''}`, 'data-network': c.network });
    g.append(
      svg('rect', { x: c.x, y: c.y, width: c.width, height: c.height, rx: 10 }),
      svg(
        'text',
        { x: c.x + 10, y: c.y + 18, class: 'cluster-label' },
        c.parent ? `sub-network ${c.network}` : `network ${c.network}`,
      ),
    );
    clusters.append(g);
  }
  const edges = svg('g', { class: 'edges' });
  for (const e of layout.edges) {
    const g = svg('g', { class: `edge kind-${e.kind}`, 'data-edge': e.id, 'data-kind': e.kind });
    g.append(
      svg('path', { class: 'hit', d: pathOf(e.points) }),
      svg('path', { class: 'line', d: pathOf(e.points), 'marker-end': 'url(#arrow)' }),
      svg('text', { class: 'edge-label', x: e.labelX, y: e.labelY, 'text-anchor': 'middle' }, e.label),
      svg('text', { class: 'edge-count', x: e.labelX, y: e.labelY + 14, 'text-anchor': 'middle' }, ''),
    );
    g.addEventListener('click', (event) => {
      event.stopPropagation();
      showArcDefinition(e);
    });
    edges.append(g);
  }
  const nodes = svg('g', { class: 'nodes' });
  for (const n of layout.nodes) {
    const classes = ['node', n.start ? 'start' : '', n.end ? 'end' : ''].filter(Boolean).join(' ');
    const g = svg('g', {
      class: classes,
      'data-node': n.id,
      'data-state': n.state,
      'data-network': n.network,
    });
    g.append(svg('rect', { x: n.x, y: n.y, width: n.width, height: n.height, rx: 18 }));
    if (n.end)
      g.append(
        svg('rect', {
          class: 'inner',
          x: n.x + 3,
          y: n.y + 3,
          width: n.width - 6,
          height: n.height - 6,
          rx: 15,
        }),
      );
    if (n.start) g.append(svg('circle', { class: 'start-dot', cx: n.x - 10, cy: n.y + n.height / 2, r: 5 }));
    g.append(
      svg(
        'text',
        { class: 'node-label', x: n.x + n.width / 2, y: n.y + n.height / 2 + 4, 'text-anchor': 'middle' },
        n.state,
      ),
      svg(
        'text',
        { class: 'node-stats', x: n.x + n.width / 2, y: n.y + n.height + 12, 'text-anchor': 'middle' },
        '',
      ),
    );
    g.addEventListener('click', (event) => {
      event.stopPropagation();
      showStateDefinition(n);
    });
    nodes.append(g);
  }
  root.append(clusters, edges, nodes);
  renderFlow();
}

function showDefinition(title: string, stats: string, body: unknown): void {
  $('#definition').hidden = false;
  $('#definition-title').textContent = title;
  $('#definition-stats').textContent = stats;
  $('#definition-body').textContent = JSON.stringify(body, null, 2);
}

function showStateDefinition(n: LayoutNode): void {
  const state = networks.find((x) => x.name === n.network)?.states.find((s) => s.name === n.state);
  const stats = flow?.states.find((s) => s.network === n.network && s.state === n.state);
  const kind = [n.start ? 'start' : '', n.end ? 'end' : ''].filter(Boolean).join(', ');
  showDefinition(
    `state ${n.network}.${n.state}${kind ? ` (${kind})` : ''}`,
    stats ? `${stats.visits} visits, ${stats.failures} failed here, mean ${formatMs(stats.meanMs)}` : '',
    state?.definition ?? {},
  );
}

function showArcDefinition(e: LayoutEdge): void {
  const arc = networks
    .find((x) => x.name === e.network)
    ?.arcs.find((a) => a.from === e.from && a.name === e.arc);
  const count = flowArcCount(e);
  showDefinition(
    `${e.kind === 'return' ? 'return of push arc' : 'arc'} ${e.arc}: ${e.network}.${e.from} → ${arc?.push ? `[${arc.push}] → ` : ''}${arc?.to ?? '?'}`,
    `${count} records took it${arc?.condition ? ` · condition: ${arc.condition}` : ''} · priority ${arc?.priority ?? 0}`,
    arc?.definition ?? {},
  );
}

const formatMs = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? '–' : `${ms < 10 ? ms.toFixed(2) : Math.round(ms)} ms`;

// ---- flow over many executions -------------------------------------------------------------------

function flowArcCount(e: LayoutEdge): number {
  if (e.kind === 'return') {
    // Records that came back this way: the visits of the sub-network's end state it leaves from.
    const [network, state] = e.source.split('/');
    return flow?.states.find((s) => s.network === network && s.state === state)?.visits ?? 0;
  }
  return flow?.arcs.find((a) => a.network === e.network && a.state === e.from && a.arc === e.arc)?.count ?? 0;
}

function renderFlow(): void {
  const show = $<HTMLInputElement>('#show-flow').checked && flow !== undefined;
  const max = Math.max(1, ...(flow?.arcs.map((a) => a.count) ?? [1]));
  for (const e of layout.edges) {
    const g = document.querySelector(`[data-edge="${CSS.escape(e.id)}"]`);
    if (!g) continue;
    const count = show ? flowArcCount(e) : 0;
    const width = show && count > 0 ? 1.5 + 9 * Math.sqrt(count / max) : 1.5;
    g.querySelector('.line')?.setAttribute('stroke-width', width.toFixed(2));
    const label = g.querySelector('.edge-count');
    if (label) label.textContent = show ? String(count) : '';
    g.setAttribute('data-count', String(count));
  }
  for (const n of layout.nodes) {
    const g = document.querySelector(`[data-node="${CSS.escape(n.id)}"]`);
    if (!g) continue;
    const stats = show ? flow?.states.find((s) => s.network === n.network && s.state === n.state) : undefined;
    const label = g.querySelector('.node-stats');
    if (label) {
      label.textContent = stats
        ? `${stats.visits}×${stats.failures ? ` · ${stats.failures} failed` : ''} · ${formatMs(stats.meanMs)}`
        : '';
    }
    g.classList.toggle('failures', (stats?.failures ?? 0) > 0);
  }
}

function renderCounts(summary: FlowSummary): void {
  $('#count-total').textContent = String(summary.executions);
  for (const status of ['succeeded', 'failed', 'running'] as const) {
    $(`#count-${status}`).textContent = String(summary.statuses[status]);
  }
  const list = $('#error-codes');
  list.replaceChildren(...summary.errors.map((e) => el('option', { value: e.code }, `${e.count}`)));
}

let live: EventSource | undefined;
function connectLive(): void {
  live?.close();
  const batch = $<HTMLInputElement>('#flow-batch').value.trim();
  live = new EventSource(`/api/live${batch ? `?batch=${encodeURIComponent(batch)}` : ''}`);
  live.onmessage = (event) => {
    const message = JSON.parse(event.data as string) as { at: number; flow: FlowSummary };
    flow = message.flow;
    renderCounts(flow);
    renderFlow();
    document.body.dataset.liveAt = String(message.at);
    $('#live-dot').classList.add('on');
  };
  live.onerror = () => $('#live-dot').classList.remove('on');
}

// ---- pan and zoom --------------------------------------------------------------------------------

const view = { x: 0, y: 0, scale: 1 };
function applyView(): void {
  $<SVGGElement>('#viewport').setAttribute(
    'transform',
    `translate(${view.x},${view.y}) scale(${view.scale})`,
  );
}
function fit(): void {
  const box = $<SVGSVGElement>('#graph').getBoundingClientRect();
  view.scale = Math.min(box.width / layout.width, box.height / layout.height, 1.5);
  view.x = (box.width - layout.width * view.scale) / 2;
  view.y = Math.max(0, (box.height - layout.height * view.scale) / 2);
  applyView();
}
function zoom(factor: number, cx: number, cy: number): void {
  const scale = Math.min(6, Math.max(0.1, view.scale * factor));
  view.x = cx - ((cx - view.x) * scale) / view.scale;
  view.y = cy - ((cy - view.y) * scale) / view.scale;
  view.scale = scale;
  applyView();
}
function setupPanZoom(): void {
  const area = $<SVGSVGElement>('#graph');
  area.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      const box = area.getBoundingClientRect();
      zoom(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX - box.left, event.clientY - box.top);
    },
    { passive: false },
  );
  let drag: { x: number; y: number } | undefined;
  area.addEventListener('pointerdown', (event) => {
    drag = { x: event.clientX - view.x, y: event.clientY - view.y };
    area.classList.add('dragging');
  });
  window.addEventListener('pointermove', (event) => {
    if (!drag) return;
    view.x = event.clientX - drag.x;
    view.y = event.clientY - drag.y;
    applyView();
  });
  window.addEventListener('pointerup', () => {
    drag = undefined;
    area.classList.remove('dragging');
  });
  const centre = () => {
    const box = area.getBoundingClientRect();
    return [box.width / 2, box.height / 2] as const;
  };
  $('#zoom-in').addEventListener('click', () => zoom(1.25, ...centre()));
  $('#zoom-out').addEventListener('click', () => zoom(1 / 1.25, ...centre()));
  $('#zoom-fit').addEventListener('click', fit);
}

// ---- find a record -------------------------------------------------------------------------------

function filterParams(): URLSearchParams {
  const params = new URLSearchParams();
  const form = new FormData($<HTMLFormElement>('#filters'));
  for (const [key, raw] of form) {
    const value = String(raw).trim();
    if (value === '') continue;
    if (key === 'since' || key === 'until') params.set(key, String(new Date(value).getTime()));
    else params.set(key, value);
  }
  return params;
}

interface SearchPage {
  items: Match[];
  counts: Record<Status, number>;
  countsExact: boolean;
  countedSince?: number;
  countedExecutions?: number;
  nextCursor?: string;
}

/** Whether the counts shown are a "count all" of this search (kept while paging on). */
let countedAll = false;

function showCounts(page: SearchPage): void {
  const total = page.counts.succeeded + page.counts.failed + page.counts.running;
  const counts = $('#filter-counts');
  counts.className = '';
  const split = `${page.counts.succeeded} succeeded, ${page.counts.failed} failed, ${page.counts.running} running`;
  if (page.countsExact) {
    counts.textContent = `${total} match: ${split}`;
  } else {
    // A data-field search on a big store counts the newest histories only: a lower bound, and how far it read.
    const since =
      page.countedSince === undefined ? '' : `, since ${new Date(page.countedSince).toLocaleString()}`;
    counts.textContent = `≥ ${total} match — ${total} in the newest ${(page.countedExecutions ?? 0).toLocaleString()} executions${since}: ${split}`;
  }
  counts.dataset.total = String(total);
  counts.dataset.exact = String(page.countsExact);
  $('#count-all').hidden = page.countsExact;
}

/** A new search (`new`), its next page (`more`), or the same search with every match counted (`count-all`). */
async function loadExecutions(mode: 'new' | 'more' | 'count-all' = 'new'): Promise<void> {
  const params = filterParams();
  params.set('limit', '50');
  if (mode === 'more' && nextCursor) params.set('cursor', nextCursor);
  if (mode === 'count-all') params.set('exactCounts', '1');
  const body = $('#executions tbody');
  let page: SearchPage;
  try {
    if (mode === 'count-all') $('#filter-counts').textContent = 'counting every match…';
    page = await getJson(`/api/executions?${params}`);
  } catch (error) {
    $('#filter-counts').textContent = (error as Error).message;
    $('#filter-counts').className = 'failed';
    return;
  }
  // Later pages count the same way as the first: a "count all" stays on the screen.
  if (mode !== 'more' || !countedAll) showCounts(page);
  if (mode !== 'more') countedAll = mode === 'count-all';
  if (mode !== 'more') body.replaceChildren();
  for (const s of page.items) {
    const row = el('tr', { class: 'execution', 'data-id': s.executionId });
    row.append(
      el('td', {}, s.executionId),
      el('td', { class: s.status }, s.status),
      el('td', {}, s.finalState ?? ''),
      el('td', { class: 'error-code' }, s.errorCode ?? ''),
      el('td', {}, s.batchId ?? ''),
      el('td', {}, new Date(s.startedAt).toLocaleString()),
      el('td', {}, s.endedAt !== undefined ? String(s.endedAt - s.startedAt) : ''),
    );
    row.addEventListener('click', () => void openExecution(s.executionId));
    body.append(row);
  }
  nextCursor = page.nextCursor;
  const more = $('#more');
  more.hidden = nextCursor === undefined;
  // A short page with a cursor: the search stopped at its window of histories, older ones are not read yet.
  more.textContent = page.items.length < 50 ? 'search older…' : 'more…';
}

// ---- one execution -------------------------------------------------------------------------------

/** Leaf paths of a JSON value: `a.b`, `list[2]`. Prototype keys are plain data here, never walked into objects. */
function flatten(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [`[${i}]`, v] as const)
      : Object.entries(value);
    if (entries.length === 0) out.set(prefix || '(root)', JSON.stringify(value));
    for (const [key, v] of entries) {
      const path = key.startsWith('[') ? `${prefix}${key}` : prefix ? `${prefix}.${key}` : key;
      flatten(v, path, out);
    }
  } else if (value !== undefined) {
    out.set(prefix || '(root)', JSON.stringify(value));
  }
  return out;
}

function renderDiff(previous: unknown, current: unknown): HTMLElement {
  const before = flatten(previous);
  const after = flatten(current);
  const list = el('ul', { class: 'diff', id: 'step-diff' });
  const keys = [...new Set([...after.keys(), ...before.keys()])];
  for (const key of keys) {
    const a = before.get(key);
    const b = after.get(key);
    const kind = a === undefined ? 'added' : b === undefined ? 'removed' : a === b ? 'same' : 'changed';
    const line = el('li', { class: `field ${kind}${kind === 'same' ? '' : ' changed'}`, 'data-field': key });
    line.append(el('span', { class: 'key' }, key), el('span', {}, ': '));
    if (kind === 'changed') line.append(el('del', {}, a ?? ''), el('span', {}, ' → '));
    line.append(
      el(kind === 'removed' ? 'del' : 'span', { class: 'value' }, (kind === 'removed' ? a : b) ?? ''),
    );
    list.append(line);
  }
  return list;
}

function litEdgeIds(upTo: number): Set<string> {
  const ids = new Set<string>();
  for (const step of steps.slice(0, upTo + 1)) {
    if (!step.arc) continue;
    const id = `${step.network}/${step.state}/${step.arc}`;
    ids.add(id);
    if (step.returnedFrom) ids.add(`${id}#return:${step.returnedFrom}`);
  }
  return ids;
}

function lightPath(index: number): void {
  const visited = new Set(steps.slice(0, index + 1).map((s) => `${s.network}/${s.state}`));
  const current = steps[index] ? `${steps[index].network}/${steps[index].state}` : '';
  const edges = litEdgeIds(index);
  for (const g of document.querySelectorAll<SVGGElement>('.node')) {
    const id = g.dataset.node ?? '';
    g.classList.toggle('lit', visited.has(id));
    g.classList.toggle('current', id === current);
    g.classList.toggle('failed-here', steps[index]?.error !== undefined && id === current);
  }
  for (const g of document.querySelectorAll<SVGGElement>('.edge')) {
    g.classList.toggle('lit', edges.has(g.dataset.edge ?? ''));
  }
}

function describeError(error: ErrorInfo): HTMLElement {
  const box = el('div', { class: 'error-chain' });
  box.append(
    el(
      'p',
      { class: 'failed' },
      `${error.code}: ${error.message}${error.state ? ` (in ${error.network ? `${error.network}.` : ''}${error.state})` : ''}`,
    ),
  );
  if (error.cause) {
    box.append(
      el(
        'p',
        { class: 'cause' },
        `caused by ${error.cause.name}${error.cause.code ? ` [${error.cause.code}]` : ''}: ${error.cause.message}`,
      ),
    );
  }
  return box;
}

function showStep(index: number): void {
  const step = steps[index];
  if (!step) return;
  $<HTMLInputElement>('#step-slider').value = String(index);
  $('#step-label').textContent = `step ${index + 1} of ${steps.length}`;
  for (const li of document.querySelectorAll('#steps li'))
    li.classList.toggle('selected', li.getAttribute('data-index') === String(index));
  lightPath(index);
  const detail = $('#step-detail');
  detail.replaceChildren();
  detail.append(
    el(
      'p',
      { id: 'step-state' },
      `${'  '.repeat(step.depth)}${step.network}.${step.state}${step.endedAt !== undefined ? ` (${step.endedAt - step.startedAt} ms)` : ''}`,
    ),
  );
  if (step.arc) {
    const why = step.arcDetail?.condition
      ? `because ${step.arcDetail.condition} held`
      : 'the arc without a condition';
    const into = step.arcDetail?.push ? `[${step.arcDetail.push}] → ` : '';
    detail.append(
      el(
        'p',
        { id: 'step-arc' },
        `took ${step.arc} → ${into}${step.arcDetail?.to ?? '?'} (${why}${step.arcDetail?.priority ? `, priority ${step.arcDetail.priority}` : ''})`,
      ),
    );
  } else {
    detail.append(
      el('p', { id: 'step-arc' }, step.error ? 'no arc taken: the state failed' : 'no arc taken (end state)'),
    );
  }
  if (step.resources?.length) detail.append(el('p', {}, `resources: ${step.resources.join(', ')}`));
  if (step.error) detail.append(Object.assign(describeError(step.error), { id: 'step-error' }));
  // The previous step of the same network level: a sub-network's steps do not stand between a push
  // and the state it returns to (their data is the sub-network's own).
  let before = index - 1;
  while (before >= 0 && (steps[before]?.depth ?? 0) > step.depth) before--;
  const previous = before < 0 ? history?.input : steps[before]?.data;
  detail.append(el('h4', {}, before < 0 ? 'data (against the input)' : `data (against step ${before + 1})`));
  detail.append(
    step.data === undefined ? el('p', {}, '(no data recorded)') : renderDiff(previous, step.data),
  );
  detail.append(el('pre', { id: 'step-data', hidden: '' }, JSON.stringify(step.data ?? null)));
}

async function openExecution(id: string): Promise<void> {
  history = await getJson<History>(`/api/executions/${encodeURIComponent(id)}`);
  steps = history.steps;
  $('#timeline-panel').hidden = false;
  $('#execution-id').textContent = history.executionId;
  const status = $('#execution-status');
  status.textContent = history.status;
  status.className = history.status;
  const errorBox = $('#execution-error');
  errorBox.replaceChildren(...(history.error ? [describeError(history.error)] : []));
  for (const row of document.querySelectorAll('tr.execution'))
    row.classList.toggle('selected', row.getAttribute('data-id') === id);
  const list = $('#steps');
  list.replaceChildren();
  steps.forEach((step, i) => {
    const ms = step.endedAt !== undefined ? `${step.endedAt - step.startedAt} ms` : '…';
    const li = el('li', {
      'data-index': String(i),
      class: `depth-${step.depth}${step.error ? ' failed' : ''}`,
    });
    li.style.paddingLeft = `${step.depth * 18 + 4}px`;
    li.append(
      el('span', { class: 'step-name' }, `${step.depth > 0 ? '↳ ' : ''}${step.network}.${step.state}`),
      el('span', { class: 'ms' }, ms),
      el(
        'span',
        { class: 'step-arc' },
        step.arc ? `→ ${step.arc}` : step.error ? `✗ ${step.error.code}` : '',
      ),
    );
    li.addEventListener('click', () => showStep(i));
    list.append(li);
  });
  const slider = $<HTMLInputElement>('#step-slider');
  slider.max = String(Math.max(0, steps.length - 1));
  showStep(steps.length - 1);
  document.body.dataset.execution = id;
}

// ---- start ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const graph = await getJson<{ name: string; networks: GraphNetwork[]; layout: Layout }>('/api/graph');
  networks = graph.networks;
  layout = graph.layout;
  $('#fsm-name').textContent = graph.name;
  const finals = $('#final-state-filter');
  for (const network of networks)
    for (const s of network.states)
      finals.append(el('option', { value: s.name }, `${network.name}.${s.name}`));
  renderGraph();
  setupPanZoom();
  fit();
  $('#graph').addEventListener('click', () => ($('#definition').hidden = true));
  $('#definition-close').addEventListener('click', () => ($('#definition').hidden = true));
  $('#show-flow').addEventListener('change', renderFlow);
  $('#flow-batch').addEventListener('change', connectLive);
  $('#filters').addEventListener('submit', (event) => {
    event.preventDefault();
    void loadExecutions();
  });
  $('#more').addEventListener('click', () => void loadExecutions('more'));
  $('#count-all').addEventListener('click', () => void loadExecutions('count-all'));
  $('#prev').addEventListener('click', () =>
    showStep(Math.max(0, Number($<HTMLInputElement>('#step-slider').value) - 1)),
  );
  $('#next').addEventListener('click', () =>
    showStep(Math.min(steps.length - 1, Number($<HTMLInputElement>('#step-slider').value) + 1)),
  );
  $('#step-slider').addEventListener('input', (e) => showStep(Number((e.target as HTMLInputElement).value)));
  await loadExecutions();
  connectLive();
  document.body.dataset.ready = 'true';
}

void main();
