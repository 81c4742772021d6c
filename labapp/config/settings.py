"""Django settings for nslab, read from the environment; the defaults are safe to serve a classroom
from one machine over plain HTTP (`make run`, labapp/config/serve.py): DEBUG off, a secret key made
once in var/, static files collected into var/ and served by WhiteNoise.

Environment: DJANGO_DEBUG (default 0; 1 for a developer: tracebacks, static files from the sources),
SECRET_KEY (unset: var/secret_key), DJANGO_ALLOWED_HOSTS, DJANGO_CSRF_TRUSTED_ORIGINS, DATABASE_URL
(default SQLite in var/), REDIS_URL (unset: the embedded mode, see docs/web-lab.md), NSLAB_NODE,
NSLAB_IDLE_MINUTES, NSLAB_HEARTBEAT_SECONDS, DJANGO_STATIC_ROOT (collectstatic target, default
var/static), DJANGO_HTTPS (default 0; 1 behind TLS: secure cookies, HTTPS redirect, HSTS) and the
DJANGO_SECURE_* / DJANGO_HSTS_* switches below.
"""

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from labapp.config.env import database_from_url, env_bool, env_list, secret_key_file, sqlite_database

BASE_DIR = Path(__file__).resolve().parent.parent.parent
APP_DIR = BASE_DIR / "labapp"
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool(os.environ, "DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY") or secret_key_file(VAR_DIR / "secret_key")

ALLOWED_HOSTS = env_list(os.environ, "DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list(os.environ, "DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # daphne first: its runserver replaces Django's, so `manage.py runserver` serves ASGI.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "labapp.labs",
    "labapp.exercises",
    "labapp.classroom",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the collected static files when DEBUG is off (the Docker image runs collectstatic).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "labapp.config.urls"
ASGI_APPLICATION = "labapp.config.asgi.application"
WSGI_APPLICATION = "labapp.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [APP_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if "DATABASE_URL" in os.environ:
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"], base_dir=BASE_DIR)}
else:
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {"default": sqlite_database(VAR_DIR / "db.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's default logging, plus: while the database restarts, one line per failed request or socket.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"database_unreachable": {"()": "labapp.config.errors.DatabaseUnreachableLogFilter"}},
    "loggers": {name: {"filters": ["database_unreachable"]} for name in ("django.request", "daphne.server")},
}

# Without REDIS_URL everything runs in one process: in-memory channel layer, tasks run eagerly and the
# node agent lives in the web process. With it: channels_redis, Celery workers, one per lab node.
REDIS_URL = os.environ.get("REDIS_URL", "")
NSLAB_EMBEDDED = not REDIS_URL
NSLAB_NODE = os.environ.get("NSLAB_NODE", "local")
NSLAB_IDLE_MINUTES = int(os.environ.get("NSLAB_IDLE_MINUTES", "60"))
# Every lab node's heartbeat interval; a node silent for three of them is dead and its labs are lost.
NSLAB_HEARTBEAT_SECONDS = float(os.environ.get("NSLAB_HEARTBEAT_SECONDS", "30"))

if NSLAB_EMBEDDED:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    }
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 gives up a read after 5 s by default, as long as channels_redis blocks in
            # BZPOPMIN: a reply right at the deadline raised TimeoutError now and then.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}], "capacity": 1000},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
    CELERY_WORKER_HIJACK_ROOT_LOGGER = False
    CELERY_BEAT_SCHEDULE = {
        "labs-reap-idle": {
            "task": "labapp.labs.tasks.labs_reap_idle",
            "schedule": 60.0,
            # Any node may run it: it only decides which labs stop; their teardown goes to their node.
            "options": {"queue": f"labnode.{NSLAB_NODE}"},
        }
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [APP_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "frontend/src", BASE_DIR / "frontend/build"]  # see the Makefile's `assets`

# Served over HTTPS (DJANGO_HTTPS=1, behind a TLS proxy): HTTPS-only cookies and HSTS; each switchable.
NSLAB_HTTPS = env_bool(os.environ, "DJANGO_HTTPS", False)
SESSION_COOKIE_SECURE = env_bool(os.environ, "DJANGO_SECURE_COOKIES", NSLAB_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool(os.environ, "DJANGO_SECURE_SSL_REDIRECT", NSLAB_HTTPS)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000" if NSLAB_HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool(os.environ, "DJANGO_HSTS_INCLUDE_SUBDOMAINS", NSLAB_HTTPS)
SECURE_HSTS_PRELOAD = env_bool(os.environ, "DJANGO_HSTS_PRELOAD", NSLAB_HTTPS)
if env_bool(os.environ, "DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
