import { MisuseError } from '../errors/errors.js';
import { isForbiddenKey } from '../util/safe-keys.js';
import type { ExecutionHistoryData, ExecutionStatus, HistoryStep, HistorySummary } from './types.js';

/** Which executions a flow summary or a search covers. Every field narrows; none means all. */
export interface ExecutionFilter {
  fsm?: string;
  status?: ExecutionStatus;
  batchId?: string;
  /** The state the execution ended in. */
  finalState?: string;
  /** The code of the execution's error. */
  errorCode?: string;
  /** Started at or after. */
  since?: Date | number;
  /** Started before. */
  until?: Date | number;
  /**
   * A field of the record (`customer` or `address.city`: names of letters, digits and `_` joined by
   * dots) whose value, as text, equals `value` — in the final data, else in the input.
   */
  field?: { path: string; value: string };
}

/** How many steps took one arc out of one state. */
export interface FlowArcCount {
  network: string;
  state: string;
  arc: string;
  count: number;
}

/** Visits of one state: how many, how many failed there, mean time in it (ms, finished steps only). */
export interface FlowStateStats {
  network: string;
  state: string;
  visits: number;
  failures: number;
  meanMs: number | null;
}

/** The flow over many executions: counts per status, per arc, per state and per error code. */
export interface FlowSummary {
  executions: number;
  statuses: Record<ExecutionStatus, number>;
  arcs: FlowArcCount[];
  states: FlowStateStats[];
  errors: { code: string; count: number }[];
}

export interface ExecutionSearch extends ExecutionFilter {
  /** Page size (default 50). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  /**
   * A data-field search reads at most this many histories (newest first among those passing the other
   * conditions) for its page and as many for its counts (default {@link DEFAULT_SCAN_LIMIT}): it answers in
   * bounded time on a big store. A page cut short this way has `nextCursor` where the reading stopped.
   */
  scanLimit?: number;
  /** Count every match of a data-field search, however many histories that reads (a "count all"). */
  exactCounts?: boolean;
}

/** How many histories a data-field search reads for its page, and for its counts, unless told otherwise. */
export const DEFAULT_SCAN_LIMIT = 50_000;

/** A found execution: its summary plus what the list shows. */
export interface ExecutionMatch extends HistorySummary {
  batchId?: string;
  finalState?: string;
  errorCode?: string;
}

export interface ExecutionSearchPage {
  /** Newest first; fewer than `limit` (even none) with a `nextCursor` when a data-field search hit `scanLimit`. */
  items: ExecutionMatch[];
  /** Matches of the filter by status: over the whole store when `countsExact`, else see `countedSince`. */
  counts: Record<ExecutionStatus, number>;
  /**
   * False when a data-field search counted only the `countedExecutions` newest histories passing its other
   * conditions (`scanLimit`), back to `countedSince`: the counts are then a lower bound. Ask again with
   * `exactCounts: true` for the totals.
   */
  countsExact: boolean;
  /** With `countsExact: false`: the start time (epoch ms) of the oldest history counted. */
  countedSince?: number;
  /** With `countsExact: false`: how many histories were read for the counts. */
  countedExecutions?: number;
  nextCursor?: string;
}

const FIELD_NAME = /^[A-Za-z0-9_]+$/;

/** The segments of a field path; rejects anything but plain names (no prototype keys). */
export function fieldPathSegments(path: string): string[] {
  const segments = path.split('.');
  for (const segment of segments) {
    if (!FIELD_NAME.test(segment) || isForbiddenKey(segment)) {
      throw new MisuseError(
        `field filter "${path}": use names of letters, digits and _ joined by dots (not ${JSON.stringify(segment)})`,
      );
    }
  }
  return segments;
}

