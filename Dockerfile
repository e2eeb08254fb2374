# syntax=docker/dockerfile:1
# seedance-emulator as a container: every vendor on port 8000, settings from SEEDANCE_* variables.
#   docker build -t seedance-emulator .
#   docker run --rm -p 8000:8000 -e SEEDANCE_CLOCK=manual seedance-emulator

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY openapi ./openapi
COPY emulator ./emulator
COPY client ./client
COPY contracts ./contracts
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 emulator
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 10001
WORKDIR /home/emulator
# In a container the clients are never on loopback: the control API is opened on purpose here
# (the image is for test networks; set SEEDANCE_CONTROL_PUBLIC=false to close it again).
ENV SEEDANCE_HOST=0.0.0.0 \
    SEEDANCE_PORT=8000 \
    SEEDANCE_CONTROL_PUBLIC=true \
    PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('SEEDANCE_PORT', '8000') + '/_emulator/health', timeout=2)"]
ENTRYPOINT ["seedance-emulator", "serve"]
