#!/usr/bin/env bash
# Runs the Dockerfile's stages by hand, without a Docker engine, and starts the result:
#   deploy/check-image-layout.sh            # node from PATH
#   NODE_BIN=$(npx -y -p node@24 -- node -p process.execPath) deploy/check-image-layout.sh  # the image's Node
# Context = `git archive HEAD` minus .dockerignore; deps stage = `npm ci --omit=dev`; build stage =
# `npm ci` + `npm run build`; runtime = the files the Dockerfile copies, read-only, run as uid 1000
# against a fresh database on the local PostgreSQL (ADMIN_URL). Needs npm registry access.
set -euo pipefail
cd "$(dirname "$0")/.."
ADMIN_URL=${ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
work=$(mktemp -d /tmp/leasehold-image.XXXXXX)
mkdir -p "$work/bin" && cp "${NODE_BIN:-$(command -v node)}" "$work/bin/node" && node="$work/bin/node"
db="lh_image_check_$$"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

echo "== context: git archive HEAD, minus .dockerignore"
mkdir -p "$work/context"
git archive HEAD | tar -x -C "$work/context"
(cd "$work/context" && shopt -s dotglob nullglob && grep -v -e '^#' -e '^!' -e '^$' .dockerignore | while read -r p; do rm -rf -- $p; done)

echo "== deps stage: npm ci --omit=dev --omit=optional, unused query compilers removed"
mkdir -p "$work/deps" && cp "$work/context"/package{,-lock}.json "$work/deps/"
(cd "$work/deps" && npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error \
  && for db in cockroachdb mysql sqlite sqlserver; do rm -f node_modules/@prisma/client/runtime/query_compiler_*_bg.$db.*; done)

echo "== build stage: npm ci, npm run build"
mkdir -p "$work/build" && cd "$work/context"
cp -r package.json package-lock.json tsconfig.json tsconfig.build.json prisma.config.ts prisma src "$work/build/"
cd - >/dev/null
(cd "$work/build" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && CHECKPOINT_DISABLE=1 npm run build --silent)

echo "== runtime stage"
app="$work/app" && mkdir -p "$app/dist" "$app/prisma" "$app/deploy"
cp "$work/context"/package{,-lock}.json "$app/"
cp -r "$work/deps/node_modules" "$app/"
cp -r "$work/build/dist/src" "$app/dist/src"
cp -r "$work/context/prisma/migrations" "$app/prisma/migrations"
cp "$work/context/deploy/healthcheck.cjs" "$app/deploy/"
chmod 755 "$app/dist/src/cli/index.js" && chmod -R a-w "$app" && chmod 755 "$work"
echo "   runtime files: $(du -sh "$app" | cut -f1), of which node_modules $(du -sh "$app/node_modules" | cut -f1)"

echo "== start as uid 1000 against a fresh database"
psql -q "$ADMIN_URL" -c "CREATE DATABASE $db" >/dev/null
echo "   $("$node" --version)"
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
as_1000=(); [ "$(id -u)" = 0 ] && as_1000=(setpriv --reuid=1000 --regid=1000 --clear-groups)
(cd "$app" && exec env -i PATH="$PATH" HOME=/nonexistent NODE_ENV=production HOST=127.0.0.1 PORT="$port" \
  DATABASE_URL="${ADMIN_URL%/*}/$db" LEASEHOLD_MASTER_KEY="$(openssl rand -base64 32)" LEASEHOLD_DATA_DIR=/nonexistent \
  "${as_1000[@]}" "$node" dist/src/cli/index.js serve >"$work/server.log" 2>&1) &
server=$!
for _ in $(seq 1 120); do grep -qs "leasehold is listening" "$work/server.log" && break; sleep 0.5; done
grep -q "leasehold is listening" "$work/server.log" || { cat "$work/server.log"; exit 1; }
echo "   $(grep -o '"applied":\[[^]]*\]' "$work/server.log")"
echo "   migrations recorded: $(psql -tA "${ADMIN_URL%/*}/$db" -c 'SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL')"
echo "   GET /v1/apps/ without a token: $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/apps/")"
echo "   bootstrap token printed: $(grep -c 'shown only this once' "$work/server.log")"
hc=0; (cd "$app" && env -i HOST=0.0.0.0 PORT="$port" "$node" deploy/healthcheck.cjs) | sed 's/^/   /' || hc=$?
echo "   healthcheck exit code $hc (0 once /healthz exists)"

echo "== SIGTERM"
kill -TERM "$server"; wait "$server" && rc=0 || rc=$?
server=""
echo "   exit code $rc; $(grep -c 'shutting down gracefully' "$work/server.log") graceful-shutdown line"

echo "== the 'leasehold' command (/usr/local/bin/leasehold in the image)"
ln -s "$app/dist/src/cli/index.js" "$work/bin/leasehold"
(cd /tmp && env -i PATH="$work/bin:/usr/bin:/bin" DATABASE_URL="${ADMIN_URL%/*}/$db" LEASEHOLD_MASTER_KEY="$(openssl rand -base64 32)" \
  "${as_1000[@]}" leasehold migrate) | sed 's/^/   /'
