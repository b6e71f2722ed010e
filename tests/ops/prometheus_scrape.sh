#!/usr/bin/env bash
# A real Prometheus server (Debian's) scrapes a running chat node: the node's /metrics must
# pass `promtool check metrics`, and Prometheus must record the target up with nanocaf series.
#   tests/ops/prometheus_scrape.sh PATH/TO/chat
# Exit 77 (ctest: skipped) only when prometheus or promtool is not installed.
set -euo pipefail
chat=$1
for tool in prometheus promtool curl; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (scripts/setup.sh installs it)"
    exit 77
  fi
done
source "$(dirname "$0")/common.sh"

metrics_port=$(free_port)
"$chat" --ws 127.0.0.1:0 --metrics "127.0.0.1:$metrics_port" --log-level warn > "$work/chat.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$metrics_port/metrics" > "$work/metrics.txt" && break
  sleep 0.1
done
[ -s "$work/metrics.txt" ] || { echo "FAIL: no metrics from the node"; cat "$work/chat.log"; exit 1; }

echo "--- promtool check metrics"
if ! promtool check metrics < "$work/metrics.txt"; then
  echo "FAIL: promtool rejects the exposition"
  exit 1
fi

prom_port=$(free_port)
cat > "$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: nanocaf
    static_configs:
      - targets: ['127.0.0.1:$metrics_port']
YML
echo "--- promtool check config"
promtool check config "$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prom_port" > "$work/prometheus.log" 2>&1 &
pids+=($!)

query() { # PromQL -> the first sample's value, or nothing
  curl -sf --get "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null || true
}

echo "--- waiting for Prometheus to scrape the node"
up="" sessions="" routes=""
for _ in $(seq 1 150); do
  up=$(query 'up{job="nanocaf"}')
  sessions=$(query 'nanocaf_sessions{job="nanocaf"}')
  routes=$(query 'count(nanocaf_requests_total{job="nanocaf"})')
  [ "$up" = 1 ] && [ -n "$sessions" ] && [ -n "$routes" ] && break
  sleep 0.2
done
echo "up=$up nanocaf_sessions=$sessions routes with a request counter=$routes"
if [ "$up" != 1 ] || [ -z "$sessions" ] || [ "${routes:-0}" -lt 1 ]; then
  echo "FAIL: Prometheus did not record the node"
  tail -n 20 "$work/prometheus.log"
  exit 1
fi
echo "PASS"
