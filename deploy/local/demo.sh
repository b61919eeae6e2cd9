#!/usr/bin/env bash
# The main job, run by `make demo` until `newsmon demo` (issue 7) supervises it: bring up the local
# stack, serve the fixture news site on 127.0.0.1, register it as sources, crawl it once, process
# and index every page, then show what analysts would search for. Idempotent: a second run
# publishes nothing new (the crawler remembers what it published) and indexes nothing twice.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-.venv/bin}
export NEWSMON_NAMESPACE=${NEWSMON_NAMESPACE:-demo}
export NEWSMON_CRAWL_ALLOW_PRIVATE_NETWORKS=1   # the fixture site is on 127.0.0.1
export NEWSMON_CRAWL_DELAY=${NEWSMON_CRAWL_DELAY:-0}

"$BIN/newsmon" stack up
"$BIN/newsmon" index init
"$BIN/newsmon" demo-site > /dev/null 2>&1 &
site=$!
trap 'kill $site 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"${NEWSMON_DEMO_SITE_PORT:-8765}") 2>/dev/null && break; sleep 0.2; done

"$BIN/newsmon" source import --update tests/fixtures/site/sources.yaml
"$BIN/newsmon" crawl --all --once || true   # a source that fails entirely is reported above
"$BIN/newsmon" consume processor --max-idle-seconds 8
"$BIN/newsmon" consume indexer --max-idle-seconds 8
for q in 微信工作群 減負 指尖上的形式主义; do
  "$BIN/newsmon" search "$q" --limit 5
done
echo "The stack keeps running; stop it with: $BIN/newsmon stack down"
