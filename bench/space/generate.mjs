// The generated scenario space: a seeded generator that composes a front layer, an
// application and one cause, with random path names, parameter names, messages and
// (where the product allows) status codes. Pure: it only describes the instances;
// servers.mjs renders them into real front configs and real applications.
//
// Fronts: nginx, HAProxy, Caddy, Squid (reverse proxy), the lab's Apache + ModSecurity +
// CRS, or none; applications: Express (Node), Django, Flask. A cause is generated only on
// a product that can express it (an unreadable file on nginx, a password check on the
// fronts that have one, CSRF with each framework's own protection).
//
// Nothing the engine sees carries the scenario's name: paths and fields are random
// tokens, messages come from pools that include benign decoys (an application message
// that mentions a firewall, a front's page styled like a CDN's or like a bot challenge).

/** A small seeded generator (xorshift32): the same instances for the same seed. */
export function rng(seed) {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const pick = (r, list) => list[Math.floor(r() * list.length)];
const SYLLABLES = [
  "ka",
  "lo",
  "mi",
  "ner",
  "tu",
  "vas",
  "qui",
  "zen",
  "dor",
  "pel",
  "ra",
  "sim",
  "bo",
  "fex",
];

/** A random word such as "kalomi": no meaning, so no name can hint at a cause. */
function word(r, min = 2, max = 4) {
  const n = min + Math.floor(r() * (max - min + 1));
  let w = "";
  for (let i = 0; i < n; i++) w += pick(r, SYLLABLES);
  return w;
}

/**
 * A first path segment no other instance uses (one nginx and one app serve them all);
 * names stay unique across the seeds generated in one process.
 */
const taken = new Set();
function segment(r) {
  for (;;) {
    const w = word(r);
    if (!taken.has(w)) {
      taken.add(w);
      return w;
    }
  }
}

const APP_LOGIC_MESSAGES = [
  "order {x} has shipped and can no longer be changed",
  "the resource is locked by another editor",
  "quantity exceeds the per-order limit",
  "the firewall rule set is read-only during a change freeze",
  "this invoice is already paid",
  "account balance too low for this transfer",
];
const SCOPE_MESSAGES = [
  "insufficient scope",
  "missing permission {x}",
  "forbidden: role {x} required",
  "not allowed",
];
const CSRF_MESSAGES = [
  "CSRF token missing or incorrect",
  "invalid form token",
  "bad request token",
  "forbidden",
];
const CORS_MESSAGES = ["origin not allowed", "cross-origin request refused", "forbidden origin"];
const RATE_MESSAGES = ["too many requests", "quota exceeded for {x}", "slow down"];
const AUTH_MESSAGES = ["token expired", "invalid token", "authentication required", "jwt malformed"];
const ATTACKS = [
  "1' OR '1'='1",
  "x UNION SELECT password FROM users--",
  "<script>alert(document.cookie)</script>",
  "../../../../etc/passwd",
  "; cat /etc/passwd",
  "<img src=x onerror=alert(1)>",
];
const BENIGN = ["hello there", "a normal comment", "blue shoes size 42", "see you on monday"];

function fill(template, r) {
  return template.replace("{x}", word(r, 1, 2));
}

/**
 * What each front can refuse by its own rule (server-config variants; "allow-only" is the
 * address rule, "basic-auth" the password check, "static" the unreadable file). A cause
 * is only generated on a front that can express it.
 */
const FRONT_RULES = {
  nginx: ["deny-all", "styled-deny", "limit-except", "return", "header-rule", "no-index"],
  haproxy: ["deny-all", "styled-deny", "limit-except", "return", "header-rule"],
  caddy: ["deny-all", "styled-deny", "limit-except", "header-rule"],
  squid: ["deny-all", "limit-except", "header-rule"],
};
const RULE_FRONTS = Object.keys(FRONT_RULES);
/** Fronts that check a password themselves (Squid in reverse-proxy mode needs a helper: left out). */
const AUTH_FRONTS = ["nginx", "haproxy", "caddy"];
/** Fronts an application can sit behind; "none" is the application reached directly. */
const PROXY_FRONTS = ["nginx", "haproxy", "caddy", "squid", "none"];
const FRAMEWORKS = ["express", "django", "flask"];
/** Styles of a front's own refusal page that imitate another product (benign decoys). */
const PAGE_STYLES = ["cdn", "challenge"];

/** An application part: the framework and the front are drawn for every app-side cause. */
function appPart(r, spec) {
  return { front: pick(r, PROXY_FRONTS), app: { framework: pick(r, FRAMEWORKS), ...spec } };
}

/**
 * Each generator returns the instance's cause, its front (the product in front of the
 * application, or "none"), the front's own rule when the front refuses, the application
 * part when the application refuses, the request (curl arguments after the base URL is
 * known) and its control: a near-identical request that must not be refused.
 */
const GENERATORS = {
  "fs-permission": (r) => {
    const dir = segment(r);
    const file = `${word(r)}.${pick(r, ["txt", "pdf", "json", "html"])}`;
    return {
      front: "nginx",
      rule: { kind: "static", dir, locked: file },
      request: { method: "GET", path: `/${dir}/${file}` },
      control: { method: "GET", path: `/${dir}/__open__` },
    };
  },
  "ip-restriction": (r) => {
    const dir = segment(r);
    const method = pick(r, ["GET", "POST"]);
    return {
      front: pick(r, RULE_FRONTS),
      rule: { kind: "allow-only", dir },
      request: {
        method,
        path: `/${dir}/${word(r)}`,
        body: method === "POST" ? `${word(r)}=${word(r)}` : undefined,
      },
      control: { sameRequest: true, from: "127.0.0.2" },
    };
  },
  "server-config": (r) => {
    const dir = segment(r);
    const front = pick(r, RULE_FRONTS);
    const variant = pick(r, FRONT_RULES[front]);
    const header = `X-${word(r, 1, 2)}`;
    const value = word(r, 1, 2);
    const method = variant === "limit-except" ? "POST" : pick(r, ["GET", "POST"]);
    const path = variant === "no-index" ? `/${dir}/` : `/${dir}/${word(r)}`;
    return {
      front,
      rule: { kind: variant, dir, header, value, style: pick(r, PAGE_STYLES) },
      request: {
        method: variant === "no-index" ? "GET" : method,
        path,
        headers: variant === "header-rule" ? [[header, value]] : [],
        body: method === "POST" && variant !== "no-index" ? `${word(r)}=${word(r)}` : undefined,
      },
      control:
        variant === "limit-except"
          ? { method: "GET", path }
          : variant === "header-rule"
            ? { method, path, headers: [] }
            : variant === "no-index"
              ? { method: "GET", path: `${path}__open__` }
              : { method: "GET", path: `/__open__/${word(r)}` },
    };
  },
  "credentials-invalid": (r) => {
    const route = segment(r);
    if (r() < 0.35) {
      return {
        front: pick(r, AUTH_FRONTS),
        rule: { kind: "basic-auth", dir: route, user: word(r, 1, 2), password: word(r) },
        request: { method: pick(r, ["GET", "POST"]), path: `/${route}/${word(r)}`, basic: "wrong" },
        control: { sameRequest: true, basic: "right" },
      };
    }
    const flaw = pick(r, ["expired", "bad-signature", "missing"]);
    return {
      ...appPart(r, { kind: "jwt", route, scope: word(r, 1, 2), message: fill(pick(r, AUTH_MESSAGES), r) }),
      request: { method: "POST", path: `/${route}`, json: { [word(r, 1, 2)]: word(r) }, token: flaw },
      control: { sameRequest: true, token: "good" },
    };
  },
  "insufficient-permission": (r) => {
    const route = segment(r);
    return {
      ...appPart(r, { kind: "jwt", route, scope: word(r, 1, 2), message: fill(pick(r, SCOPE_MESSAGES), r) }),
      request: { method: "POST", path: `/${route}`, json: { [word(r, 1, 2)]: word(r) }, token: "no-scope" },
      control: { sameRequest: true, token: "good" },
    };
  },
  csrf: (r) => {
    const route = segment(r);
    // Django and Flask use their own CSRF protection (field name, page and status are theirs).
    const field = pick(r, ["_token", "csrf_token", "authenticity_token", `_${word(r, 1, 2)}`]);
    const part = appPart(r, {
      kind: "csrf",
      route,
      field,
      message: pick(r, CSRF_MESSAGES),
      status: pick(r, [403, 403, 419]),
    });
    return {
      ...part,
      request: { method: "POST", path: `/${route}`, form: { [word(r, 1, 2)]: word(r) } },
      control: { sameRequest: true, withToken: true },
    };
  },
  waf: (r) => {
    const field = word(r, 1, 3);
    const attack = pick(r, ATTACKS);
    const json = r() < 0.5;
    return {
      front: "apache-crs",
      request: {
        method: "POST",
        path: `/${segment(r)}/${word(r)}`,
        ...(json ? { json: { [word(r, 1, 2)]: word(r), [field]: attack } } : { form: { [field]: attack } }),
      },
      control: { sameRequest: true, replace: [attack, pick(r, BENIGN)] },
    };
  },
  "rate-limit": (r) => {
    const route = segment(r);
    return {
      ...appPart(r, {
        kind: "quota",
        route,
        header: `X-${word(r, 1, 2)}-Key`,
        status: pick(r, [429, 429, 403]),
        retryAfter: pick(r, [null, 1, 3600]),
        message: fill(pick(r, RATE_MESSAGES), r),
      }),
      request: { method: "POST", path: `/${route}`, json: { [word(r, 1, 2)]: word(r) }, quotaKey: "spent" },
      control: { sameRequest: true, quotaKey: "fresh" },
    };
  },
  "app-logic": (r) => {
    const route = segment(r);
    const field = word(r, 1, 2);
    return {
      ...appPart(r, {
        kind: "business",
        route,
        field,
        message: fill(pick(r, APP_LOGIC_MESSAGES), r),
        status: 403,
      }),
      request: { method: "POST", path: `/${route}`, json: { [field]: "refuse" } },
      control: { sameRequest: true, replace: ["refuse", "accept"] },
    };
  },
  cors: (r) => {
    const route = segment(r);
    const allowed = `https://${word(r)}.example`;
    return {
      ...appPart(r, { kind: "origin", route, allowed, message: pick(r, CORS_MESSAGES) }),
      request: {
        method: "POST",
        path: `/${route}`,
        json: { [word(r, 1, 2)]: word(r) },
        headers: [["Origin", `https://${word(r)}.example`]],
      },
      control: { sameRequest: true, headers: [["Origin", allowed]] },
    };
  },
  "redirect-method-change": (r) => {
    const route = segment(r);
    return {
      ...appPart(r, { kind: "moved", route, status: pick(r, [301, 302]), finalStatus: pick(r, [405, 403]) }),
      request: { method: "POST", path: `/${route}`, form: { [word(r, 1, 2)]: word(r) }, follow: true },
      control: { method: "POST", path: `/${route}/`, form: { a: "b" } },
    };
  },
};

export const SPACE_CAUSES = Object.keys(GENERATORS);

/** `n` instances for one seed, causes in turn so every seed covers each of them. */
export function generateSpace(seed, n) {
  const r = rng(seed);
  const out = [];
  for (let i = 0; i < n; i++) {
    const cause = SPACE_CAUSES[i % SPACE_CAUSES.length];
    out.push({ id: `s${seed}-${i}`, seed, cause, ...GENERATORS[cause](r) });
  }
  return out;
}
