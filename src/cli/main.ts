// The why403 command: dispatch, exit codes, and one-line errors.
import { isInputError } from "../errors.js";
import { quoteArgument, redactText } from "../redact.js";
import { COMMAND_HELP, MAIN_HELP, VERSION } from "./help.js";
import { checkWritable } from "./output-file.js";

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  curl: async () => (await import("./cmd-curl.js")).cmdCurl,
  har: async () => (await import("./cmd-recorded.js")).cmdHar,
  response: async () => (await import("./cmd-recorded.js")).cmdResponse,
  logs: async () => (await import("./cmd-logs.js")).cmdLogs,
  ship: async () => (await import("./cmd-ship.js")).cmdShip,
  config: async () => (await import("./cmd-config.js")).cmdConfig,
  demo: async () => (await import("./cmd-demo.js")).cmdDemo,
  watch: async () => (await import("./cmd-watch.js")).cmdWatch,
  matrix: async () => (await import("./cmd-matrix.js")).cmdMatrix,
  compare: async () => (await import("./cmd-compare.js")).cmdCompare,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? rest[0] : undefined;
    process.stdout.write(topic && COMMAND_HELP[topic] ? COMMAND_HELP[topic] : MAIN_HELP);
    return 0;
  }
  if (name === "--version" || name === "-V") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`why403: unknown command ${quoteArgument(name)} (try: why403 --help)\n`);
    return 2;
  }
  if (name !== "curl" && (rest.includes("--help") || rest.includes("-h"))) {
    process.stdout.write(COMMAND_HELP[name] ?? MAIN_HELP);
    return 0;
  }
  if (name === "curl" && (rest.length === 0 || (rest.length === 1 && rest[0] === "--help"))) {
    // Usage asked for goes to stdout; usage as an error (nothing to diagnose) to stderr.
    (rest.length === 0 ? process.stderr : process.stdout).write(COMMAND_HELP.curl!);
    return rest.length === 0 ? 2 : 0;
  }
  const debug = rest.includes("--debug") || process.env.WHY403_DEBUG === "1";
  try {
    // An output file that cannot be written fails now, before any request is sent.
    const html = rest.findIndex((a) => a === "--html" || a.startsWith("--html="));
    if (html !== -1) {
      const value = rest[html]!.startsWith("--html=") ? rest[html]!.slice(7) : rest[html + 1];
      if (value) checkWritable(value, "--html");
    }
    return await (await load())(rest);
  } catch (err) {
    if (isInputError(err)) {
      process.stderr.write(`why403: ${oneLine(err.message)}\n`);
      return err.exitCode;
    }
    if (debug) process.stderr.write(`${redactText((err as Error)?.stack ?? String(err))}\n`);
    else
      process.stderr.write(
        `why403: internal error: ${oneLine(String((err as Error)?.message ?? err))} (run with --debug for details)\n`,
      );
    return 70;
  }
}

/** The message as one line, with any secret it quotes redacted (the last guard before the terminal). */
function oneLine(s: string): string {
  const flat = redactText(s.replace(/\s*\n\s*/g, " ").trim());
  return flat.length > 400 ? `${flat.slice(0, 399)}…` : flat;
}
