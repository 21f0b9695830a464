FROM python:3.11-slim
# fonts for libass captions; everything else (ffmpeg, ASR model, face cascades) ships in wheels
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY clipflow_api ./clipflow_api
COPY clipflow_worker ./clipflow_worker
COPY migrations ./migrations
COPY samples ./samples
RUN pip install --no-cache-dir .
ENV ENVIRONMENT=production
EXPOSE 8000
CMD ["clipflow", "serve", "--host", "0.0.0.0", "--port", "8000"]
