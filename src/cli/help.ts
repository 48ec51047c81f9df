// --help texts, with examples, per command.
/** Set from package.json by scripts/build.mjs (esbuild define); absent when run from source. */
declare const __WHY403_VERSION__: string | undefined;
export const VERSION = typeof __WHY403_VERSION__ === "string" ? __WHY403_VERSION__ : "0.0.0-source";

export const MAIN_HELP = `why403 ${VERSION} — find out why an HTTP request is refused (403, 401, 419, 429) and how to fix it

Usage
  why403 curl <curl arguments…>      replay a request (as "Copy as cURL" gives it), probe safely, diagnose
  why403 har <file.har>              diagnose a refusal recorded in a HAR file (offline; --live to probe)
  why403 response <file>             diagnose a saved raw response (curl -si output)
  why403 logs <file|dir…>            find and classify the denials in web server, WAF and app logs
  why403 logs --clickhouse URL --table T   the same, inside ClickHouse, on a table of raw log lines
  why403 ship <file…> --clickhouse URL --table T   load log files into such a table
  why403 config nginx|apache …       evaluate a server config for one request
  why403 demo                        start the built-in local lab and diagnose each of its refusals
  why403 watch <file…>               follow logs (rotation-safe), classify denials live, serve Prometheus /metrics
  why403 compare <curl…> --with URL  diagnose the same request in several environments, side by side
  why403 matrix <file.yaml|json>     check who may do what (identities × requests) against a live service, for CI

Common options
  --json                 the report as JSON (schema why403.report/v1) on stdout, nothing else
  --markdown             the report as Markdown, for a ticket
  --html FILE            also write a self-contained HTML report
  --max-probes N         most requests sent, the replay included (default 30)
  --allow-side-effects   allow probes the application could execute (off: only the one replay may reach app code)
  --max-unsafe N         with --allow-side-effects, most such probes (default 10; each may create a record)
  --timeout MS           per-request timeout (default 10000)
  --no-color             plain output (NO_COLOR is honoured too)
  --debug                stack traces for unexpected errors

Examples
  why403 curl 'https://shop.example/api/orders' -X POST -H 'content-type: application/json' --data-raw '{"qty":1}'
  why403 har ~/Downloads/shop.example.har --match /checkout
  curl -si https://shop.example/upload -F file=@a.png > saved.http; why403 response saved.http
  why403 logs /var/log/apache2/error.log /var/log/apache2/access.log --json
  why403 config nginx --conf /etc/nginx/nginx.conf --request 'POST http://shop.example/admin/x' --client 10.0.0.7

Exit status: 0 a cause was found · 1 refused, cause not pinned · 2 bad usage or input · 3 the request was not refused
             · 4 no usable answer from the server (reset, timeout, malformed answer, TLS failure; --json still prints a report)
`;

