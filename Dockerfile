# syntax=docker/dockerfile:1
# odop-sync container: API + workers (`odop-sync serve`), or any other CLI command as arguments,
# e.g. `docker run IMAGE odop-sync worker`. Production wants ODOP_DATABASE_URL pointing at
# PostgreSQL (postgresql+asyncpg://...); without it the service falls back to SQLite in /app/var.

# ---- builder: resolve nothing, install exactly what requirements.lock pins --------------------
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_NO_CACHE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

RUN pip install uv

WORKDIR /build
# Dependencies first, so a code change does not re-install them.
COPY requirements.lock ./
RUN uv venv /opt/venv \
 && uv pip sync --python /opt/venv/bin/python requirements.lock

# Then the project itself (wheel build needs pyproject, README and both packages).
COPY pyproject.toml README.md ./
COPY src ./src
COPY adapters ./adapters
RUN uv pip install --python /opt/venv/bin/python --no-deps . \
 && /opt/venv/bin/odop-sync --help > /dev/null

# ---- runtime -----------------------------------------------------------------------------
FROM python:3.11-slim AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ODOP_ENV=production

RUN groupadd --system --gid 10001 odop \
 && useradd --system --uid 10001 --gid odop --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin odop

WORKDIR /app
# Settings layers, rule data, migrations and the sandboxes' documents are package data in the
# wheel; an operator may mount its own configuration folder and set ODOP_CONFIG_DIR to it.
COPY --from=builder /opt/venv /opt/venv

# Default command: migrate, then serve. Any arguments replace it (`odop-sync worker`, ...).
RUN printf '%s\n' \
        '#!/bin/sh' \
        'set -e' \
        'if [ "$#" -gt 0 ]; then exec "$@"; fi' \
        'odop-sync db upgrade && exec odop-sync serve --host 0.0.0.0 --port 8000' \
        > /usr/local/bin/odop-entrypoint \
 && chmod 0755 /usr/local/bin/odop-entrypoint \
 && mkdir -p /app/var \
 && chown odop:odop /app/var

USER odop:odop
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4); sys.exit(0 if r.status == 200 else 1)"]

ENTRYPOINT ["/usr/local/bin/odop-entrypoint"]
