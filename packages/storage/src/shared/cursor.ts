import { StorageError } from '@fsm/core';

/** Where a listing stopped: the last entry's start time and id (ties on time are broken by id). */
export interface CursorPosition {
  startedAt: number;
  executionId: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.startedAt, position.executionId])).toString('base64url');
}

export function decodeCursor(backend: string, cursor: string): CursorPosition {
  const fail = () => new StorageError(backend, 'query', `cursor "${cursor}" is not one this store returned`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw Object.assign(fail(), { cause: error });
  }
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'number' || typeof parsed[1] !== 'string') throw fail();
  return { startedAt: parsed[0], executionId: parsed[1] };
}
