# syntax=docker/dockerfile:1
#
# Cepheus container image.
#
#   docker build -t cepheus:dev .
#   docker run --rm -p 8080:8080 -v "$PWD/rules:/app/rules:ro" cepheus:dev
#
# Stages: build (all dependencies, grammar generation, tsc) → prod-deps (npm ci --omit=dev)
# → runtime (Node.js LTS slim, non-root, tini as PID 1). test/deploy/dockerfile.spec.ts lints
# this file and replays its COPY instructions against the repository to start the service.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: install everything, generate the grammar, compile TypeScript ---------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
# npm ci runs the postinstall script: it replaces a few kafkajs files with faster ones (see the script).
COPY scripts/patch-dependencies.js ./scripts/
COPY scripts/patches/ ./scripts/patches/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/ ./scripts/
COPY src/ ./src/
# `npm run build` runs `npm run grammar` first (prebuild), then tsc -p tsconfig.build.json.
RUN npm run build

# ---- prod-deps: production dependencies only ---------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
COPY scripts/patch-dependencies.js ./scripts/
COPY scripts/patches/ ./scripts/patches/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime -------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini runs as PID 1: it forwards SIGTERM/SIGINT to Node and reaps zombies. Without this
# image's ENTRYPOINT (e.g. a custom command), run the container with `docker run --init`.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PORT=8080 \
    RULES_DIR=/app/rules \
    LOG_LEVEL=info
WORKDIR /app
# Application files stay owned by root (read-only for the service user).
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin/ ./bin/
# Default rules; mount your own directory (or a Kubernetes ConfigMap) at RULES_DIR.
COPY rules/ ./rules/
# uid/gid 1000 is the `node` user of the official image; numeric so that Kubernetes
# runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:process.env.PORT||8080,path:'/health/live',timeout:4000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# Exec form: node itself receives the signals tini forwards (no shell in between).
CMD ["node", "dist/main.js"]
