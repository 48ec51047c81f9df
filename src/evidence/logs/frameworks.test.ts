// A console log of several frameworks at once, as a developer's terminal shows
// it: every line that names a refusal is one denial of the cause its framework
// means, and the lines around them (404s, 400s, start-up chatter, the
// authorization failure ASP.NET Core logs before its forbid) are not.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyzeLogs } from "./analyze.js";

const FILE = join(import.meta.dirname, "../../../fixtures/logs/app/frameworks.log");

describe("framework console lines", () => {
  it("count each refusal once, by the cause its framework names", async () => {
    const r = await analyzeLogs([FILE], { limit: 100 });
    expect(r.byCause).toEqual({
      csrf: 2,
      "credentials-invalid": 4,
      "insufficient-permission": 2,
      "rate-limit": 2,
      "server-config": 1,
      unknown: 2,
    });
    expect(r.denials).toBe(13);
    // One entry per refusing line, in file order.
    expect(r.entries.map((e) => e.line)).toEqual([5, 6, 7, 9, 12, 13, 14, 16, 17, 19, 21, 22, 23]);
    expect(r.entries.map((e) => e.status)).toEqual([
      403, 429, 401, 403, 403, 401, 403, 403, 403, 401, 401, 429, 403,
    ]);
  });
});
