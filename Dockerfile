# The one image of every nslab service (web, labnode, beat); docker-compose.yml picks the command.

# Browser assets: the pinned npm packages, copied to frontend/build by the same `make assets` as on a
# developer's machine; collectstatic gathers them with the page code of frontend/src.
FROM node:20-bookworm-slim AS assets
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY frontend/package.json frontend/package-lock.json ./frontend/
RUN make assets

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# What a lab node's sandboxes run: the same Debian packages as `make setup` installs (gcc and
# libc6-dev build the sandbox's small C programs, topology/guest/; libseccomp2 compiles
# their seccomp filters).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        iproute2 iptables nftables conntrack busybox net-tools bridge-utils tcpdump procps \
        util-linux psmisc bubblewrap iputils-ping curl wget socat gcc libc6-dev libseccomp2 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml manage.py ./
COPY topology ./topology
COPY labapp ./labapp
COPY course ./course
COPY frontend/src ./frontend/src
COPY --from=assets /src/frontend/build ./frontend/build
# Editable, so that templates, translations and topology's scripts are used from /app as they are.
# Static files are collected at build time and served by WhiteNoise (DEBUG off). A throwaway key for
# collectstatic: without SECRET_KEY, settings would make var/secret_key, baked into every image.
RUN pip install -e . \
    && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 nslab \
    && mkdir -p /app/var && chown nslab /app/var

# The web process and beat need no privilege; the labnode service runs as root (docker-compose.yml).
USER nslab
EXPOSE 8000
# Daphne as `make run` starts it (labapp/config/serve.py: WebSocket message limit, 1009 on excess).
CMD ["python", "-m", "labapp.config.serve", "--host", "0.0.0.0", "--port", "8000"]
