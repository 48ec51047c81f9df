import { describe, expect, it } from "vitest";
import { renderLogsText } from "./logs-text.js";
import { makeStyle } from "./style.js";

const report = (warning?: string) => ({
  files: [
    { path: "a.log", format: "nginx-combined", lines: 10, denials: 2 },
    { path: "b.bin", format: "binary", lines: 1, denials: 0, ...(warning && { warning }) },
  ],
  denials: 2,
  byCause: { waf: 2 },
  top: { paths: [], clients: [], rules: [] },
  entries: [],
});

describe("renderLogsText", () => {
  it("shows a file's warning under its line, and nothing for a file without one", () => {
    const text = renderLogsText(report("skipped: the file is binary, not a text log"), makeStyle(false));
    expect(text.split("\n").slice(0, 4)).toEqual([
      "why403 logs: 2 denials",
      "  a.log (nginx-combined, 10 lines): 2 denials",
      "  b.bin (binary, 1 lines): 0 denials",
      "    skipped: the file is binary, not a text log",
    ]);
    expect(renderLogsText(report(), makeStyle(false)).split("\n").slice(0, 4)).toEqual([
      "why403 logs: 2 denials",
      "  a.log (nginx-combined, 10 lines): 2 denials",
      "  b.bin (binary, 1 lines): 0 denials",
      "",
    ]);
  });
});
