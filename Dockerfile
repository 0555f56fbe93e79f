# Weft: a slim, non-root image that serves the app with gunicorn's uvicorn workers (ASGI). Workers run the
# same image with `python manage.py rundramatiq` (see docker-compose.yml).
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.txt Makefile ./
# npm only fetches Pyodide (for Code nodes) into /venv/pyodide, checked by the Makefile's digest.
RUN apt-get update && apt-get install -y --no-install-recommends make npm && rm -rf /var/lib/apt/lists/* \
    && python -m venv /venv && /venv/bin/pip install -r requirements.txt \
    && make VENV=/venv /venv/pyodide/pyodide.mjs

FROM python:3.11-slim
ENV PATH="/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=workflowsite.settings \
    PORT=8000
RUN groupadd --system weft && useradd --system --gid weft --home /app weft
WORKDIR /app
COPY --from=build /venv /venv
COPY --chown=weft:weft . .
# collectstatic needs a secret to import settings; this one exists only at build time.
RUN DJANGO_SECRET_KEY=build-only-collectstatic python manage.py collectstatic --noinput \
    && mkdir -p /app/media && chown weft:weft /app/media
USER weft
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/api/health', timeout=4)"
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn workflowsite.asgi:application --worker-class uvicorn_worker.UvicornWorker --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY:-2} --access-logfile -"]
