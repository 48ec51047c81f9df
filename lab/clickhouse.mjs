// A private clickhouse-server for tests and the bench: its own config, data
// directory and users under `dir`, listening on 127.0.0.1 on free ports only.
// Debian 12 ships ClickHouse 18.16, whose config root element is <yandex>.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";

/** Debian installs it in /usr/sbin; CLICKHOUSE_SERVER overrides. */
export const CLICKHOUSE_BIN =
  process.env.CLICKHOUSE_SERVER ??
  ["/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"].find((p) => existsSync(p)) ??
  "clickhouse-server";

/** True when the server binary is installed (lab/install.sh installs it). */
export function clickhouseInstalled() {
  return existsSync(CLICKHOUSE_BIN);
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function config(dir, http, tcp) {
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/server.err.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${http}</http_port>
  <tcp_port>${tcp}</tcp_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>20</max_concurrent_queries>
</yandex>
`;
}

function users(password) {
  return `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage><max_threads>2</max_threads><log_queries>1</log_queries></default></profiles>
  <users>
    <default>
      <password>${password}</password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;
}

/**
 * Starts clickhouse-server in `dir` (wiped first). Resolves when it answers
 * `SELECT 1`; `stop()` kills it (by its pid) and waits for it to exit.
 */
export async function startClickHouse({ dir, password = "" }) {
  const root = resolve(dir);
  rmSync(root, { recursive: true, force: true });
  for (const d of ["data", "tmp", "user_files", "format_schemas"])
    mkdirSync(join(root, d), { recursive: true });
  const http = await freePort();
  const tcp = await freePort();
  writeFileSync(join(root, "config.xml"), config(root, http, tcp));
  writeFileSync(join(root, "users.xml"), users(password));
  const child = spawn(CLICKHOUSE_BIN, [`--config-file=${join(root, "config.xml")}`], {
    cwd: root,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const spawnError = new Promise((_, rej) => child.once("error", rej));
  spawnError.catch(() => {});
  let stderr = "";
  child.stderr.on("data", (d) => {
    if (stderr.length < 4000) stderr += d;
  });
  const exited = new Promise((res) => child.once("exit", res));
  const url = `http://127.0.0.1:${http}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`clickhouse-server exited: ${stderr.slice(0, 500)}`);
    try {
      const auth = password ? `&password=${encodeURIComponent(password)}` : "";
      const r = await fetch(`${url}/?query=SELECT%201${auth}`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error("clickhouse-server did not answer within 30 s");
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, pid: child.pid, dir: root, stop };
}
