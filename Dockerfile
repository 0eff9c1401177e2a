# concord: one process per datacenter; see README.md, "Deployment".
#
#   docker build -t concord .
#   docker run --rm -v concord-state:/var/lib/concord -v "$PWD/concord.yaml:/etc/concord/concord.yaml:ro" -p 8080:8080 concord
#
# Base: Debian slim with the Node version the project pins (the `node` devDependency; test/deploy checks
# that they agree). glibc, because better-sqlite3 loads its prebuilt linux-x64 (or linux-arm64) N-API binary,
# the one the test suite runs on; Alpine would load the musl build, which nothing here tests, on Node's
# experimental musl port. better-sqlite3 13 ships those binaries in its package and has no install script,
# so no compiler is needed and `npm ci --ignore-scripts` runs no script at all. Node runs the TypeScript
# sources directly (type stripping), so nothing is built and devDependencies stay out of the image.
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# better-sqlite3's SQLite sources and the macOS, Windows and musl binaries are not needed at run time (-25 MB).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force \
 && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
 && find node_modules/better-sqlite3/prebuilds -type f ! -name 'linux-*' -delete

FROM node:${NODE_VERSION}-bookworm-slim
# tini as PID 1 hands SIGTERM and SIGINT straight to node, which stops cleanly (README, "Stop"). Without it
# node would be PID 1, and the kernel drops a signal to PID 1 that has no handler: a SIGTERM during start-up,
# before concord installs its handlers, would be ignored until the orchestrator's SIGKILL.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
# No CONCORD_* variable here: it would override the mounted file (README, "Configuration"), which must say
# http.host: 0.0.0.0 (the loopback is unreachable from outside the container) and store.dir: /var/lib/concord.
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY migrations ./migrations
# The state folder (store.dir) on a volume, owned by the user concord runs as (the base image's `node`,
# 1000:1000; numeric, so that Kubernetes' runAsNonRoot can check it).
RUN mkdir -p /var/lib/concord /etc/concord && chown 1000:1000 /var/lib/concord
VOLUME ["/var/lib/concord"]
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--disable-warning=TimeoutNegativeWarning", "src/cli/concord.ts"]
CMD ["run", "--config", "/etc/concord/concord.yaml"]
