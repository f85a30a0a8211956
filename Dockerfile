# Fund Bot: one image for every process of the Procfile (web, worker, clock); compose.yaml runs them.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A user of its own: nothing in the container runs as root.
RUN useradd --create-home --uid 10001 fundbot
WORKDIR /app

# The package ships its defaults (the default rules and issue forms, which pyproject.toml maps from the
# repository's top into the package, and bot/defaults/app.yml) and its gunicorn settings.
COPY pyproject.toml README.md Procfile ./
COPY bot ./bot
COPY rules ./rules
COPY .github/ISSUE_TEMPLATE ./.github/ISSUE_TEMPLATE
RUN pip install . && chown -R fundbot /app

USER fundbot
ENV HOST=0.0.0.0 \
    PORT=8000
EXPOSE 8000

# Liveness, not readiness: /livez answers while the process does. (/healthz answers 503 while Redis is
# down, and a container restarted for that — Swarm replaces unhealthy tasks — would not bring Redis
# back.) Python's own urllib: the slim image has no curl. Worker and clock run no HTTP server:
# compose.yaml turns this off for them.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('PORT', '8000'), timeout=4)"

# The Procfile's `web`; compose.yaml gives `worker` and `clock` their own commands.
CMD ["gunicorn", "-c", "python:bot.web.gunicorn_conf", "bot.app:create_app()"]
