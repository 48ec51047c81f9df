// Fits the weights of value observations and writes data/observations.json.
//
//   npx tsx scripts/fit-observations.ts            # print the figures
//   npx tsx scripts/fit-observations.ts --write    # also write data/observations.json
//
// credential-value: "the part a refusal keys on is a credential by its value's shape".
// Its weight toward credentials-invalid is the log-likelihood ratio (natural log, the
// scale the verdict's softmax sums) of that observation between parts that are
// credentials and parts that are not:
//   credentials  — the Authorization values the generated space sends (its JWTs, good,
//                  expired, re-signed, scope-less, and Basic pairs), the Authorization and
//                  Proxy-Authorization values of the public curl lines and HARs in
//                  /work/shared/realworld (read at fit time, never copied), and session
//                  ids in the formats the common frameworks issue (generated here:
//                  express-session, Django, PHP, Flask, Rails, random hex/base64url);
//   other parts  — the values the generated space's header rules and Origin checks key
//                  on, every header and cookie value of the OWASP CRS 3.3.4 regression
//                  requests (what a WAF keys on), and the values of headers that carry no
//                  credential (Accept*, User-Agent, Referer, Origin, Content-Type, sec-*,
//                  Cache-Control, Host …) in the public curl lines and HARs.
// Items fall in a fit half or a held-out half by their value's hash; the entropy share is chosen on
// the fit half (largest sensitivity minus false-positive rate), the rates are reported on
// both (the share of mixed letter-and-digit pieces, 0.5, is fixed in the module). Labels here use the protocol's own credential fields; the engine never sees them.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT } from "jose";
import { parse as parseYaml } from "yaml";
// @ts-expect-error: a plain .mjs module without types
import { generateSpace } from "../bench/space/generate.mjs";
import { credentialShape } from "../src/evidence/content/credential-value.js";

const REALWORLD = "/work/shared/realworld";
const CREDENTIAL_FIELDS = new Set(["authorization", "proxy-authorization"]);
const PLAIN_FIELDS =
  /^(accept|accept-[a-z]+|user-agent|referer|origin|content-type|content-length|cache-control|pragma|host|connection|dnt|upgrade-insecure-requests|sec-[a-z-]+|if-[a-z-]+|range|priority|te)$/i;

interface Labelled {
  value: string;
  credential: boolean;
  from: string;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

function headerPairs(curl: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of curl.matchAll(
    /(?:-H|--header)\s+(?:\$?'([^']*)'|"((?:[^"\\]|\\.)*)"|\^"([^\r\n]*?)\^")/g,
  )) {
    const h = (m[1] ?? m[2] ?? m[3] ?? "").replace(/\^/g, "");
    const colon = h.indexOf(":");
    if (colon > 0) out.push([h.slice(0, colon).trim(), h.slice(colon + 1).trim()]);
  }
  return out;
}

function fromPairs(pairs: Array<[string, string]>, from: string, out: Labelled[]): void {
  for (const [name, value] of pairs) {
    if (!value) continue;
    if (CREDENTIAL_FIELDS.has(name.toLowerCase())) out.push({ value, credential: true, from });
    else if (PLAIN_FIELDS.test(name)) out.push({ value, credential: false, from });
  }
}

function realworld(out: Labelled[]): void {
  const commands = JSON.parse(readFileSync(join(REALWORLD, "curl/commands.json"), "utf8")) as Record<
    string,
    string
  >;
  for (const text of Object.values(commands)) fromPairs(headerPairs(text), "realworld curl", out);
  for (const file of walk(join(REALWORLD, "har")).filter((f) => /\.(har|json)$/.test(f))) {
    try {
      const har = JSON.parse(readFileSync(file, "utf8")) as {
        log?: { entries?: Array<{ request?: { headers?: Array<{ name: string; value: string }> } }> };
      };
      for (const e of har.log?.entries ?? [])
        fromPairs(
          (e.request?.headers ?? []).map((h) => [h.name, h.value]),
          "realworld HAR",
          out,
        );
    } catch {
      // not a HAR after all
    }
  }
  for (const file of walk(join(REALWORLD, "crs-tests")).filter((f) => f.endsWith(".yaml"))) {
    const doc = parseYaml(readFileSync(file, "utf8")) as {
      tests?: Array<{ stages?: Array<{ stage?: { input?: { headers?: Record<string, unknown> } } }> }>;
    };
    for (const t of doc?.tests ?? [])
      for (const s of t.stages ?? []) {
        for (const [name, v] of Object.entries(s.stage?.input?.headers ?? {})) {
          if (CREDENTIAL_FIELDS.has(name.toLowerCase()) || typeof v !== "string" || !v) continue;
          const values =
            name.toLowerCase() === "cookie"
              ? v.split(";").map((c) => c.split("=").slice(1).join("=").trim())
              : [v];
          for (const value of values.filter(Boolean))
            out.push({ value, credential: false, from: "CRS requests" });
        }
      }
  }
}

/** The parts of a generated instance this fit reads (bench/space/generate.mjs). */
interface SpaceInstance {
  request: { token?: string; basic?: string; headers?: Array<[string, string]> };
  control?: { headers?: Array<[string, string]> };
  app?: { scope?: string };
  nginx?: { user: string; password: string };
}

