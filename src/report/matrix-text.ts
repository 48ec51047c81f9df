// `why403 matrix` as text: a table of checks (rows) × identities (columns) with
// ✓/✗, then one line per cell that is not as expected, with its diagnosed cause.
import type { Style } from "../cli/terminal.js";
import { describeCause } from "../matrix/cause-detail.js";
import type { MatrixCell, MatrixResult } from "../matrix/run.js";

const MARK = { pass: "✓", fail: "✗", skip: "·" };

function cellText(c: MatrixCell): string {
  if (c.outcome === "skipped") return `${MARK.skip} skipped`;
  const mark = c.ok ? MARK.pass : MARK.fail;
  return `${mark} ${c.outcome} ${c.status ?? "—"}`;
}

function paint(c: MatrixCell, text: string, s: Style): string {
  if (c.outcome === "skipped") return s.dim(text);
  return c.ok ? s.green(text) : s.red(text);
}

/** Pads to a width counted in characters (the marks are one column each). */
function pad(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - [...text].length));
}

export function renderMatrixText(result: MatrixResult, s: Style): string {
  const identities = [...new Set(result.cells.map((c) => c.identity))];
  const requests = [...new Set(result.cells.map((c) => c.request))];
  const byKey = new Map(result.cells.map((c) => [`${c.request}\u0000${c.identity}`, c]));
  const firstWidth = Math.max(7, ...requests.map((r) => [...r].length));
  const widths = identities.map((id) =>
    Math.max([...id].length, ...requests.map((r) => [...cellText(byKey.get(`${r}\u0000${id}`)!)].length)),
  );
  const lines: string[] = [s.bold(`Authorization matrix against ${result.base}`), ""];
  lines.push(
    s.bold(
      [pad("request", firstWidth), ...identities.map((id, i) => pad(id, widths[i]!))].join("  ").trimEnd(),
    ),
  );
  for (const r of requests) {
    const row = identities.map((id, i) => {
      const c = byKey.get(`${r}\u0000${id}`)!;
      // The last column is not padded: no trailing blanks in logs and CI output.
      return paint(c, i === identities.length - 1 ? cellText(c) : pad(cellText(c), widths[i]!), s);
    });
    lines.push([pad(r, firstWidth), ...row].join("  "));
  }
  const failing = result.cells.filter((c) => c.ok === false);
  if (failing.length) {
    lines.push("", s.bold("Not as expected:"));
    for (const c of failing) lines.push(`  ${s.red(MARK.fail)} ${failureSentence(c)}`);
  }
  const denied = result.cells.filter((c) => c.ok === true && c.outcome === "deny");
  if (denied.length) {
    lines.push("", s.bold("Refused as expected:"));
    for (const c of denied)
      lines.push(
        `  ${s.green(MARK.pass)} ${c.identity} · ${c.request}: ${c.status} ${describeCause(c.cause, c.causeDetail)}`,
      );
  }
  lines.push(
    "",
    `${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped` +
      (result.skipped
        ? " (non-safe methods run only with --allow-side-effects: point the matrix at staging)"
        : ""),
  );
  return `${lines.join("\n")}\n`;
}

/** One sentence for a cell that is not as expected: who, what, what happened and why. */
export function failureSentence(c: MatrixCell): string {
  const who = `${c.identity} · ${c.request}`;
  if (c.outcome === "error")
    return `${who}: error${c.status ? ` ${c.status}` : ""}: ${c.note ?? "no usable answer"}`;
  if (c.outcome === "allow") return `${who}: expected a refusal, was let through (${c.status})`;
  return `${who}: expected to be let through, refused ${c.status}: ${describeCause(c.cause, c.causeDetail)}`;
}
