// The inspector page: the state graph, the executions, and a time-travel view of one execution.
interface GraphArc {
  from: string;
  to: string;
  name: string;
  priority: number;
  condition?: string;
  push?: string;
}
interface GraphNetwork {
  name: string;
  states: { name: string; start: boolean; end: boolean }[];
  arcs: GraphArc[];
}
interface Summary {
  executionId: string;
  status: string;
  startedAt: number;
}
interface Step {
  network: string;
  state: string;
  arc?: string;
  depth: number;
  startedAt: number;
  endedAt?: number;
  data?: unknown;
  error?: { code: string; message: string };
  arcDetail?: GraphArc;
}

const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;
const el = (tag: string, attrs: Record<string, string> = {}, text = '') => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.textContent = text;
  return node;
};

let networks: GraphNetwork[] = [];
let steps: Step[] = [];

function renderGraph(highlight?: { visited: Set<string>; current?: string; takenArcs: Set<string> }): void {
  const root = $('#graph');
  root.replaceChildren();
  for (const network of networks) {
    const box = el('div', { class: 'network', 'data-network': network.name });
    box.append(el('h3', {}, `network ${network.name}`));
    const states = el('div', { class: 'states' });
    for (const state of network.states) {
      const key = `${network.name}/${state.name}`;
      const classes = [
        'state',
        state.start ? 'start' : '',
        state.end ? 'end' : '',
        highlight?.visited.has(key) ? 'visited' : '',
        highlight?.current === key ? 'current' : '',
      ];
      states.append(
        el('span', { class: classes.filter(Boolean).join(' '), 'data-state': state.name }, state.name),
      );
    }
    box.append(states);
    const arcs = el('ul', { class: 'arcs' });
    for (const arc of network.arcs) {
      const taken = highlight?.takenArcs.has(`${network.name}/${arc.from}/${arc.name}`);
      const label = `${arc.from} → ${arc.push ? `[${arc.push}] → ` : ''}${arc.to}${arc.condition ? ` when ${arc.condition}` : ''}${arc.priority ? ` (priority ${arc.priority})` : ''}`;
      arcs.append(el('li', { class: `arc${taken ? ' taken' : ''}` }, label));
    }
    box.append(arcs);
    root.append(box);
  }
}

function showStep(index: number): void {
  const step = steps[index];
  if (!step) return;
  $<HTMLInputElement>('#step-slider').value = String(index);
  $('#step-label').textContent = `step ${index + 1} of ${steps.length}`;
  const visited = new Set(steps.slice(0, index + 1).map((s) => `${s.network}/${s.state}`));
  const takenArcs = new Set(
    steps.slice(0, index + 1).flatMap((s) => (s.arc ? [`${s.network}/${s.state}/${s.arc}`] : [])),
  );
  renderGraph({ visited, current: `${step.network}/${step.state}`, takenArcs });
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
    detail.append(
      el(
        'p',
        { id: 'step-arc' },
        `took ${step.arc} → ${step.arcDetail?.to ?? '?'} (${why}${step.arcDetail?.priority ? `, priority ${step.arcDetail.priority}` : ''})`,
      ),
    );
  } else {
    detail.append(el('p', { id: 'step-arc' }, 'no arc taken (end state or failure)'));
  }
  if (step.error)
    detail.append(
      el('p', { class: 'failed', id: 'step-error' }, `${step.error.code}: ${step.error.message}`),
    );
  detail.append(el('pre', { id: 'step-data' }, JSON.stringify(step.data, null, 2) ?? '(no data recorded)'));
}

async function openExecution(id: string): Promise<void> {
  const history = (await (await fetch(`/api/executions/${encodeURIComponent(id)}`)).json()) as {
    executionId: string;
    steps: Step[];
  };
  steps = history.steps;
  $('#timeline-panel').hidden = false;
  $('#execution-id').textContent = history.executionId;
  const slider = $<HTMLInputElement>('#step-slider');
  slider.max = String(Math.max(0, steps.length - 1));
  showStep(0);
}

async function loadExecutions(): Promise<void> {
  const status = $<HTMLSelectElement>('#status-filter').value;
  const list = (await (
    await fetch(`/api/executions${status ? `?status=${status}` : ''}`)
  ).json()) as Summary[];
  const body = $('#executions tbody');
  body.replaceChildren();
  for (const s of list) {
    const row = el('tr', { class: 'execution', 'data-id': s.executionId });
    row.append(
      el('td', {}, s.executionId),
      el('td', { class: s.status }, s.status),
      el('td', {}, new Date(s.startedAt).toLocaleTimeString()),
    );
    row.addEventListener('click', () => void openExecution(s.executionId));
    body.append(row);
  }
}

async function main(): Promise<void> {
  const graph = (await (await fetch('/api/graph')).json()) as { name: string; networks: GraphNetwork[] };
  networks = graph.networks;
  $('#fsm-name').textContent = graph.name;
  renderGraph();
  await loadExecutions();
  $('#status-filter').addEventListener('change', () => void loadExecutions());
  $('#prev').addEventListener('click', () =>
    showStep(Math.max(0, Number($<HTMLInputElement>('#step-slider').value) - 1)),
  );
  $('#next').addEventListener('click', () =>
    showStep(Math.min(steps.length - 1, Number($<HTMLInputElement>('#step-slider').value) + 1)),
  );
  $('#step-slider').addEventListener('input', (e) => showStep(Number((e.target as HTMLInputElement).value)));
  document.body.dataset.ready = 'true';
}

void main();
