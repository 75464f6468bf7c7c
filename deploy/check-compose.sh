#!/usr/bin/env bash
# Validates docker-compose.yml (alone, and with docker-compose.tls.yml and the redis profile) with
# `docker compose config -q`, or Debian's docker-compose 1.29, installing it when apt-get can.
# Uses a throw-away .env made from .env.example with a dummy master key (never the real .env), and
# checks that compose refuses to run without LEASEHOLD_MASTER_KEY. Needs no Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose=(docker-compose)
elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get install -y -q docker-compose >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q docker-compose >/dev/null; }
  compose=(docker-compose)
else
  echo "SKIPPED: neither 'docker compose' nor docker-compose is available (and apt-get cannot install it)"
  exit 0
fi
echo "compose: $("${compose[@]}" version --short 2>/dev/null || "${compose[@]}" version | head -1)"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp docker-compose.yml docker-compose.tls.yml Dockerfile "$dir/"
{
  cat .env.example
  echo "POSTGRES_PASSWORD=$(openssl rand -hex 24)"
} >"$dir/.env"
cd "$dir"

if "${compose[@]}" config -q 2>"$dir/err"; then
  echo "FAIL: compose accepted a .env without LEASEHOLD_MASTER_KEY"
  exit 1
fi
grep -q "set LEASEHOLD_MASTER_KEY in .env" "$dir/err" || { cat "$dir/err"; exit 1; }
echo "ok: refused without LEASEHOLD_MASTER_KEY"

echo "LEASEHOLD_MASTER_KEY=$(openssl rand -base64 32)" >>.env
"${compose[@]}" config -q
echo "ok: docker-compose.yml"
"${compose[@]}" -f docker-compose.yml -f docker-compose.tls.yml --profile redis config -q
echo "ok: docker-compose.yml + docker-compose.tls.yml, profile redis"
