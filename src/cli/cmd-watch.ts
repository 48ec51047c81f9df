// why403 watch <file…>: follow logs, classify denials as they arrive, serve /metrics.
import { statSync } from "node:fs";
import { UsageError } from "../errors.js";
import { quoteArgument } from "../redact.js";
import { parseArgs } from "./args.js";
import { noColor } from "./common.js";
import { colourWanted, makeStyle } from "./terminal.js";

export async function cmdWatch(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, {
    listen: { kind: "string" },
    "from-start": { kind: "boolean" },
    "json-lines": { kind: "boolean" },
    "join-window": { kind: "number" },
    poll: { kind: "number" },
    "no-color": { kind: "boolean" },
    color: { kind: "boolean" },
    debug: { kind: "boolean" },
  });
  if (rest.length === 0)
    throw new UsageError("missing log files: why403 watch /var/log/nginx/access.log error.log");
  const { isCompressedName } = await import("../watch/follow.js");
  const { parseListen, serveMetrics, addressOf } = await import("../watch/server.js");
  const { DenialWatch } = await import("../watch/watch.js");
  const listen = parseListen(typeof flags.listen === "string" ? flags.listen : "127.0.0.1:9403");
  if (!listen) throw new UsageError(`--listen needs HOST:PORT, got ${quoteArgument(String(flags.listen))}`);
  const poll = positive(flags.poll, "--poll");
  const joinWindow = positive(flags["join-window"], "--join-window");
  const say = (m: string) => process.stderr.write(`why403 watch: ${m}\n`);
  const files = rest.filter((p) => {
    if (!isCompressedName(p)) return true;
    say(`${p}: compressed (a rotated copy), not followed`);
    return false;
  });
  if (files.length === 0)
    throw new UsageError("no plain log file to follow (compressed files are not followed)");
  for (const p of files) {
    // A missing file is waited for; a directory or device never becomes a log.
    const st = statSync(p, { throwIfNoEntry: false });
    if (st && !st.isFile()) throw new UsageError(`not a regular file: ${quoteArgument(p)}`);
  }
  const jsonLines = flags["json-lines"] === true;
  const watch = new DenialWatch(files, {
    fromStart: flags["from-start"] === true,
    pollMs: poll,
    joinWindowMs: joinWindow,
    onNotice: say,
    onDenial: jsonLines ? (entry) => process.stdout.write(`${JSON.stringify(entry)}\n`) : undefined,
  });
  const server = await serveMetrics(listen, () => watch.metrics.render());
  const address = addressOf(server);
  // The first read (which notes where each existing file ends) comes before the
  // announcement: lines written after it are never skipped.
  await watch.start();
  say(`following ${files.length} file(s); metrics on http://${address}/metrics`);
  const view =
    !jsonLines && process.stdout.isTTY ? await liveView(watch, address, files.length, flags) : null;
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
  if (view) clearInterval(view);
  await watch.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  say(`stopped after ${watch.metrics.total()} denial(s)`);
  return 0;
}

async function liveView(
  watch: import("../watch/watch.js").DenialWatch,
  address: string,
  files: number,
  flags: Record<string, unknown>,
): Promise<NodeJS.Timeout> {
  const { renderLiveView, REDRAW } = await import("../watch/live-view.js");
  const style = makeStyle(colourWanted(process.stdout, noColor(flags as never)));
  const draw = () => {
    const lines = renderLiveView(
      {
        recent: watch.recent.view(),
        total: watch.metrics.total(),
        lines: watch.linesRead(),
        files,
        listen: address,
      },
      style,
      process.stdout.columns ?? 80,
    );
    process.stdout.write(`${REDRAW}${lines.join("\n")}\n`);
  };
  draw();
  return setInterval(draw, 1000);
}

function positive(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0)
    throw new UsageError(`${flag} needs a number of milliseconds above 0`);
  return v;
}
