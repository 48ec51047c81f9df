// A generated table of raw log lines, made inside ClickHouse with numbers() (fast:
// no rows cross the wire), and the export of each source to a file so that the
// local path reads the very same lines. Used by the ClickHouse test and the bench.
//
// One source (a mixed log: the error lines of a request, then its access line,
// as nginx writes them); one request a row of numbers(); about 200 requests a
// second; the client is unique within a few seconds, so that every join has one
// right answer. Per
// 100 requests (r = number % 100), with `refusedPct` of them refused:
//   r < k          refused; the kind cycles through:
//     0  403 + nginx "access forbidden by rule"         (ip-restriction)
//     1  429 + nginx "limiting requests"                 (rate-limit)
//     2  401, access line only                           (credentials-invalid)
//     3  403 + ModSecurity Warning + Access denied lines sharing a unique_id (waf)
//     4  403 + nginx "(13: Permission denied)"           (fs-permission)
//   r = 99         200 + a ModSecurity Warning only (detection, not a denial)
//   the rest       200 (and every 50th request an nginx [notice] line)
import { createWriteStream } from "node:fs";
import { request } from "node:http";
import { pipeline } from "node:stream/promises";

const BASE_SEC = Math.floor(Date.UTC(2026, 0, 5) / 1000);

/** One statement over the HTTP interface; resolves to the response (streamed to `file` when given). */
function query(url, sql, { password = "", file } = {}) {
  const u = new URL(url);
  if (password) u.searchParams.set("password", password);
  return new Promise((resolve, reject) => {
    const req = request(u, { method: "POST" }, (res) => {
      if (res.statusCode !== 200) {
        let text = "";
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => reject(new Error(`ClickHouse: ${text.slice(0, 500)}`)));
        return;
      }
      if (file) {
        pipeline(res, createWriteStream(file)).then(() => resolve(""), reject);
        return;
      }
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        text += d;
      });
      res.on("end", () => resolve(text));
    });
    req.on("error", reject);
    req.end(sql);
  });
}

/** The INSERTs that fill `table` (source, n, line) with `requests` requests, all with the source `path`. */
export function generationSql({ table, requests, refusedPct, path, timeZone }) {
  const q = (s) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  const tz = q(timeZone);
  // Columns of request i: second, client, path, kind.
  const req = `
    number AS i,
    toDateTime(${BASE_SEC} + intDiv(i, 200)) AS t,
    concat('10.', toString(i % 250), '.', toString(intDiv(i, 250) % 250), '.', toString(intDiv(i, 62500) % 250)) AS client,
    arrayElement(['/api/orders', '/api/items', '/login', '/admin/settings', '/upload'], (i % 5) + 1) AS path,
    arrayElement(['POST', 'GET', 'POST', 'PUT'], (intDiv(i, 7) % 4) + 1) AS method,
    i % 100 AS r,
    if(r < ${refusedPct}, toInt32(intDiv(i, 100) % 5), if(r = 99, 9, -1)) AS kind,
    multiIf(kind IN (0, 3, 4), 403, kind = 1, 429, kind = 2, 401, 200) AS status,
    concat(formatDateTime(t, '%d', 'UTC'), '/Jan/2026:', formatDateTime(t, '%H:%M:%S', 'UTC'), ' +0000') AS clf,
    formatDateTime(t, '%Y/%m/%d %H:%M:%S', ${tz}) AS nt,
    concat('uid', toString(i)) AS uid`;
  const access = `concat(client, ' - - [', clf, '] "', method, ' ', path, ' HTTP/1.1" ', toString(status), ' 153 "-" "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"')`;
  const ctx = `concat(', client: ', client, ', server: shop.test, request: "', method, ' ', path, ' HTTP/1.1", host: "shop.test"')`;
  const crs = (action, id, msg) =>
    `concat(nt, ' [error] 12#12: *', toString(i), ' [client ', client, '] ModSecurity: ${action} [file "/usr/share/modsecurity-crs/rules/x.conf"] [line "1"] [id "${id}"] [msg "${msg}"] [hostname "shop.test"] [uri "', path, '"] [unique_id "', uid, '"]', ${ctx})`;
  // One INSERT per kind of line: a multiIf over arrays of lines is very slow in 18.16.
  const lines = [
    [0, "kind = 0", `concat(nt, ' [error] 12#12: *', toString(i), ' access forbidden by rule', ${ctx})`],
    [
      0,
      "kind = 1",
      `concat(nt, ' [error] 12#12: *', toString(i), ' limiting requests, excess: 10.500 by zone "api"', ${ctx})`,
    ],
    [
      0,
      "kind = 3",
      crs(
        "Warning. detected SQLi using libinjection.",
        "942100",
        "SQL Injection Attack Detected via libinjection",
      ),
    ],
    [
      1,
      "kind = 3",
      crs(
        "Access denied with code 403 (phase 2). Operator GE matched 5 at TX:anomaly_score.",
        "949110",
        "Inbound Anomaly Score Exceeded (Total Score: 5)",
      ),
    ],
    [
      0,
      "kind = 4",
      `concat(nt, ' [error] 12#12: *', toString(i), ' open() "/srv/www', path, '" failed (13: Permission denied)', ${ctx})`,
    ],
    [
      0,
      "kind = 9",
      crs("Warning. detected XSS using libinjection.", "941100", "XSS Attack Detected via libinjection"),
    ],
    [0, "kind = -1 AND i % 50 = 0", "concat(nt, ' [notice] 12#12: signal process started')"],
    [2, "1", access],
  ];
  return lines.map(
    ([offset, where, line]) => `INSERT INTO ${table} (source, n, line)
      SELECT ${q(path)}, toUInt64(i * 3 + ${offset + 1}), ${line} FROM (SELECT ${req} FROM numbers(${requests})) WHERE ${where}`,
  );
}

/** Creates `table` and fills it; returns the number of rows. */
export async function generateTable(url, opts) {
  await query(url, `DROP TABLE IF EXISTS ${opts.table}`, opts);
  await query(
    url,
    `CREATE TABLE ${opts.table} (source String, n UInt64, line String) ENGINE = MergeTree ORDER BY (source, n)`,
    opts,
  );
  for (const sql of generationSql(opts)) await query(url, sql, opts);
  return Number((await query(url, `SELECT count() FROM ${opts.table}`, opts)).trim());
}

/** Writes the lines of one source, in order, to `file` (as the server wrote its log). */
export async function exportSource(url, { table, source, file, password }) {
  const q = `SELECT line FROM ${table} WHERE source = '${source.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}' ORDER BY n FORMAT TSVRaw`;
  await query(url, q, { password, file });
}
