# One image for the three services; docker-compose.yml picks the service with its command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml setup.py ./
COPY contracts ./contracts
COPY services ./services
COPY oncorelay ./oncorelay
# gcc only to compile ingest's Cython fast path (services/ingest/vcf/_fastpath.pyx), then removed
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install . \
    && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 oncorelay && mkdir -p /data && chown oncorelay /data
USER oncorelay
ENV ONCORELAY_BIND_HOST=0.0.0.0 ONCORELAY_DATA_DIR=/data
CMD ["python", "-m", "services.ingest"]
