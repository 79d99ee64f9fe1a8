#!/usr/bin/env bash
# Installs the programs the tests use that npm does not provide. Safe to run repeatedly:
# it installs only what is missing. Tests that need these fail (not skip) in CI.
set -euo pipefail

need=()
command -v jq >/dev/null 2>&1 || need+=(jq)
# promtool checks every exposition profile; a real Prometheus scrapes `flowmeter serve`.
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-pushgateway >/dev/null 2>&1 || need+=(prometheus-pushgateway)
# Graphviz's `dot` parses what `flowmeter compile --emit dot` prints.
command -v dot >/dev/null 2>&1 || need+=(graphviz)
# The dashboard's end-to-end tests drive Debian's Chromium through playwright-core.
command -v chromium >/dev/null 2>&1 || need+=(chromium)

# The store's tests need the machine's PostgreSQL on 127.0.0.1:5432; start it if it is down.
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "ci-deps: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
fi

if [ ${#need[@]} -eq 0 ]; then
  echo "ci-deps: all present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ci-deps: missing ${need[*]} and not root; install them with your package manager" >&2
  exit 1
fi
echo "ci-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
