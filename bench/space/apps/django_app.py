"""The generated space's Django application: one route per instance (SPACE_SPEC), served
by Django's own development server, with CommonMiddleware (APPEND_SLASH redirects) and
CsrfViewMiddleware as a small production site has them. Views that are not CSRF
instances are exempt, as an API would be. Run with /usr/bin/python3 (Debian's Django)."""
import os
import sys

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ.get("SPACE_SECRET", "space-bench"),
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[
        "__main__.count_requests",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
    ],
    INSTALLED_APPS=[],
    DATABASES={},
    TEMPLATES=[],
    USE_TZ=True,
    LOGGING_CONFIG=None,
)

import django  # noqa: E402

django.setup()

from django.core.servers.basehttp import run  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.middleware.csrf import get_token  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from django.views.decorators.http import require_POST  # noqa: E402

from common import Ledger, decide, form_page, load_specs  # noqa: E402

LEDGER = Ledger()


def count_requests(get_response):
    def middleware(request):
        LEDGER.note(request.method)
        return get_response(request)

    return middleware


def ledger_view(request):
    return JsonResponse({"count": LEDGER.count})


def json_answer(status, extra, payload):
    response = JsonResponse(payload, status=status)
    for name, value in extra.items():
        response[name] = value
    return response


def shared_view(spec):
    @csrf_exempt
    def view(request):
        headers = {k.lower(): v for k, v in request.headers.items()}
        return json_answer(*decide(spec, request.method, headers, request.body.decode("utf8", "replace")))

    return view


def csrf_view(spec):
    # Django's own CsrfViewMiddleware refuses a POST without the cookie and the field.
    def view(request):
        if request.method == "POST":
            return JsonResponse({"ok": True})
        return HttpResponse(form_page("csrfmiddlewaretoken", get_token(request)))

    return view


def moved_view(spec):
    # Only the slash form exists: CommonMiddleware answers the bare path with a 301 to it.
    if spec["finalStatus"] == 405:
        return csrf_exempt(require_POST(lambda request: JsonResponse({"ok": True})))

    @csrf_exempt
    def view(request):
        if request.method == "POST":
            return JsonResponse({"ok": True})
        return JsonResponse({"error": "forbidden"}, status=403)

    return view


def routes():
    out = [path("__space_ledger", ledger_view)]
    for spec in load_specs():
        route = spec["route"]
        if spec["kind"] == "moved":
            out.append(path(f"{route}/", moved_view(spec)))
        elif spec["kind"] == "csrf":
            out.append(path(route, csrf_view(spec)))
        else:
            out.append(path(route, shared_view(spec)))
    return out


urlpatterns = routes()


if __name__ == "__main__":
    run("127.0.0.1", int(os.environ["PORT"]), get_wsgi_application(), threading=True)
    sys.exit(0)
