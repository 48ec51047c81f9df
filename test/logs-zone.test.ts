// `why403 logs` run on a machine whose zone is not the server's: the nginx and
// Apache error logs' stamps carry no zone, the access logs' do. The CLI is run
// with TZ set to zones that differ from the logs' offset, as on an operator's
// laptop reading a server's logs; every refused request must be counted once.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCliAsync } from "./helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "why403-logs-zone-"));
const p2 = (n: number) => String(n).padStart(2, "0");

/** 40 refused requests of a server at UTC+00:00: nginx error line, then its access line (one file, as a mixed log). */
function mixedLog(): string {
  const out: string[] = [];
  for (let i = 0; i < 40; i++) {
    const hms = `10:${p2(Math.floor(i / 4))}:${p2((i * 7) % 60)}`;
    const ip = `10.9.0.${i + 1}`;
    if (i % 2 === 0) {
      out.push(
        `2026/11/26 ${hms} [error] 7#7: *${i} open() "/srv/www/files/r.pdf" failed (13: Permission denied), client: ${ip}, server: _, request: "GET /files/r.pdf HTTP/1.1", host: "x"`,
        `${ip} - - [26/Nov/2026:${hms} +0000] "GET /files/r.pdf HTTP/1.1" 403 153 "-" "curl/8"`,
      );
    } else {
      out.push(
        `[Thu Nov 26 ${hms}.250000 2026] [authz_core:error] [pid 1:tid 2] [client ${ip}:4000] AH01630: client denied by server configuration: /var/www/private/`,
        `${ip} - - [26/Nov/2026:${hms} +0000] "GET /private/ HTTP/1.1" 403 199 "-" "curl/8"`,
      );
    }
    out.push(`10.8.0.${i} - - [26/Nov/2026:${hms} +0000] "GET / HTTP/1.1" 200 10 "-" "curl/8"`);
  }
  return `${out.join("\n")}\n`;
}

async function logs(args: string[], tz: string) {
  const r = await runCliAsync(["logs", ...args, "--json"], { env: { TZ: tz } });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    denials: number;
    byCause: Record<string, number>;
    stampZone?: { zone: string; from: string };
  };
}

describe("logs read on a machine in another zone than the server's", () => {
  const file = join(dir, "mixed.log");
  writeFileSync(file, mixedLog());

  it.each(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])(
    "TZ=%s: each refused request counted once, with its error line's cause",
    async (tz) => {
      const r = await logs([file], tz);
      expect(r.denials).toBe(40);
      expect(r.byCause).toEqual({ "fs-permission": 20, "server-config": 20 });
      // The machine's own zone is used when it is at the logs' offset (UTC here), else the logs' offset.
      expect(r.stampZone).toEqual(tz === "UTC" ? undefined : { zone: "+00:00", from: "logs" });
    },
  );

  it("--tz says the zone outright, also against the access stamps", async () => {
    const told = await logs([file, "--tz", "UTC"], "Asia/Tokyo");
    expect(told.denials).toBe(40);
    expect(told.stampZone).toEqual({ zone: "UTC", from: "option" });
    // A wrong zone puts every error line nine hours from its access line: no joins, each request twice.
    const wrong = await logs([file, "--tz", "Asia/Tokyo"], "UTC");
    expect(wrong.denials).toBe(80);
    const bad = await runCliAsync(["logs", file, "--tz", "Moon/Base"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toEqual([
      "why403: --tz: not a time zone: Moon/Base (an IANA name like Europe/Berlin, or an offset like +02:00)",
    ]);
  });
});
