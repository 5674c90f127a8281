# The production image: the pages (gunicorn), the live streams (uvicorn), the Celery worker and beat.
FROM node:20-bookworm-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir -e . 
COPY . .
COPY --from=frontend /app/node_modules ./node_modules
# collectstatic and compiled catalogs need settings that start; these values live only in the build.
RUN SECRET_KEY=build-only-build-only-build-only-build-only-build-only ALLOWED_HOSTS=build \
    python manage.py compile_translations \
 && SECRET_KEY=build-only-build-only-build-only-build-only-build-only ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput \
 && useradd --create-home forum && mkdir -p var/media && chown -R forum var
USER forum
EXPOSE 8000
# Pages; docker-compose.yml also runs /live/ on uvicorn behind nginx (deploy/nginx.conf).
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--worker-class", "sync", "--forwarded-allow-ips", "*"]