function ownPath(value: unknown, segments: readonly string[]): unknown {
  let current = value;
  for (const segment of segments) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** A scalar as SQL text would show it; objects and arrays as JSON. */
export function fieldText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function millis(value: Date | number): number {
  return value instanceof Date ? value.getTime() : value;
}

/** Whether a history passes a filter (the in-memory fallback of stores without SQL). */
export function matchesFilter(history: ExecutionHistoryData, filter: ExecutionFilter): boolean {
  if (filter.fsm !== undefined && history.fsm !== filter.fsm) return false;
  if (filter.status !== undefined && history.status !== filter.status) return false;
  if (filter.batchId !== undefined && history.batchId !== filter.batchId) return false;
  if (filter.finalState !== undefined && history.finalState !== filter.finalState) return false;
  if (filter.errorCode !== undefined && history.error?.code !== filter.errorCode) return false;
  if (filter.since !== undefined && history.startedAt < millis(filter.since)) return false;
  if (filter.until !== undefined && history.startedAt >= millis(filter.until)) return false;
  if (filter.field !== undefined) {
    const segments = fieldPathSegments(filter.field.path);
    const final = ownPath(history.output?.data, segments);
    const value = final === undefined || final === null ? ownPath(history.input, segments) : final;
    if (fieldText(value) !== filter.field.value) return false;
  }
  return true;
}

export function emptyStatusCounts(): Record<ExecutionStatus, number> {
  return { running: 0, succeeded: 0, failed: 0 };
}

/**
 * Accumulates a flow summary one history at a time: the in-memory fallback for stores that keep
 * histories as objects or JSON (memory, file, S3). SQL stores aggregate in the query instead.
 */
export class FlowAccumulator {
  private executions = 0;
  private readonly statuses = emptyStatusCounts();
  private readonly arcs = new Map<string, FlowArcCount>();
  private readonly states = new Map<string, FlowStateStats & { timed: number; totalMs: number }>();
  private readonly errors = new Map<string, number>();

  add(history: ExecutionHistoryData): void {
    this.executions++;
    this.statuses[history.status]++;
    if (history.error) this.errors.set(history.error.code, (this.errors.get(history.error.code) ?? 0) + 1);
    this.addSteps(history.steps);
  }

  private addSteps(steps: readonly HistoryStep[]): void {
    for (const step of steps) {
      const key = `${step.network}\u0000${step.state}`;
      let stats = this.states.get(key);
      if (!stats) {
        stats = {
          network: step.network,
          state: step.state,
          visits: 0,
          failures: 0,
          meanMs: null,
          timed: 0,
          totalMs: 0,
        };
        this.states.set(key, stats);
      }
      stats.visits++;
      if (step.error) stats.failures++;
      if (step.endedAt !== undefined) {
        stats.timed++;
        stats.totalMs += step.endedAt - step.startedAt;
      }
      if (step.arc !== undefined) {
        const arcKey = `${key}\u0000${step.arc}`;
        const arc = this.arcs.get(arcKey);
        if (arc) arc.count++;
        else this.arcs.set(arcKey, { network: step.network, state: step.state, arc: step.arc, count: 1 });
      }
      if (step.children) this.addSteps(step.children);
    }
  }

  result(): FlowSummary {
    return sortFlowSummary({
      executions: this.executions,
      statuses: { ...this.statuses },
      arcs: [...this.arcs.values()].map((a) => ({ ...a })),
      states: [...this.states.values()].map(({ timed, totalMs, ...s }) => ({
        ...s,
        meanMs: timed === 0 ? null : totalMs / timed,
      })),
      errors: [...this.errors].map(([code, count]) => ({ code, count })),
    });
  }
}

/** One order for every backend: by network, state, arc; errors by count then code. */
export function sortFlowSummary(summary: FlowSummary): FlowSummary {
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  summary.arcs.sort(
    (a, b) => byName(a.network, b.network) || byName(a.state, b.state) || byName(a.arc, b.arc),
  );
  summary.states.sort((a, b) => byName(a.network, b.network) || byName(a.state, b.state));
  summary.errors.sort((a, b) => b.count - a.count || byName(a.code, b.code));
  return summary;
}

/** The list entry of a history. */
export function toExecutionMatch(history: ExecutionHistoryData, cursor: string): ExecutionMatch {
  const match: ExecutionMatch = {
    executionId: history.executionId,
    fsm: history.fsm,
    status: history.status,
    startedAt: history.startedAt,
    cursor,
  };
  if (history.endedAt !== undefined) match.endedAt = history.endedAt;
  if (history.batchId !== undefined) match.batchId = history.batchId;
  if (history.finalState !== undefined) match.finalState = history.finalState;
  if (history.error !== undefined) match.errorCode = history.error.code;
  return match;
}

/** Search cursors: the last entry's start time and id, as the newest-first order of every store. */
export function encodeSearchCursor(position: { startedAt: number; executionId: string }): string {
  return Buffer.from(JSON.stringify([position.startedAt, position.executionId])).toString('base64url');
}

export function decodeSearchCursor(cursor: string): { startedAt: number; executionId: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw new MisuseError(`search cursor "${cursor}" is not one a search returned`, { cause: error });
  }
  // Start times are epoch ms: a fraction or a huge number is no cursor a search returned (and no bigint).
  if (!Array.isArray(parsed) || !Number.isSafeInteger(parsed[0]) || typeof parsed[1] !== 'string') {
    throw new MisuseError(`search cursor "${cursor}" is not one a search returned`);
  }
  return { startedAt: parsed[0], executionId: parsed[1] };
}

