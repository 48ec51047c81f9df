// The terminal view of `why403 watch`: one screen, redrawn in place.
import type { RecentView } from "./recent.js";

export interface ViewStyle {
  bold(s: string): string;
  dim(s: string): string;
  yellow(s: string): string;
}

export interface ViewInput {
  recent: RecentView;
  total: number;
  lines: number;
  files: number;
  listen: string;
}

export function renderLiveView(v: ViewInput, s: ViewStyle, width = 80): string[] {
  const out: string[] = [];
  out.push(
    s.bold("why403 watch"),
    s.dim(
      `${v.files} file(s) · ${v.lines} lines · ${v.total} denials · metrics on http://${v.listen}/metrics`,
    ),
    "",
    s.bold("Denials/s by cause (last 10 s)"),
  );
  if (v.recent.ratesByCause.length === 0) out.push(s.dim("  none"));
  for (const [cause, rate] of v.recent.ratesByCause)
    out.push(`  ${s.yellow(cause.padEnd(24))} ${rate.toFixed(1)}`);
  out.push("", s.bold(`Top rules (last minute, ${v.recent.lastMinute} denials)`));
  if (v.recent.topRules.length === 0) out.push(s.dim("  none"));
  for (const [rule, n] of v.recent.topRules) out.push(`  ${rule.padEnd(24)} ${n}`);
  out.push("", s.bold("Top paths (last minute)"));
  if (v.recent.topPaths.length === 0) out.push(s.dim("  none"));
  for (const [path, n] of v.recent.topPaths)
    out.push(`  ${clipTo(path, width - 12).padEnd(Math.min(48, width - 12))} ${n}`);
  return out;
}

function clipTo(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Escape codes that move to the top-left corner and clear the screen below. */
export const REDRAW = "\x1b[H\x1b[J";
