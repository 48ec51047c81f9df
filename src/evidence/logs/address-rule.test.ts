// "access forbidden by rule" and AH01630 settled by the rest of the evidence:
// other clients allowed on the same path (an address rule), every client
// refused there (a blanket deny), or the config's own decision.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyzeLogs } from "./analyze.js";

const dir = mkdtempSync(join(tmpdir(), "why403-address-"));

function file(name: string, lines: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, `${lines.join("\n")}\n`);
  return p;
}

const access = (client: string, path: string, status: number, sec: number) =>
  `${client} - - [26/Nov/2026:05:00:${String(sec).padStart(2, "0")} +0000] "POST ${path} HTTP/1.1" ${status} 10 "-" "curl/8.5.0"`;
const forbidden = (client: string, path: string, sec: number) =>
  `2026/11/26 05:00:${String(sec).padStart(2, "0")} [error] 7#7: *${sec} access forbidden by rule, client: ${client}, server: _, request: "POST ${path} HTTP/1.1", host: "x"`;

describe("address rule or blanket deny, from the logs", () => {
  it("is an address rule where other clients are allowed on the same path", async () => {
    const a = file("a-access.log", [
      access("10.0.0.1", "/admin/save", 200, 1),
      access("10.0.0.9", "/admin/save", 403, 2),
    ]);
    const e = file("a-error.log", [forbidden("10.0.0.9", "/admin/save", 2)]);
    const r = await analyzeLogs([a, e]);
    expect(r.denials).toBe(1);
    expect(r.entries[0]?.cause).toBe("ip-restriction");
    expect(r.entries[0]?.message).toContain("10.0.0.1 allowed on /admin/save");
  });

  it("is a blanket deny where every client is refused and none allowed", async () => {
    const e = file("b-error.log", [forbidden("10.0.0.7", "/closed", 1), forbidden("10.0.0.8", "/closed", 2)]);
    const r = await analyzeLogs([e]);
    expect(r.entries.map((x) => x.cause)).toEqual(["server-config", "server-config"]);
    expect(r.byCause).toEqual({ "server-config": 2 });
  });

  it("counts every denial on a path alike, beyond the ones held back for listing too", async () => {
    const lines: string[] = [];
    for (let i = 0; i < 10_050; i++) lines.push(forbidden(`10.1.${i >> 8}.${i & 255}`, "/closed", i % 60));
    const r = await analyzeLogs([file("many-error.log", lines)], { limit: 5 });
    expect(r.denials).toBe(10_050);
    expect(r.byCause).toEqual({ "server-config": 10_050 });
    expect(r.entries).toHaveLength(5);
  });

  it("stays as the line says when one client alone was refused", async () => {
    const e = file("c-error.log", [forbidden("10.0.0.7", "/once", 1)]);
    const r = await analyzeLogs([e]);
    expect(r.entries[0]?.cause).toBe("ip-restriction");
    expect(r.entries[0]?.message).toBe("nginx allow/deny refused the client (access forbidden by rule)");
  });

  it("lets the nginx config decide when it is given", async () => {
    const conf = file("nginx.conf", [
      "events {}",
      "http {",
      "  server {",
      "    listen 80;",
      "    location /closed { deny all; }",
      "    location /admin/ { allow 10.0.0.1; deny all; }",
      "  }",
      "}",
    ]);
    // One client refused on /admin/: the logs alone cannot tell; the config names `deny all` after an allow.
    const e = file("d-error.log", [
      forbidden("10.0.0.9", "/admin/x", 1),
      forbidden("10.0.0.9", "/closed", 2),
    ]);
    const r = await analyzeLogs([e], { nginxConf: conf });
    expect(r.entries.map((x) => [x.path, x.cause])).toEqual([
      ["/admin/x", "ip-restriction"],
      ["/closed", "server-config"],
    ]);
    expect(r.entries[1]?.message).toContain("the config decides: deny all");
  });
});

describe("one refusal in several logs", () => {
  it("is counted once across the access, error and application logs", async () => {
    const a = file("once-access.log", [access("10.0.0.4", "/api/orders", 403, 5)]);
    const e = file("once-error.log", [forbidden("10.0.0.4", "/api/orders", 5)]);
    const app = file("once-app.log", [
      JSON.stringify({
        level: "warn",
        time: "2026-11-26T05:00:05Z",
        msg: "order quantity exceeds the per-order limit",
        status: 403,
        path: "/api/orders",
        ip: "10.0.0.4",
      }),
    ]);
    const r = await analyzeLogs([a, e, app]);
    expect(r.denials).toBe(1);
    expect(r.entries[0]?.seenIn).toHaveLength(2);
  });
});
