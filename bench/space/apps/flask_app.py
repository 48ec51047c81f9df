"""The generated space's Flask application: one route per instance (SPACE_SPEC), served by
Werkzeug's threaded server, with Flask-WTF's CSRFProtect on the CSRF instances (its
refusal answered with the instance's status, as apps that map CSRFError do) and exempt
elsewhere, as an API would be. Run with /usr/bin/python3 (Debian's Flask)."""
import os

from flask import Flask, jsonify, redirect, request
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from common import Ledger, decide, form_page, load_specs

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ.get("SPACE_SECRET", "space-bench")
csrf = CSRFProtect(app)
LEDGER = Ledger()
CSRF_STATUS = {}


@app.before_request
def count_request():
    LEDGER.note(request.method)


@app.get("/__space_ledger")
def ledger_view():
    return jsonify(count=LEDGER.count)


@app.errorhandler(CSRFError)
def csrf_refused(err):
    status = CSRF_STATUS.get(request.path, 400)
    return f"<!doctype html><title>Refused</title><h1>Refused</h1><p>{err.description}</p>", status


def json_answer(status, extra, payload):
    response = jsonify(payload)
    response.status_code = status
    for name, value in extra.items():
        response.headers[name] = value
    return response


def add(rule, view, methods):
    # Flask-WTF exempts views by module and function name: every view gets its own.
    view.__name__ = f"view_{len(app.view_functions)}"
    app.add_url_rule(rule, endpoint=rule, view_func=view, methods=methods)
    return view


def shared(spec):
    def view():
        headers = {k.lower(): v for k, v in request.headers.items()}
        return json_answer(*decide(spec, request.method, headers, request.get_data(as_text=True)))

    return view


def csrf_form(spec):
    CSRF_STATUS[f"/{spec['route']}"] = spec["status"]

    def view():
        if request.method == "POST":
            return jsonify(ok=True)
        return form_page("csrf_token", generate_csrf())

    return view


def moved(spec):
    def bare():
        return redirect(f"/{spec['route']}/", code=spec["status"])

    def final():
        if request.method == "POST":
            return jsonify(ok=True)
        return json_answer(403, {}, {"error": "forbidden"})

    csrf.exempt(add(f"/{spec['route']}", bare, ["GET", "POST"]))
    # A POST-only view answers a GET with Werkzeug's own 405 and its Allow header.
    csrf.exempt(add(f"/{spec['route']}/", final, ["POST"] if spec["finalStatus"] == 405 else ["GET", "POST"]))


for s in load_specs():
    if s["kind"] == "moved":
        moved(s)
    elif s["kind"] == "csrf":
        add(f"/{s['route']}", csrf_form(s), ["GET", "POST"])
    else:
        csrf.exempt(add(f"/{s['route']}", shared(s), ["GET", "POST", "PUT", "PATCH", "DELETE"]))

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]), threaded=True)
