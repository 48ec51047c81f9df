"""Views of the lab's Django site. POSTs go through CsrfViewMiddleware; each POST
that a view executes is recorded in an in-memory ledger (GET /__ledger)."""
import threading
from datetime import datetime, timezone

from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.views.decorators.http import require_GET, require_POST

_ledger = []
_lock = threading.Lock()


def _record(request, action):
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


@require_GET
def ledger_view(request):
    with _lock:
        return JsonResponse({"count": len(_ledger), "entries": list(_ledger)})


@require_GET
def health(request):
    return JsonResponse({"ok": True})


@require_GET
def form_page(request):
    token = get_token(request)  # also sets the csrftoken cookie
    html = (
        "<!doctype html><title>comment</title>"
        '<form method="post" action="/form/comment">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
        '<textarea name="comment"></textarea><button>Send</button></form>'
    )
    return HttpResponse(html)


@require_POST
def post_comment(request):
    entry = _record(request, "comment.create")
    return JsonResponse({"ok": True, "id": entry["seq"]}, status=201)


@require_POST
def post_note(request):
    entry = _record(request, "note.create")
    return JsonResponse({"ok": True, "id": entry["seq"]}, status=201)
