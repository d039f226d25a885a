# The production image: gunicorn serving Django, and the same image runs the Celery worker
# and beat (see docker-compose.yml and scripts/serve). Settings come from the environment.

# Front-end assets from the npm lock file (npm ci checks each package's integrity hash),
# copied where the app serves them (no CDN).
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY scripts/vendor-assets.sh scripts/
RUN bash scripts/vendor-assets.sh

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=ipt_clinic.settings.production
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app

# Pango for WeasyPrint (the discharge letter as a PDF, letters/pdf.py) and a font to set it in.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# The runtime dependencies, at the versions of requirements.lock, each file checked against its
# hash in requirements-production.lock (both written by make lock); nothing else is installed.
COPY requirements-production.lock ./
RUN pip install --require-hashes --no-deps -r requirements-production.lock

# The code stays owned by root: the app user can read it, not change it.
COPY . .
COPY --from=assets /src/static/vendor/ static/vendor/
# collectstatic needs settings, not secrets: a throwaway key for this one command.
RUN SECRET_KEY=collectstatic-only-$(python -c "import secrets; print(secrets.token_urlsafe(48))") \
    python manage.py collectstatic --noinput --settings=ipt_clinic.settings.production \
    && mkdir -p /app/var/fhir-exports && chown -R app:app /app/var

USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)" || exit 1
CMD ["scripts/serve", "web"]
