// Types for lab/clickhouse-gen.mjs.
export interface GenerateOptions {
  table: string;
  requests: number;
  /** Refused requests per hundred (0-98). */
  refusedPct: number;
  /** The source of every row (and the file exportSource writes). */
  path: string;
  /** Zone of the nginx error lines' local-time stamps. */
  timeZone: string;
  password?: string;
}
export function generationSql(options: GenerateOptions): string[];
export function generateTable(url: string, options: GenerateOptions): Promise<number>;
export function exportSource(
  url: string,
  options: { table: string; source: string; file: string; password?: string },
): Promise<void>;
