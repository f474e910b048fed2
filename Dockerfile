# syntax=docker/dockerfile:1
# bwprep: Slack bot for a Bitwarden trial → production rollout.
#   docker build -t bwprep .
#   docker run --env-file .env -p 3000:3000 -v bwprep-data:/app/data bwprep
# Pinned to the Node.js release the project is developed and tested on.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# --- build: compile TypeScript (dev dependencies; better-sqlite3 may compile from source) ------
FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- deps: production node_modules only (same toolchain for the native module) ----------------
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# --- runtime: no compiler, no dev dependencies, non-root --------------------------------------
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="bwprep" \
      org.opencontainers.image.description="Chat-ops bot that takes a Bitwarden organization from trial to production: checklist, verification against the Bitwarden Public API, daily readiness digest." \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="UNLICENSED" \
      org.opencontainers.image.base.name="docker.io/library/node:20.20.2-bookworm-slim"
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    BWPREP_STORE_URL=sqlite://./data/bwprep.sqlite
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node locales ./locales
COPY --chown=node:node templates ./templates
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/cli/bin.js"]
