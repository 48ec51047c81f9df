// why403 demo: start the embedded lab, diagnose each refusal, print a line each.
import { startDemoLab } from "../demo/demo-servers.js";
import { parseArgs } from "./args.js";
import { noColor } from "./common.js";
import { colourWanted, makeStyle, ProgressLine } from "./terminal.js";

export async function cmdDemo(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, {
    json: { kind: "boolean" },
    "no-color": { kind: "boolean" },
    color: { kind: "boolean" },
    debug: { kind: "boolean" },
    verbose: { kind: "boolean", short: "v" },
  });
  const s = makeStyle(colourWanted(process.stdout, noColor(flags)));
  const { parseCurlArgs } = await import("../request/curl.js");
  const { diagnose } = await import("../diagnose/index.js");
  const { renderText } = await import("../report/text.js");
  const lab = await startDemoLab();
  const progress = new ProgressLine();
  const reports: unknown[] = [];
  let right = 0;
  try {
    if (!flags.json)
      process.stdout.write(
        `${s.bold("why403 demo")}: lab on ${lab.url}, ${lab.scenarios.length} refusals to diagnose\n\n`,
      );
    for (const sc of lab.scenarios) {
      const before = lab.ledger.length;
      const report = await diagnose(
        { request: parseCurlArgs(sc.curl) },
        {
          maxProbes: 30,
          allowSideEffects: false,
          timeoutMs: 5000,
          rate: 50,
          requestId: true,
          onProgress: (p) =>
            progress.update(
              `${sc.id}: ${p.experiment} · ${p.probesSent} probes · leading: ${p.leading ?? "—"}`,
            ),
        },
      );
      progress.clear();
      const executed = lab.ledger.length - before;
      const got = report.verdict?.cause ?? "no verdict";
      const ok = got === sc.expected;
      if (ok) right++;
      reports.push({ scenario: sc.id, expected: sc.expected, executed, report });
      if (flags.json) continue;
      const mark = ok ? s.green("✓") : s.red("✗");
      const conf = report.verdict ? ` ${s.dim(`${Math.round(report.verdict.confidence * 100)}%`)}` : "";
      const trig = report.trigger
        ? ` ${s.dim("trigger")} ${report.trigger.location} ${report.trigger.name ?? ""} ${s.cyan(JSON.stringify(report.trigger.minimal))}`
        : "";
      process.stdout.write(
        `${mark} ${sc.title}\n    ${report.target.method} ${new URL(report.target.url).pathname} → ${report.baseline.status}: ${s.yellow(got)}${conf}${trig}\n    ${s.dim(`${report.probes.length} probes, ${report.sideEffects.unsafeProbes} unsafe, ${executed} executed by the app`)}\n`,
      );
      if (report.verdict?.fix[0])
        process.stdout.write(`    ${s.dim("fix:")} ${report.verdict.fix[0].split("\n")[0]}\n`);
      if (flags.verbose) process.stdout.write(`\n${renderText(report, s)}\n`);
    }
  } finally {
    progress.clear();
    await lab.close();
  }
  if (flags.json) process.stdout.write(`${JSON.stringify({ scenarios: reports }, null, 2)}\n`);
  else
    process.stdout.write(
      `\n${right}/${lab.scenarios.length} diagnosed as expected. Try one yourself: why403 curl <your request>\n`,
    );
  return 0;
}
