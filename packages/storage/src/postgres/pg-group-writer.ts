import { CompiledQuery, type Kysely } from 'kysely';
import type { StoreTables } from '../sql/schema.js';
import {
  type GroupWriter,
  HISTORY_ROW_COLUMNS,
  HISTORY_UPSERT,
  historyValues,
  ITEM_COLUMNS,
  ITEM_UPSERT,
  STEP_COLUMNS,
  STEP_UPSERT,
  type WriteRows,
} from '../sql/write-rows.js';

// Per column, what follows its placeholder: a null needs its type where PostgreSQL cannot infer it.
const STEP_CASTS = STEP_COLUMNS.map(() => '');
const HISTORY_CASTS = HISTORY_ROW_COLUMNS.map((column) => (column === 'item_ms' ? '::double precision' : ''));
const ITEM_CASTS = ITEM_COLUMNS.map(() => '');

/**
 * Writes a group of step-log rows as one statement (data-modifying CTEs: one round trip, atomic on its
 * own), with its text written here instead of built by kysely's query builder: a group has hundreds of
 * parameters, and compiling them through kysely's node tree cost more than the rest of the commit on this
 * side (bench W9). It still runs through kysely's driver and connection pool.
 */
export function postgresGroupWriter(db: Kysely<StoreTables>, schema: string | undefined): GroupWriter {
  const table = (name: string) => (schema === undefined ? name : `${quoteIdentifier(schema)}.${name}`);
  const stepLog = table('fsm_step_log');
  const histories = table('fsm_histories');
  const items = table('fsm_batch_items');
  const checkpoints = table('fsm_checkpoints');
  return {
    async write(ops: WriteRows[]): Promise<void> {
      const params: unknown[] = [];
      const steps: string[] = [];
      const historyRows: string[] = [];
      const itemRows: string[] = [];
      const finished: string[] = [];
      for (const op of ops) {
        if (op.kind === 'step') {
          const r = op.row;
          steps.push(placeholders(params.length, STEP_CASTS));
          params.push(r.execution_id, r.seq, r.fsm, r.body);
          continue;
        }
        if (op.history) {
          historyRows.push(placeholders(params.length, HISTORY_CASTS));
          params.push(...historyValues(op.history));
        }
        const i = op.item;
        if (i) {
          itemRows.push(placeholders(params.length, ITEM_CASTS));
          params.push(i.batch_id, i.item_index, i.execution_id, i.success, i.body);
        }
        if (op.checkpointed) {
          params.push(op.executionId);
          finished.push(`$${params.length}`);
        }
      }
      // A group never holds a step and the finish of the same execution (the finish waits for the step),
      // so the parts see one snapshot without conflict.
      const parts: string[] = [];
      if (steps.length > 0) {
        parts.push(
          `s as (insert into ${stepLog} (${STEP_COLUMNS.join(', ')}) values ${steps.join(', ')} ${STEP_UPSERT})`,
        );
      }
      if (historyRows.length > 0) {
        parts.push(
          `h as (insert into ${histories} (${HISTORY_ROW_COLUMNS.join(', ')}) values ${historyRows.join(', ')} ${HISTORY_UPSERT})`,
        );
      }
      if (itemRows.length > 0) {
        parts.push(
          `b as (insert into ${items} (${ITEM_COLUMNS.join(', ')}) values ${itemRows.join(', ')} ${ITEM_UPSERT})`,
        );
      }
      if (finished.length > 0) {
        const ids = finished.join(', ');
        parts.push(`dl as (delete from ${stepLog} where execution_id in (${ids}))`);
        parts.push(`dc as (delete from ${checkpoints} where execution_id in (${ids}))`);
      }
      if (parts.length === 0) return;
      await db.executeQuery(CompiledQuery.raw(`with ${parts.join(', ')} select 1`, params));
    },
  };
}

/** `($n+1, …)`, one placeholder per column, each followed by its cast. */
function placeholders(offset: number, casts: readonly string[]): string {
  let text = '(';
  for (let i = 0; i < casts.length; i++) text += `${i === 0 ? '' : ', '}$${offset + i + 1}${casts[i]}`;
  return `${text})`;
}

/** A PostgreSQL identifier in double quotes (an embedded quote doubled), whatever it holds. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
