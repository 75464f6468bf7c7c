# Leasehold server image: multi-stage, runs as the unprivileged `node` user (uid 1000).
#   docker build -t leasehold .
# Base images are pinned by tag; to pin by digest as well, pass e.g.
#   --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:<digest>
# No secret goes into this image: the master key, database password and TLS key come from the
# environment and mounts at run time (see docker-compose.yml and README.md "Self-hosting").
ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies only, from the lockfile. No install scripts: none of our runtime
# dependencies needs one (prisma's would only try to download engines we never run).
# --omit=optional as well: @prisma/client declares the prisma CLI and typescript as optional peers,
# so the lockfile marks them devOptional and --omit=dev alone keeps them (430 MB instead of 173).
# The only other optional package is pg-cloudflare (Cloudflare Workers only). Then the Prisma
# query compilers of the databases we do not use (the client loads the postgresql one).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && for db in cockroachdb mysql sqlite sqlserver; do \
      rm -f node_modules/@prisma/client/runtime/query_compiler_*_bg.$db.*; \
    done

# Compile: generate the Prisma client into src/generated/prisma (offline: prisma.config.ts points
# the engine check at node itself) and compile src/ (with the generated client) into dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CHECKPOINT_DISABLE=1
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# npm, npx, corepack and yarn are not needed to run the server: less to patch and to scan.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
 && mkdir -p /var/lib/leasehold && chown node:node /var/lib/leasehold
WORKDIR /app
# Application files stay owned by root: the server cannot modify its own code.
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
# Applied by the server at every start (src/paths.ts finds them next to package.json).
COPY prisma/migrations ./prisma/migrations
COPY deploy/healthcheck.cjs ./deploy/healthcheck.cjs
RUN chmod 755 dist/src/cli/index.js && ln -s /app/dist/src/cli/index.js /usr/local/bin/leasehold

# HOST 0.0.0.0: reachable through the published port. LEASEHOLD_DATA_DIR: used only without
# DATABASE_URL (embedded database); mount a volume there, e.g. -v leasehold-data:/var/lib/leasehold.
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 LEASEHOLD_DATA_DIR=/var/lib/leasehold
USER node
EXPOSE 8080
# The server handles SIGTERM: it stops accepting, finishes in-flight requests and revocations,
# flushes the audit buffer and exits. docker-compose.yml adds `init: true` for a real PID 1.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "deploy/healthcheck.cjs"]
CMD ["node", "dist/src/cli/index.js", "serve"]