export const COMMAND_HELP: Record<string, string> = {
  curl: `Usage: why403 curl <curl arguments…> [why403 options]

Replays the request once, then runs probes that cannot execute the request's action
until one cause is clear: GET, HEAD and OPTIONS (without method-override fields), and
your request on a decoy path under /.well-known/why403/ only after GET and OPTIONS
there got the web server's own error page (no application answers that path; with
your query string only if that shape was shown too). A POST or other non-safe request
is first sent as its safe projection: its headers and query as a bodiless GET on the
decoy (safe on any path); refused the same way, the search runs there with GETs only.
Where no decoy is shown inert, the body is not searched and the report says what that
would need. With -L, a redirect
hop that would re-send a POST or a body (307/308, or -X) is not followed without
--allow-side-effects; the report names the hop. Paste the arguments exactly as
"Copy as cURL" gives them, or pass the whole command line as one quoted string, or
"-" to read it from stdin.
The trigger search covers body fields, query parameters (names and values), fields
without "=", each header (Content-Type included), cookies, the path (moved under the
decoy prefix, sent with GET) and the method (GET on the decoy, or on the URL for a
bodiless request).

Options: --json --markdown --html FILE --max-probes N --timeout MS
         --allow-side-effects (probes the app could execute: the original path, a decoy
         not shown inert, redirect hops re-sending the body; each counted in sideEffects)
         --max-unsafe N (with --allow-side-effects: at most N such probes, default 10)
         --rate N (requests per second, default 5) --no-request-id (omit X-Request-Id)
         --server-logs FILE (repeat it, or FILE,FILE) --nginx-conf FILE --apache-conf FILE
         --client IP (default: the local address for a target on this machine)
         --fs-user USER (walk the file's path permissions as that user; default: the config's user)

Examples
  why403 curl 'https://api.example/items' -X POST -H 'authorization: Bearer eyJ…' --data-raw '{"a":1}'
  why403 curl "curl 'https://app.example/form' --data-raw 'q=1'" --json
  pbpaste | why403 curl -
  why403 curl http://127.0.0.1:8080/upload -d x=1 --server-logs /var/log/nginx/error.log
`,
  har: `Usage: why403 har <file.har> [--entry N] [--match TEXT] [--live] [--list]

Diagnoses one entry of a HAR file (DevTools → Network → "Save all as HAR").
Default entry: the last one answered 401, 403, 419 or 429. Offline unless --live.

Options: --entry N (0-based, see --list) --match TEXT (URL substring) --live --list
         --json --markdown --html FILE --server-logs FILE… --nginx-conf FILE --apache-conf FILE
         --client IP --fs-user USER

Examples
  why403 har capture.har
  why403 har capture.har --match /api/orders --json
  why403 har capture.har --entry 12 --live --max-probes 15
`,
  response: `Usage: why403 response <file> [--request-curl 'curl …']

Diagnoses a saved raw HTTP response: status line, headers, blank line, body, as
"curl -si" or "curl -v" write it (several responses in one file are fine).

Examples
  curl -si -X POST https://api.example/items -d a=1 > saved.http; why403 response saved.http
  why403 response saved.http --request-curl "curl https://api.example/items -d a=1" --json
`,
  logs: `Usage: why403 logs <file|dir…> [--json] [--since T] [--until T] [--status 403,429] [--path P] [--limit N]
                          [--nginx-conf FILE | --apache-conf FILE] [--tz ZONE] [--html FILE]
       why403 logs --clickhouse URL --table NAME [--line-column line] [--time-column time] [same filters]

Finds the denials in server, proxy, WAF and application logs and classifies each to a
cause. Every line is recognised on its own, after peeling syslog (RFC 3164/5424),
journald, Docker/Kubernetes {"log":…}, CRI and heroku logs' envelopes:
  nginx/Apache access (combined, common, vhost_combined, custom log_format/LogFormat),
  Apache 2.2/2.4 and nginx error logs (naxsi too), HAProxy HTTP/TCP, Squid, lighttpd,
  Caddy JSON, Traefik JSON, Envoy (text and JSON), IIS and other W3C logs (CloudFront;
  columns from #Fields:), ModSecurity v2/v3 and Coraza (lines and audit logs),
  morgan, Hono's logger, Uvicorn, Werkzeug, Django's runserver, uWSGI, PHP-FPM's access
  log, oauth2-proxy, Gin, go-chi, mod_evasive, fail2ban,
  CrowdSec, Rails/Django/Laravel/Symfony/Spring/ASP.NET Core/Express/Flask-Limiter/PHP-FPM
  refusal lines (plain or inside JSON), JSON-lines and logfmt
  application logs (business-rule refusals: app-logic); cloud logs: AWS WAF (v2) JSON,
  AWS Application Load Balancer access logs, Google Cloud load-balancer request logs
  with Cloud Armor, Cloudflare Logpush http_requests JSON, Azure Application Gateway /
  Front Door WAF logs, Akamai DataStream 2 JSON, Vercel log drains (the WAF's deciding
  rule is the entry's rule).
Unknown lines stay unknown. The README lists what each refusal message becomes.
Several files are read together, in step by time, so that the lines one request left in
the access, error and WAF logs are joined and counted once.
"-" reads stdin; .gz files are read as they are; a directory stands for the files in it
(not hidden ones or subdirectories). WHY403_LOG_WORKERS=N reads a plain
file over 16 MiB with N worker threads over byte ranges (same report; one thread is the
default: it was faster on the machine measured). On a terminal, a progress line on
stderr shows the bytes read, lines per second and denials so far.

  --nginx-conf/--apache-conf  custom log formats, and the config decides whether
                              "access forbidden by rule"/AH01630 was an address rule
                              (ip-restriction) or a blanket deny (server-config); without
                              it, other clients allowed on the same path in the same logs
                              mean an address rule, every client refused a blanket deny
  --tz ZONE                   the zone the server wrote zoneless stamps in (nginx and
                              Apache error logs): an IANA name (Europe/Berlin) or an
                              offset (+02:00). Without it: the offset the logs' own
                              access stamps show ([26/Nov/2026:05:00:00 +0200]) when the
                              machine's zone differs, else the machine's; the report
                              says which ("stampZone")

With --clickhouse, the rows of a ClickHouse table of raw log lines (a String column
"line", optionally "source" and "time") are classified inside ClickHouse by a query
generated from the same rule files (data/logs/): only the counts and --limit example rows
leave the server, and the JSON says "engine": "clickhouse". Credentials: the URL's
user:password, or CLICKHOUSE_USER / CLICKHOUSE_PASSWORD. ClickHouse reads nginx/Apache
access and error lines (and their refusal messages), ModSecurity/Coraza lines, and every
regex format of data/logs/formats (HAProxy, Squid, lighttpd, Envoy, IIS default order,
vhost-first access lines, AWS ALB, mod_evasive and fail2ban messages), also inside one
syslog/journald-export/CRI/heroku envelope; JSON lines (Caddy, Traefik, AWS WAF, Google
Cloud, Cloudflare, Azure, Docker/journald JSON envelopes included), logfmt lines, W3C lines
under a #Fields: list other than IIS's default and multi-line audit records are not classified
there: a file holding them says so, with their counts, in its summary's warning.
--nginx-conf/--apache-conf are not read with --clickhouse.

Examples
  why403 logs /var/log/nginx/access.log /var/log/nginx/error.log
  why403 logs /var/log/nginx/*.log --nginx-conf /etc/nginx/nginx.conf
  why403 logs /var/log/nginx/ --since 2026-11-26T00:00:00Z     # every file in the directory, rotated .gz ones too
  why403 logs copied/error.log copied/access.log --tz Europe/Berlin
  why403 logs /var/log/apache2/error.log --status 403 --since 2026-11-26T05:00:00Z --json
  journalctl -u haproxy -o json | why403 logs -
  zcat old.log.gz | why403 logs -
  why403 logs --clickhouse http://127.0.0.1:8123 --table weblogs --json
  CLICKHOUSE_PASSWORD=… why403 logs --clickhouse https://reader@ch.internal:8443/logs --table nginx --time-column ts --since 2026-11-26T00:00:00Z
`,
  ship: `Usage: why403 ship <file|dir…> --clickhouse URL --table NAME [--line-column line]

Loads log files into a ClickHouse table of raw lines, one row per line: source (the
path as given), n (its line number) and line. Creates the table (MergeTree, ordered by
source and n) when it is missing. "-" reads stdin; .gz files are read as they are.
Then "why403 logs --clickhouse URL --table NAME" classifies them inside ClickHouse.

Examples
  why403 ship /var/log/nginx/access.log /var/log/nginx/error.log --clickhouse http://127.0.0.1:8123 --table weblogs
  zcat access.log.1.gz | why403 ship - --clickhouse http://user:secret@127.0.0.1:8123/logs --table nginx
`,
  watch: `Usage: why403 watch <file…> [--listen HOST:PORT] [--from-start] [--json-lines]

Follows each file like tail -F (rename rotation, copytruncate, files that appear
later; compressed rotated copies are not read), classifies every new line exactly as
"why403 logs" does, joins the lines of one request across files (--join-window MS,
default 2000) and counts each denial once. Serves on --listen (default 127.0.0.1:9403):
  GET /metrics   Prometheus text format: why403_denials_total{cause,layer,product,status},
                 why403_denials_by_method_total{cause,method}, why403_rule_hits_total{rule}
                 (first 200 rule ids, then rule="other"), why403_rule_hits_by_method_total,
                 why403_lines_total{source,format}, why403_distinct_clients{cause} (last 5 min)
  GET /healthz   200
On a terminal: a live view (denials/s by cause, top rules and paths of the last minute),
redrawn every second. --json-lines prints each classified denial as one JSON line
(a "why403 logs" entry) instead. Ctrl-C stops. Alert rules: alerts/why403.rules.yml.

Options
  --from-start     read what the files already hold first (default: only new lines)
  --poll MS        how often the files are checked (default 100)

Examples
  why403 watch /var/log/nginx/access.log /var/log/nginx/error.log
  why403 watch /var/log/apache2/error.log /var/log/app/denials.jsonl --listen 0.0.0.0:9403
  why403 watch access.log --from-start --json-lines | jq .cause
`,
  config: `Usage: why403 config nginx|apache --conf FILE --request 'METHOD URL' [--client IP] [-H 'Name: value'] [--fs-user USER] [--prefix DIR]

Evaluates a server config for one request: which server/vhost and location/sections
apply and which directive allows or refuses it, with file:line and the smallest fix.

Options: --prefix DIR   nginx only: nginx's -p prefix, against which relative root/alias
                        paths such as \`root html;\` resolve (default /usr/share/nginx)
         -H 'Authorization: Basic …' or user:pass@ in the URL: Basic credentials are
                        checked against auth_basic_user_file / AuthUserFile (bcrypt,
                        APR1-MD5, {SHA}, crypt); the password is never printed
Exit: 0 decided (allow or deny), 1 unknown, 2 bad input

Examples
  why403 config nginx --conf nginx-1.26/conf/nginx.conf --prefix nginx-1.26 --request 'GET http://localhost/'
  why403 config nginx --conf /etc/nginx/nginx.conf --request 'POST http://alice:pw@shop.test/admin/x'
  why403 config nginx --conf /etc/nginx/nginx.conf --request 'POST http://shop.test/admin/x' --client 10.0.0.7
  why403 config apache --conf /etc/apache2/apache2.conf --request 'GET http://shop.test/private/' --json
`,
  demo: `Usage: why403 demo [--json]

Starts a small lab on random 127.0.0.1 ports (no external programs needed), diagnoses
each of its refusals with the same engine as "why403 curl", prints one line per
scenario and stops the lab.
`,
  compare: `Usage: why403 compare <curl arguments…> --with <base URL> [--with …] [--carry-credentials]

Diagnoses the same request at its own origin and at each --with base (scheme, host
and port replaced; path, query, method, headers and body kept), with the same engine
and safety rules as "why403 curl": the replay is sent once in each environment.
Prints the environments side by side (status, who answered, cause, trigger) and
each difference as a sentence that says what it suggests.

Credentials (Authorization, Cookie, API-key and token headers, URL userinfo, token
query parameters) go only to the origin the curl line targets; --carry-credentials
sends them to every --with base too (only for bases you trust with them).

Options: --with URL (repeat) --carry-credentials --json (schema why403.compare/v1)
         --html FILE --max-probes N --allow-side-effects --timeout MS --rate N --no-request-id

Examples
  why403 compare 'https://api.example/orders' -X POST -H 'content-type: application/json' \
      --data-raw '{"note":"select from the menu"}' --with https://staging.example --with http://localhost:8080
  why403 compare 'https://api.example/admin/' --with https://staging.example --json
  why403 compare "curl 'https://api.example/me' -H 'authorization: Bearer …'" \
      --with https://staging.example --carry-credentials --html compare.html

Exit status: 0 same outcome everywhere · 1 outcomes differ · 2 bad usage · 4 an environment gave no usable answer
`,
  matrix: `Usage: why403 matrix <file.yaml|json> [--junit FILE] [--json] [--allow-side-effects]

Sends each check once per identity and compares the answer with the expectation:
2xx/3xx is "allow", 401/403/405/419/429/451 or a recognised block page is "deny"
(with the cause diagnosed from the answer alone: no probes), anything else an error.
Checks with a method other than GET, HEAD or OPTIONS are skipped unless
--allow-side-effects is given: point the matrix at staging, not production.

File (YAML or JSON; \${NAME} is read from the environment, and an unset or empty
variable is an error):
  base: https://staging.example
  identities:
    anonymous: {}
    viewer: { headers: { Authorization: "Bearer \${VIEWER_TOKEN}" } }
    admin:  { cookies: { session: "\${ADMIN_SESSION}" } }
    robot:  { query: { api_key: "\${ROBOT_KEY}" } }
  checks:
    - request: GET /api/projects
      allow: [viewer, admin]          # every other identity must be refused
    - request: POST /api/projects
      headers: { content-type: application/json }
      body: '{"name":"x","description":"select the columns you need"}'
      allow: [admin]

Options: --junit FILE (JUnit XML for GitHub Actions, GitLab, Jenkins) --json (why403.matrix/v1)
         --allow-side-effects --rate N (requests per second, default 5) --concurrency N (default 2)
         --timeout MS --no-request-id --server-logs FILE… (name the WAF rule behind a refusal,
         found by each cell's X-Request-Id, e.g. Apache's error log with ModSecurity's audit log)

Examples
  why403 matrix authz.yaml
  VIEWER_TOKEN=… ADMIN_TOKEN=… why403 matrix authz.yaml --junit matrix.xml
  why403 matrix authz.yaml --allow-side-effects --json > matrix.json

Exit status: 0 every cell as expected (skipped cells aside) · 1 some not · 2 bad usage or file
`,
};
