/**
 * Expressions: the cost of one evaluation of each JSONata expression in apps/etl-demo/etl.yaml, compiled
 * to a synchronous closure (what the engine runs) against jsonata's interpreter, on the same records.
 * Both must give the same results (checked before timing).
 */
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { compileExpression, FsmError, type FunctionContext, loadConfig } from '@fsm/core';

const etlConfig = fileURLToPath(new URL('../../../apps/etl-demo/etl.yaml', import.meta.url));

export interface ExpressionCost {
  code: string;
  compiledNs: number;
  interpretedNs: number;
}

/** Every `type: expression` code string of the config, in order, without repeats. */
function expressionsOf(value: unknown, out: Set<string>, depth = 0): Set<string> {
  if (depth > 64 || value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    for (const item of value) expressionsOf(item, out, depth + 1);
    return out;
  }
  const ref = value as Record<string, unknown>;
  if (
    ref.type === 'expression' &&
    typeof ref.code === 'string' &&
    (ref.language ?? 'jsonata') === 'jsonata'
  ) {
    out.add(ref.code);
  }
  for (const key of Object.keys(ref)) expressionsOf(ref[key], out, depth + 1);
  return out;
}

/**
 * Orders as W9 generates them (two-decimal amounts), priced as the config prices them, so every
 * expression sees every field it reads.
 */
function orders(n: number): Array<Record<string, unknown>> {
  const regions = ['EU', 'US', 'APAC'];
  const rates: Record<string, number> = { EU: 0.2, US: 0.07, APAC: 0.1 };
  return Array.from({ length: n }, (_, k) => {
    const region = regions[k % 3] as string;
    const amount = Number((((k * 7919) % 250_000) / 100).toFixed(2));
    const tax = Math.round(amount * (rates[region] as number) * 100) / 100;
    return {
      order_id: `A-${String(k % 10_000).padStart(4, '0')}`,
      customer: `c${k % 997}`,
      amount,
      region,
      tax,
      total: Math.round((amount + tax) * 100) / 100,
    };
  });
}

const context = {
  state: 'bench',
  network: 'main',
  executionId: 'bench',
  params: {},
  variables: {},
} as unknown as FunctionContext;

const timeSync = (fn: () => void, evaluations: number) => {
  const started = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - started) / evaluations;
};

export async function expressionCosts(quick: boolean): Promise<ExpressionCost[]> {
  const config = await loadConfig(etlConfig);
  const codes = [...expressionsOf(config, new Set())];
  const records = orders(1_000);
  const compiledRounds = quick ? 5 : 20;
  const interpretedRounds = quick ? 1 : 2;
  const costs: ExpressionCost[] = [];
  for (const code of codes) {
    const compiled = compileExpression(code, 'jsonata', code);
    const interpreted = compileExpression(code, 'jsonata', code, { interpreter: true });
    if (!compiled.sync) throw new FsmError('FUNCTION_FAILED', `expressions: "${code}" did not compile`);
    for (const record of records) {
      const a = compiled.evaluate(record, context);
      const b = await interpreted.evaluate(record, context);
      // What users see: plain JSON values (the interpreter's objects have no prototype).
      if (!isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? null)), JSON.parse(JSON.stringify(b ?? null)))) {
        throw new FsmError('FUNCTION_FAILED', `expressions: "${code}" differs on ${JSON.stringify(record)}`);
      }
    }
    let sink = 0;
    const runCompiled = (rounds: number) => () => {
      for (let r = 0; r < rounds; r++)
        for (const record of records) if (compiled.evaluate(record, context)) sink++;
    };
    runCompiled(compiledRounds)(); // warm-up
    const compiledNs = timeSync(runCompiled(compiledRounds), compiledRounds * records.length);
    const runInterpreted = async (rounds: number) => {
      for (let r = 0; r < rounds; r++)
        for (const record of records) if (await interpreted.evaluate(record, context)) sink++;
    };
    await runInterpreted(1); // warm-up
    const started = process.hrtime.bigint();
    await runInterpreted(interpretedRounds);
    const interpretedNs = Number(process.hrtime.bigint() - started) / (interpretedRounds * records.length);
    if (sink < 0) console.log(sink); // keeps the results alive for the optimiser
    costs.push({ code, compiledNs, interpretedNs });
  }
  return costs;
}
