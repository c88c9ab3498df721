# The app image for compose.yaml: dependencies, code, collected static files.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHON=python
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# Hashed, compressed static files baked into the image (WhiteNoise serves them);
# the values below exist only for this build step.
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build-only-not-a-secret BETTER_AUTH_URL=https://build.invalid \
    python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --system --home /app app && chown -R app /app/var

USER app
EXPOSE 8000
CMD ["bash", "scripts/web-worker.sh"]
