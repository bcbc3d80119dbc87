# Baton: the API server by default; compose.yaml runs the same image as the migration and the actor workers.
# BASE_IMAGE: any Debian-like image with python3 (3.11+) and its venv module; the compose stack test builds on a
# local Debian bookworm image, since no registry image can be pulled there.
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

# Baton lives in its own virtualenv: Debian's system Python refuses `pip install` outside one (PEP 668).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/baton/bin:$PATH \
    BATON_HOME=/var/lib/baton

# A fixed uid, so a bind-mounted BATON_HOME can be given to it with `chown 10001`.
RUN groupadd --system --gid 10001 baton \
    && useradd --system --uid 10001 --gid baton --home-dir /var/lib/baton --create-home --shell /usr/sbin/nologin baton

WORKDIR /src
# README.md is the package's long description (pyproject.toml), so the build needs it.
COPY pyproject.toml README.md ./
COPY baton ./baton
RUN python3 -m venv /opt/baton && pip install --no-cache-dir . && rm -rf /src

WORKDIR /var/lib/baton
USER baton

EXPOSE 4200

# python, not curl: the slim image has no curl. The API answers GET /api/health with `true`.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; body = urllib.request.urlopen('http://127.0.0.1:4200/api/health', timeout=4).read(); sys.exit(0 if body.strip() == b'true' else 1)"]

CMD ["baton", "server", "start", "--host", "0.0.0.0"]
