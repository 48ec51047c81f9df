"""The lab's Flask app with Flask-WTF's CSRFProtect. Run: /usr/bin/python3 app.py
(HOST, PORT, FLASK_SECRET_KEY from the environment). POSTs without a valid token are
refused by Flask-WTF with 400 "The CSRF token is missing." and never reach a view."""
import os
import threading
from datetime import datetime, timezone

from flask import Flask, jsonify, request, session
from flask_wtf.csrf import CSRFProtect, generate_csrf

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ.get("FLASK_SECRET_KEY", "lab-only-key-not-a-secret")
CSRFProtect(app)

_ledger = []
_lock = threading.Lock()


def _record(action):
    with _lock:
        entry = {
            "seq": len(_ledger) + 1,
            "time": datetime.now(timezone.utc).isoformat(),
            "method": request.method,
            "path": request.path,
            "action": action,
        }
        _ledger.append(entry)
        return entry


@app.get("/__ledger")
def ledger_view():
    with _lock:
        return jsonify(count=len(_ledger), entries=list(_ledger))


@app.get("/__health")
def health():
    return jsonify(ok=True)


@app.get("/form/")
def form_page():
    token = generate_csrf()  # stored in the signed session cookie
    session.modified = True
    return (
        "<!doctype html><title>comment</title>"
        '<form method="post" action="/form/comment">'
        f'<input type="hidden" name="csrf_token" value="{token}">'
        '<textarea name="comment"></textarea><button>Send</button></form>'
    )


@app.post("/form/comment")
def post_comment():
    entry = _record("comment.create")
    return jsonify(ok=True, id=entry["seq"]), 201


if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ["PORT"]), threaded=True)
