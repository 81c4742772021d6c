# The one image of every nslab service (web, labnode, beat); docker-compose.yml picks the command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# What a lab node's sandboxes run: the same Debian packages as `make setup` installs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        iproute2 iptables nftables conntrack busybox net-tools bridge-utils tcpdump procps \
        util-linux psmisc bubblewrap iputils-ping curl wget socat \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml manage.py ./
COPY topology ./topology
COPY labapp ./labapp
# Editable, so that templates, translations and topology's scripts are used from /app as they are.
RUN pip install -e . \
    && useradd --create-home --uid 1000 nslab \
    && mkdir -p /app/var && chown nslab /app/var

# The web process and beat need no privilege; the labnode service runs as root (docker-compose.yml).
USER nslab
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "labapp.config.asgi:application"]
