// Field names of application JSON loggers beyond the usual ones: Monolog's
// (PHP) JsonFormatter with its WebProcessor, whose numeric levels are on a
// scale of its own (200 INFO, 300 WARNING), so its level_name is what says loud.
import { describe, expect, it } from "vitest";
import { LineDispatcher } from "./dispatch.js";

function read(line: Record<string, unknown>) {
  const { records } = new LineDispatcher("app.log", []).feed({
    n: 1,
    text: JSON.stringify(line),
    cut: false,
  });
  return records
    .filter((r) => r.denied)
    .map((r) => ({
      method: r.method,
      path: r.path,
      client: r.client,
      cause: r.cause,
      time: r.time?.toISOString(),
    }));
}

const monolog = (levelName: string, level: number) => ({
  message: "Access denied for user",
  context: { route: "admin" },
  level,
  level_name: levelName,
  channel: "security",
  datetime: "2026-12-03T10:15:02.123456+00:00",
  extra: { ip: "203.0.113.9", url: "/admin/users", http_method: "POST" },
});

describe("Monolog JSON lines", () => {
  it("read the request from the WebProcessor's fields and the time from datetime", () => {
    expect(read(monolog("WARNING", 300))).toEqual([
      {
        method: "POST",
        path: "/admin/users",
        client: "203.0.113.9",
        cause: "insufficient-permission",
        time: "2026-12-03T10:15:02.123Z",
      },
    ]);
  });

  it("are no refusal at INFO, whatever Monolog's number for it", () => {
    expect(read(monolog("INFO", 200))).toEqual([]);
  });
});
