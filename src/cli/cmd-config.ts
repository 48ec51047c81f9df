// why403 config nginx|apache --conf FILE --request 'METHOD URL' [--client IP] [--fs-user USER]
import { statSync } from "node:fs";
import { UsageError } from "../errors.js";
import type { ConfigDecision, ConfigRequest } from "../evidence/config-decision.js";
import type { FsWalkResult } from "../evidence/fs/index.js";
import { quoteArgument, redactUrl } from "../redact.js";
import { parseArgs } from "./args.js";
import { clientFlag, noColor } from "./common.js";
import { colourWanted, makeStyle } from "./terminal.js";

export async function cmdConfig(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, {
    conf: { kind: "string" },
    request: { kind: "string" },
    client: { kind: "string" },
    header: { kind: "list", short: "H" },
    "fs-user": { kind: "string" },
    prefix: { kind: "string" },
    json: { kind: "boolean" },
    "no-color": { kind: "boolean" },
    color: { kind: "boolean" },
    debug: { kind: "boolean" },
  });
  const server = rest[0];
  if (server !== "nginx" && server !== "apache")
    throw new UsageError(
      "config needs a server kind: why403 config nginx|apache --conf FILE --request 'POST http://host/path'",
    );
  if (rest.length > 1) throw new UsageError(`unexpected argument ${rest[1]}`);
  if (typeof flags.conf !== "string") throw new UsageError("missing --conf FILE");
  if (flags.prefix !== undefined && server !== "nginx")
    throw new UsageError("--prefix is nginx's -p; Apache takes ServerRoot from its config");
  if (typeof flags.request !== "string") throw new UsageError("missing --request 'METHOD URL'");
  const m = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(flags.request);
  if (!m) throw new UsageError(`--request needs 'METHOD URL', got ${quoteArgument(String(flags.request))}`);
  let url = m[2]!;
  if (url.startsWith("/")) url = `http://localhost${url}`;
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--request has an invalid URL: ${redactUrl(m[2] ?? "")}`);
  }
  const headers: Record<string, string> = {};
  for (const h of (flags.header as string[] | undefined) ?? []) {
    const i = h.indexOf(":");
    if (i <= 0) throw new UsageError(`--header needs 'Name: value', got ${quoteArgument(h)}`);
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const request: ConfigRequest = {
    method: m[1]!.toUpperCase(),
    url,
    client: clientFlag(flags),
    headers,
  };
  let decision: ConfigDecision;
  if (server === "nginx") {
    const { parseNginxConfig, evaluateNginx } = await import("../evidence/nginx/index.js");
    const nginxPrefix = typeof flags.prefix === "string" ? flags.prefix : undefined;
    decision = evaluateNginx(parseNginxConfig(flags.conf, { nginxPrefix }), request);
  } else {
    const { parseApacheConfig, evaluateApache } = await import("../evidence/apache/index.js");
    decision = evaluateApache(parseApacheConfig(flags.conf), request);
  }
  const fs = typeof flags["fs-user"] === "string" ? await walkFor(decision, flags["fs-user"]) : undefined;
  const style = makeStyle(colourWanted(process.stdout, noColor(flags)));
  if (flags.json) process.stdout.write(`${JSON.stringify(fs ? { ...decision, fs } : decision, null, 2)}\n`);
  else process.stdout.write(renderDecision(decision, style) + (fs ? renderWalk(fs, style) : ""));
  return decision.decision === "unknown" ? 1 : 0;
}

/** The file-system walk for the file the request maps to (null when it maps to none, e.g. a proxy). */
async function walkFor(
  decision: ConfigDecision & { filePath?: string | null; isDirectory?: boolean },
  user: string,
): Promise<FsWalkResult | null> {
  const file = decision.filePath;
  if (!file) return null;
  const { walkFsPermissions } = await import("../evidence/fs/index.js");
  const need = decision.isDirectory || file.endsWith("/") || isDirectory(file) ? "list" : "read";
  return walkFsPermissions(file, { user, need });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function renderWalk(w: FsWalkResult | null, s: ReturnType<typeof makeStyle>): string {
  if (!w)
    return `${s.bold("File system")} the request maps to no file (a proxy or a return): nothing to walk\n`;
  const out = [
    `${s.bold("File system")} as ${w.user.name} (uid ${w.user.uid}, gid ${w.user.gid}), ${w.need} ${w.target}: ${w.deniedAt ? s.red(`refused at ${w.deniedAt}`) : s.green("allowed")}`,
  ];
  for (const c of w.components) {
    const owner = c.uid === null ? "" : ` ${c.uid}:${c.gid}`;
    out.push(
      `  ${c.ok ? s.green("ok") : s.red("no")} ${c.mode ?? "?"}${owner} ${c.path} ${s.dim(`(${c.reason})`)}`,
    );
  }
  for (const m of w.mac) out.push(`  ${s.yellow("Note")} ${m}`);
  if (w.fix.length) {
    out.push(s.bold("File-system fix"));
    for (const [i, f] of w.fix.entries()) out.push(`  ${i + 1}. ${f}`);
  }
  return `${out.join("\n")}\n`;
}

function renderDecision(d: ConfigDecision, s: ReturnType<typeof makeStyle>): string {
  const out: string[] = [];
  const verdict =
    d.decision === "allow"
      ? s.green("allowed")
      : d.decision === "deny"
        ? s.red(`refused (${d.status ?? 403})`)
        : s.yellow("unknown");
  out.push(
    `${s.bold("why403 config")}: ${d.request.method} ${d.request.url}${d.request.client ? ` from ${d.request.client}` : ""} → ${verdict}`,
  );
  for (const c of d.context)
    out.push(`  ${s.dim(`${c.file}:${c.line}`)} ${c.block}${c.args?.length ? ` ${c.args.join(" ")}` : ""}`);
  if (d.decidedBy) {
    out.push(
      `${s.bold("Decided by")} ${d.decidedBy.directive} ${d.decidedBy.args.join(" ")} ${s.dim(`at ${d.decidedBy.file}:${d.decidedBy.line}`)}`,
    );
  }
  if (d.cause) out.push(`${s.bold("Cause")} ${d.cause}`);
  for (const u of d.unknowns) out.push(`${s.yellow("Unknown")} ${u}`);
  if (d.fix.length) {
    out.push(s.bold("Fix"));
    for (const [i, f] of d.fix.entries()) out.push(`  ${i + 1}. ${f}`);
  }
  return `${out.join("\n")}\n`;
}