async function space(out: Labelled[]): Promise<void> {
  const key = new TextEncoder().encode("fit-observations-key-0123456789abcdef");
  for (const seed of [11, 12, 13, 21, 22, 23]) {
    for (const inst of generateSpace(seed, 55) as SpaceInstance[]) {
      const req = inst.request;
      if (req.token && req.token !== "missing") {
        const now = 1_790_000_000; // fixed: the same tokens on every run
        let jwt = await new SignJWT({ scope: `profile:read ${inst.app?.scope ?? ""}` })
          .setProtectedHeader({ alg: "HS256" })
          .setIssuedAt(req.token === "expired" ? now - 7200 : now)
          .setExpirationTime(req.token === "expired" ? now - 3600 : now + 3600)
          .sign(key);
        if (req.token === "bad-signature") jwt = `${jwt.slice(0, -4)}AAAA`;
        out.push({ value: `Bearer ${jwt}`, credential: true, from: "generated space" });
      }
      if (req.basic && inst.nginx) {
        const pair = `${inst.nginx.user}:${inst.nginx.password}${req.basic === "right" ? "" : "x"}`;
        out.push({
          value: `Basic ${Buffer.from(pair).toString("base64")}`,
          credential: true,
          from: "generated space",
        });
      }
      for (const [, value] of [...(req.headers ?? []), ...(inst.control?.headers ?? [])])
        out.push({ value, credential: false, from: "generated space" });
    }
  }
}

/** Seeded bytes (SHA-256 in counter mode): the same session ids on every run. */
let counter = 0;
function randomBytes(n: number): Buffer {
  const parts: Buffer[] = [];
  for (let got = 0; got < n; got += 32) parts.push(createHash("sha256").update(`fit-${counter++}`).digest());
  return Buffer.concat(parts).subarray(0, n);
}

/** Session ids in the documented formats of the common frameworks (seeded). */
function sessionFormats(out: Labelled[]): void {
  const alnum = (n: number) =>
    [...randomBytes(n)].map((b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
  for (let i = 0; i < 40; i++) {
    const formats = [
      `s%3A${randomBytes(24).toString("base64url")}.${randomBytes(32).toString("base64").replace(/=+$/, "")}`,
      alnum(32),
      alnum(26),
      `${randomBytes(40).toString("base64url")}.${randomBytes(4).toString("base64url")}.${randomBytes(20).toString("base64url")}`,
      `${randomBytes(60).toString("base64")}--${randomBytes(20).toString("hex")}`,
      randomBytes(16).toString("hex"),
      randomBytes(32).toString("base64url"),
    ];
    for (const value of formats) out.push({ value, credential: true, from: "framework session formats" });
  }
}

function rates(items: Labelled[], share: number) {
  let tp = 0;
  let fp = 0;
  let p = 0;
  let n = 0;
  for (const it of items) {
    const hit = credentialShape(it.value, share) !== null;
    if (it.credential) {
      p++;
      if (hit) tp++;
    } else {
      n++;
      if (hit) fp++;
    }
  }
  // Add-one smoothing: a rate of 0 on a finite sample is not a rate of 0.
  return { tp, p, fp, n, sensitivity: (tp + 0.5) / (p + 1), falsePositive: (fp + 0.5) / (n + 1) };
}

const items: Labelled[] = [];
realworld(items);
await space(items);
sessionFormats(items);
// Split by the value's hash, so a value repeated across files falls in one half only.
const half = (v: string) => createHash("sha256").update(v).digest()[0]! % 2;
const fit = items.filter((it) => half(it.value) === 0);
const held = items.filter((it) => half(it.value) === 1);
let best = { share: 0.8, j: -1 };
for (let share = 0.5; share <= 0.96; share += 0.05) {
  const r = rates(fit, share);
  const j = r.sensitivity - r.falsePositive;
  if (process.argv.includes("--table")) console.log(share.toFixed(2), r.tp, r.p, r.fp, r.n);
  if (j > best.j) best = { share: Math.round(share * 100) / 100, j };
}
if (process.argv.includes("--show"))
  for (const it of items)
    if (!it.credential && credentialShape(it.value, best.share))
      console.log("FP", it.from, JSON.stringify(it.value.slice(0, 90)));
const onFit = rates(fit, best.share);
const onHeld = rates(held, best.share);
const weight = Math.round(Math.log(onFit.sensitivity / onFit.falsePositive) * 100) / 100;
const bySource = new Map<string, number>();
for (const it of items)
  bySource.set(
    `${it.from} (${it.credential ? "credential" : "other"})`,
    (bySource.get(`${it.from} (${it.credential ? "credential" : "other"})`) ?? 0) + 1,
  );
console.log([...bySource].map(([k, v]) => `${k}: ${v}`).join("\n"));
console.log(`entropy share ${best.share}`);
console.log(
  `fit:      ${onFit.tp}/${onFit.p} credentials, ${onFit.fp}/${onFit.n} other parts; weight ln(sens/fp) = ${weight}`,
);
console.log(
  `held-out: ${onHeld.tp}/${onHeld.p} credentials, ${onHeld.fp}/${onHeld.n} other parts; ln = ${(Math.log(onHeld.sensitivity / onHeld.falsePositive)).toFixed(2)}`,
);
if (process.argv.includes("--write")) {
  const data = {
    $comment:
      "Written by `npx tsx scripts/fit-observations.ts --write`; the script's header says what each figure was measured on.",
    "credential-value": {
      $comment: `A credential by its value's shape. Weight = ln(sensitivity / false-positive rate) on the fit half (${onFit.tp}/${onFit.p} credential values, ${onFit.fp}/${onFit.n} other keyed-on values); held-out half: ${onHeld.tp}/${onHeld.p} and ${onHeld.fp}/${onHeld.n}. Sources: ${[...bySource].map(([k, v]) => `${k} ${v}`).join("; ")}.`,
      opaqueEntropyShare: best.share,
      triggerWeights: { "credentials-invalid": weight },
    },
  };
  writeFileSync("data/observations.json", `${JSON.stringify(data, null, 2)}\n`);
  console.log("wrote data/observations.json");
}
