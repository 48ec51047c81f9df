"""What the generated-space applications decide, shared by the Django and the Flask app
(bench/space/apps/django_app.py, flask_app.py); each framework renders the answer its own
way and keeps its own CSRF protection, redirects and 404/405 pages.

An instance's spec comes from bench/space/generate.mjs (its `app` part). Bearer tokens
are HS256 JWTs signed by the bench (servers.mjs tokenFor) with SPACE_SECRET; they are
checked here with the standard library so the bench needs no Python package beyond
Debian's python3-django / python3-flask / python3-flaskext.wtf.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import threading
import time

SECRET = os.environ.get("SPACE_SECRET", "").encode()
SAFE = {"GET", "HEAD", "OPTIONS"}


def load_specs():
    with open(os.environ["SPACE_SPEC"], encoding="utf8") as f:
        return json.load(f)


class Ledger:
    """Counts every request with a non-safe method that reaches the application."""

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    def note(self, method):
        if method not in SAFE:
            with self.lock:
                self.count += 1


def _b64(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def bearer_scopes(header):
    """The token's scopes, or None when it is missing, badly signed or expired."""
    m = re.match(r"^Bearer\s+(\S+)$", header or "", re.I)
    if not m:
        return None
    try:
        head, payload, sig = m.group(1).split(".")
        want = hmac.new(SECRET, f"{head}.{payload}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(want, _b64(sig)):
            return None
        claims = json.loads(_b64(payload))
        if claims.get("exp", 0) < time.time():
            return None
        return str(claims.get("scope", "")).split(" ")
    except (ValueError, TypeError):
        return None


def decide(spec, method, headers, body):
    """(status, extra headers, JSON payload) for the kinds both frameworks share."""
    kind = spec["kind"]
    key = spec.get("errorKey", "error")
    if kind == "jwt":
        scopes = bearer_scopes(headers.get("authorization"))
        if scopes is None:
            return 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, {key: spec["message"]}
        if spec["scope"] not in scopes:
            extra = {"WWW-Authenticate": 'Bearer error="insufficient_scope"'} if len(spec["route"]) % 2 else {}
            return 403, extra, {key: spec["message"]}
        return 200, {}, {"ok": True}
    if kind == "quota":
        if headers.get(spec["header"].lower()) == "fresh":
            return 200, {}, {"ok": True}
        extra = {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0"}
        if spec.get("retryAfter") is not None:
            extra["Retry-After"] = str(spec["retryAfter"])
        return spec["status"], extra, {key: spec["message"]}
    if kind == "business":
        try:
            value = json.loads(body or "{}").get(spec["field"])
        except (ValueError, AttributeError):
            value = None
        if value == "refuse":
            return spec["status"], {}, {key: spec["message"]}
        return 200, {}, {"ok": True}
    if kind == "origin":
        origin = headers.get("origin")
        if origin and origin != spec["allowed"]:
            return 403, {}, {key: spec["message"]}
        return 200, {"Access-Control-Allow-Origin": spec["allowed"]}, {"ok": True}
    raise ValueError(f"unknown kind {kind}")


def form_page(field, token):
    return (
        "<!doctype html><title>form</title><form method=\"post\">"
        f'<input type="hidden" name="{field}" value="{token}">'
        "<textarea name=\"text\"></textarea><button>Send</button></form>"
    )
