ARG PYTHON=3.12
FROM python:${PYTHON}-slim AS python-base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

FROM python-base AS docs
RUN pip install mkdocs-material
COPY docs /docs
RUN mkdocs build -f /docs/mkdocs.yml -d /site

# the wheel (unnamed: the stages below copy from it by index)
FROM python-base
RUN pip install --upgrade pip build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m build --wheel --outdir /wheels

FROM python-base AS tests
COPY --from=2 /wheels /wheels
RUN pip install /wheels/*.whl pytest && pytest -q /src/tests

FROM python-base AS final
RUN useradd --create-home app
COPY --from=2 /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels
USER app
CMD ["python", "-m", "app"]
