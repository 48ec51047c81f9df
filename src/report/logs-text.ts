// Terminal summary of `why403 logs`.
import type { Style } from "./style.js";

export interface LogsReportLike {
  files: Array<{ path: string; format: string; lines: number; denials: number; warning?: string }>;
  denials: number;
  byCause: Record<string, number>;
  top: { paths: Array<[string, number]>; clients: Array<[string, number]>; rules: Array<[string, number]> };
  entries: Array<{
    time?: string | null;
    file: string;
    line: number;
    status?: number | null;
    method?: string | null;
    path?: string | null;
    client?: string | null;
    cause?: string | null;
    rule?: string | null;
    message?: string | null;
  }>;
  stampZone?: { zone: string; from: "option" | "logs" };
}

export function renderLogsText(report: LogsReportLike, s: Style): string {
  const out: string[] = [];
  out.push(`${s.bold("why403 logs")}: ${report.denials} denial${report.denials === 1 ? "" : "s"}`);
  for (const f of report.files) {
    out.push(`  ${f.path} ${s.dim(`(${f.format}, ${f.lines} lines)`)}: ${f.denials} denials`);
    if (f.warning) out.push(`    ${s.dim(f.warning)}`);
  }
  const zone = report.stampZone;
  if (zone)
    out.push(
      s.dim(
        `  error-log stamps (no zone) read as ${zone.zone}: ${zone.from === "option" ? "--tz" : "the offset the access stamps show"}`,
      ),
    );
  const causes = Object.entries(report.byCause).sort((a, b) => b[1] - a[1]);
  if (causes.length) {
    out.push("", s.bold("By cause"));
    for (const [c, n] of causes) out.push(`  ${String(n).padStart(8)}  ${c}`);
  }
  const top = (title: string, rows: Array<[string, number]>) => {
    if (!rows.length) return;
    out.push("", s.bold(title));
    for (const [k, n] of rows.slice(0, 10)) out.push(`  ${String(n).padStart(8)}  ${k}`);
  };
  top("Top rules", report.top.rules);
  top("Top paths", report.top.paths);
  top("Top clients", report.top.clients);
  if (report.entries.length) {
    out.push("", s.bold(`Denials (first ${report.entries.length})`));
    for (const e of report.entries.slice(0, 50)) {
      const what = [e.method, e.path].filter(Boolean).join(" ");
      out.push(
        `  ${s.dim(`${e.file}:${e.line}`)} ${e.time ?? ""} ${e.status ?? ""} ${what} ${e.client ? s.dim(`from ${e.client}`) : ""}`.trimEnd(),
      );
      out.push(
        `      ${s.yellow(e.cause ?? "unclassified")}${e.rule ? ` rule ${e.rule}` : ""}${e.message ? `: ${e.message}` : ""}`,
      );
    }
  }
  return `${out.join("\n")}\n`;
}
