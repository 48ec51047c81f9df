// Types for lab/clickhouse.mjs (plain JS: the bench uses it without a build).
export const CLICKHOUSE_BIN: string;
export function clickhouseInstalled(): boolean;
export interface RunningClickHouse {
  /** http://127.0.0.1:PORT */
  url: string;
  pid: number | undefined;
  dir: string;
  /** Kills the server (by its pid) and waits for it to exit. */
  stop(): Promise<void>;
}
export function startClickHouse(options: { dir: string; password?: string }): Promise<RunningClickHouse>;
