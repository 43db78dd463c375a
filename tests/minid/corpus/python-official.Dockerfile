FROM python:3.12-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1
ENV PYTHONUNBUFFERED=1
ENV PIP_NO_CACHE_DIR=off \
    PIP_DISABLE_PIP_VERSION_CHECK=on

FROM base AS build
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends build-essential libpq-dev; \
    rm -rf /var/lib/apt/lists/*
RUN pip install --upgrade pip
RUN pip install poetry==1.8.3
WORKDIR /src
COPY pyproject.toml poetry.lock ./
RUN --mount=type=cache,target=/root/.cache/pip poetry export -o requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip pip wheel -r requirements.txt -w /wheels
COPY src/ ./src/
RUN python -m build --wheel -o /wheels

FROM base
COPY --from=build /wheels /wheels/
RUN pip install /wheels/*.whl && rm -rf /wheels
RUN groupadd -r app && useradd -r -g app app
USER app
CMD ["python", "-m", "app"]