/**
 * The order of every listing and search: newest first, ties on start time by execution id descending (the
 * SQL stores' `order by started_at desc, execution_id desc`). For stores that sort in memory.
 */
export function compareNewestFirst(
  a: { startedAt: number; executionId: string },
  b: { startedAt: number; executionId: string },
): number {
  if (a.startedAt !== b.startedAt) return b.startedAt - a.startedAt;
  return a.executionId < b.executionId ? 1 : a.executionId > b.executionId ? -1 : 0;
}

/** The in-memory fallback of `summarizeFlow`: one pass over the histories. */
export async function scanFlowSummary(
  histories: Iterable<ExecutionHistoryData> | AsyncIterable<ExecutionHistoryData>,
  filter: ExecutionFilter = {},
): Promise<FlowSummary> {
  if (filter.field) fieldPathSegments(filter.field.path);
  const flow = new FlowAccumulator();
  for await (const history of histories) if (matchesFilter(history, filter)) flow.add(history);
  return flow.result();
}

/** The in-memory fallback of `findExecutions`: filter, count by status, newest first, one page. */
export async function scanExecutions(
  histories: Iterable<ExecutionHistoryData> | AsyncIterable<ExecutionHistoryData>,
  search: ExecutionSearch = {},
): Promise<ExecutionSearchPage> {
  if (search.field) fieldPathSegments(search.field.path);
  searchScanLimit(search);
  const after = search.cursor === undefined ? undefined : decodeSearchCursor(search.cursor);
  const limit = search.limit ?? 50;
  const counts = emptyStatusCounts();
  const page: ExecutionMatch[] = [];
  for await (const history of histories) {
    if (!matchesFilter(history, search)) continue;
    counts[history.status]++;
    if (after !== undefined && compareNewestFirst(after, history) >= 0) continue;
    page.push(toExecutionMatch(history, encodeSearchCursor(history)));
    // Keep only the newest `limit + 1` so a large store does not fill memory.
    if (page.length > 4 * (limit + 1)) page.sort(compareNewestFirst).splice(limit + 1);
  }
  page.sort(compareNewestFirst);
  const items = page.slice(0, limit);
  // Every history was read: the counts are exact whatever `scanLimit` says.
  const result: ExecutionSearchPage = { items, counts, countsExact: true };
  const last = items.at(-1);
  if (page.length > limit && last) result.nextCursor = encodeSearchCursor(last);
  return result;
}

/** `scanLimit` of a search: a positive integer (MISUSE otherwise), else the default. */
export function searchScanLimit(search: ExecutionSearch): number {
  const limit = search.scanLimit ?? DEFAULT_SCAN_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new MisuseError(`scanLimit ${String(search.scanLimit)} must be a positive integer`);
  }
  return limit;
}
