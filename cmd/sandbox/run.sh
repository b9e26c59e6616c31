#!/usr/bin/env bash
# Starts the sandbox: the real bot against a fake Slack, a fake Clerk and
# an in-memory Redis, in this terminal. `go run` compiles silently for a
# minute or two the first time (modules download, everything builds), so
# say so before it starts; later runs take seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=""
while read -r key value _; do
  if [ "$key" = go ]; then need=$value; break; fi
done < go.mod

if ! command -v go >/dev/null 2>&1; then
  echo "The sandbox needs Go $need or newer (https://go.dev/dl/), and go is not on PATH." >&2
  exit 1
fi
# Go 1.21 and later fetch the toolchain go.mod asks for by themselves;
# older ones fail with an obscure message, so name the problem instead.
have=$(go env GOVERSION)
IFS=. read -r major minor _ <<< "${have#go}"
if [ "${major:-0}" -lt 1 ] || { [ "$major" -eq 1 ] && [ "${minor:-0}" -lt 21 ]; }; then
  echo "The sandbox needs Go $need or newer (https://go.dev/dl/); this is $have." >&2
  exit 1
fi

echo "Building the sandbox (the first time takes a minute or two while Go downloads modules and compiles; then it starts)…" >&2
# Charts (`postmortem`, `status --chart`, `stats`) are drawn by their own
# program, which the image ships beside the bot; here it goes in bin/.
go build -o bin/clerk-incident-chart ./cmd/clerk-incident-chart
export CHART_PROGRAM="$PWD/bin/clerk-incident-chart"
exec go run ./cmd/sandbox "$@"
