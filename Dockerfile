# servicedesk for production-like use: one image for the web server (gunicorn), the Celery worker,
# Celery beat and the one-shot migrate service of docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system servicedesk \
    && useradd --system --gid servicedesk --home-dir /app --no-create-home --shell /usr/sbin/nologin servicedesk

WORKDIR /app

# The dependencies pyproject.toml declares, in their own layer so that a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import subprocess, sys, tomllib; \
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
subprocess.check_call([sys.executable, '-m', 'pip', 'install', *deps])"

# Then the project itself. Editable, so the code runs from /app, where settings.py finds templates/ and static/.
COPY . .
RUN pip install --no-deps -e .

# The image refuses to start without a SECRET_KEY. Static files are collected (hashed and compressed) at build
# time with a key that exists only for this step and is never used to sign anything.
ENV DJANGO_ENV=production \
    WHITENOISE_USE_FINDERS=false \
    MEDIA_ROOT=/app/var/media
RUN SECRET_KEY=build-only-collectstatic-key python manage.py collectstatic --noinput \
    && mkdir -p var/media \
    && chown -R servicedesk:servicedesk var

# The code stays owned by root: the app can write only under var/ (uploads, in the media volume).
USER servicedesk

EXPOSE 8000
CMD ["gunicorn", "servicedesk.wsgi", "--bind", "0.0.0.0:8000", "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-", "--logger-class", "servicedesk.access_log.AccessLog"]
