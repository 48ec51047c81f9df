"""A minimal Django site for the lab: no database, no templates, CSRF protection on.

Nothing here is tuned for why403; the settings are what a small production site
would have (DEBUG off, no trusted origins beyond the site itself).
"""
import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "lab-only-key-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "lab.test", "django.lab.test"]
ROOT_URLCONF = "labsite.urls"
WSGI_APPLICATION = None
INSTALLED_APPS = []
DATABASES = {}
TEMPLATES = []
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
CSRF_TRUSTED_ORIGINS = []
USE_TZ = True
TIME_ZONE = "UTC"

# Refusal reasons (django.security.csrf, django.request) go to stderr, which the lab
# writes to {run}/django/django.log beside runserver's request lines.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "[{asctime}] {levelname} {name}: {message}", "style": "{"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django.security": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "django.request": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
    },
}
