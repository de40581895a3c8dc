import { CompiledQuery, type Kysely } from 'kysely';
import type { StoreTables } from '../sql/schema.js';
import type { GroupWriter, WriteRows } from '../sql/write-rows.js';

const STEP_COLUMNS = 4;
const HISTORY_COLUMNS = 9;
const ITEM_COLUMNS = 5;

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
          steps.push(placeholders(params.length, STEP_COLUMNS));
          params.push(r.execution_id, r.seq, r.fsm, r.body);
          continue;
        }
        const h = op.history;
        if (h) {
          historyRows.push(placeholders(params.length, HISTORY_COLUMNS, '::double precision'));
          params.push(
            h.execution_id,
            h.fsm,
            h.status,
            h.started_at,
            h.ended_at,
            h.batch_id,
            h.item_index,
            h.body,
            h.item_ms ?? null,
          );
        }
        const i = op.item;
        if (i) {
          itemRows.push(placeholders(params.length, ITEM_COLUMNS));
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
          `s as (insert into ${stepLog} (execution_id, seq, fsm, body) values ${steps.join(', ')} on conflict (execution_id, seq) do update set fsm = excluded.fsm, body = excluded.body)`,
        );
      }
      if (historyRows.length > 0) {
        parts.push(
          `h as (insert into ${histories} (execution_id, fsm, status, started_at, ended_at, batch_id, item_index, body, item_ms) values ${historyRows.join(', ')} on conflict (execution_id) do update set fsm = excluded.fsm, status = excluded.status, started_at = excluded.started_at, ended_at = excluded.ended_at, batch_id = excluded.batch_id, item_index = excluded.item_index, body = excluded.body, item_ms = excluded.item_ms)`,
        );
      }
      if (itemRows.length > 0) {
        parts.push(
          `b as (insert into ${items} (batch_id, item_index, execution_id, success, body) values ${itemRows.join(', ')} on conflict (batch_id, item_index) do update set execution_id = excluded.execution_id, success = excluded.success, body = excluded.body)`,
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

/** `($n+1, …, $n+count)`; `lastCast` is appended to the last one (a null there needs its type). */
function placeholders(offset: number, count: number, lastCast = ''): string {
  let text = `($${offset + 1}`;
  for (let i = 2; i <= count; i++) text += `, $${offset + i}`;
  return `${text}${lastCast})`;
}

/** A PostgreSQL identifier in double quotes (an embedded quote doubled), whatever it holds. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
