import { IoError } from '@fsm/core';

export type FileFormat = 'csv' | 'jsonl' | 'json';

export interface FileKind {
  format: FileFormat;
  gzip: boolean;
}

/** The format from an explicit option, else from the extension (`.csv`, `.jsonl`/`.ndjson`, `.json`, each maybe `.gz`). */
export function fileKind(path: string, format?: FileFormat, gzip?: boolean): FileKind {
  const match = /\.(csv|tsv|jsonl|ndjson|json)(\.gz)?$/i.exec(path);
  const gz = gzip ?? (match?.[2] !== undefined || path.toLowerCase().endsWith('.gz'));
  if (format) return { format, gzip: gz };
  const ext = match?.[1]?.toLowerCase();
  if (ext === 'csv' || ext === 'tsv') return { format: 'csv', gzip: gz };
  if (ext === 'jsonl' || ext === 'ndjson') return { format: 'jsonl', gzip: gz };
  if (ext === 'json') return { format: 'json', gzip: gz };
  throw new IoError(
    `cannot tell the format of "${path}": use .csv, .jsonl or .json (optionally .gz), or pass format`,
    {
      source: path,
    },
  );
}
