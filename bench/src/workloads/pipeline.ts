import { SimpleFSM } from '@fsm/core';
import { assign, createActor, createMachine, initialTransition } from 'xstate';

/** W1: a record goes through 10 states in a line; each adds to `v` and the arc checks `v >= 0`. */
export const STATES = 10;

export interface Rec {
  id: number;
  v: number;
}

export const step = (r: Rec): Rec => {
  r.v += 1;
  return r;
};
export const ok = (r: Rec): boolean => r.v >= 0;

/** The floor: the same functions in a hand-written loop. */
export function floor(record: Rec): Rec {
  let r = record;
  for (let i = 0; i < STATES; i++) {
    r = step(r);
    if (!ok(r)) throw new Error('stuck');
  }
  return r;
}

export function pipelineConfig(conditions: 'functions' | 'expressions'): Record<string, unknown> {
  const states = Array.from({ length: STATES }, (_, i) => ({
    name: `s${i}`,
    ...(i === 0 ? { is_start: true } : {}),
    transforms: ['step'],
    arcs: [
      {
        target: i === STATES - 1 ? 'done' : `s${i + 1}`,
        condition:
          conditions === 'functions' ? 'ok' : { type: 'expression', language: 'cel', code: 'v >= 0' },
      },
    ],
  }));
  return {
    name: 'w1',
    data_mode: { default: 'reference' },
    states: [...states, { name: 'done', is_end: true }],
  };
}

export function pipelineFsm(conditions: 'functions' | 'expressions'): Promise<SimpleFSM> {
  return SimpleFSM.create(pipelineConfig(conditions), { functions: { step, ok } });
}

/** XState v5, written the fast way: eventless `always` transitions with guards; one actor per record. */
export const pipelineMachine = createMachine({
  types: {} as { context: Rec; input: Rec },
  context: ({ input }) => input,
  initial: 's0',
  states: Object.fromEntries([
    ...Array.from({ length: STATES }, (_, i) => [
      `s${i}`,
      {
        entry: assign(({ context }: { context: Rec }) => step({ ...context })),
        always: {
          target: i === STATES - 1 ? 'done' : `s${i + 1}`,
          guard: ({ context }: { context: Rec }) => ok(context),
        },
      },
    ]),
    ['done', { type: 'final' as const }],
  ]),
});

/** The usual way: an actor per record; eventless transitions run to `done` inside `start()`. */
export function xstatePipeline(record: Rec): Rec {
  const actor = createActor(pipelineMachine, { input: record }).start();
  const { context } = actor.getSnapshot();
  actor.stop();
  return context;
}

/** No actor at all: XState's pure `initialTransition` resolves the same eventless chain to a snapshot. */
export function xstatePipelinePure(record: Rec): Rec {
  return initialTransition(pipelineMachine, record)[0].context;
}

/** LangGraph.js: a StateGraph of 10 nodes with conditional edges (async, so measured on fewer records). */
export async function langgraphPipeline(): Promise<(record: Rec) => Promise<Rec>> {
  const { Annotation, StateGraph, START, END } = await import('@langchain/langgraph');
  const State = Annotation.Root({ id: Annotation<number>(), v: Annotation<number>() });
  // The graph builder's node-name types grow with each call; a loose handle keeps this generic.
  type Loose = {
    addNode(name: string, fn: (s: Rec) => Partial<Rec>): Loose;
    addEdge(from: string, to: string): Loose;
    addConditionalEdges(from: string, fn: (s: Rec) => string): Loose;
    compile(): { invoke(input: Rec): Promise<Rec> };
  };
  let graph = new StateGraph(State) as unknown as Loose;
  for (let i = 0; i < STATES; i++) graph = graph.addNode(`s${i}`, (s) => ({ v: s.v + 1 }));
  graph = graph.addEdge(START, 's0');
  for (let i = 0; i < STATES; i++) {
    const next = i === STATES - 1 ? END : `s${i + 1}`;
    graph = graph.addConditionalEdges(`s${i}`, (s) => (ok(s) ? next : END));
  }
  const app = graph.compile();
  return (record) => app.invoke(record);
}
