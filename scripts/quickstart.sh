#!/usr/bin/env bash
# Installs everything, builds convex-importd, starts the Convex Auth test backend on loopback
# and imports the bundled sample file into it, then prints the summary and the results.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
echo "quickstart: building the daemon (a few minutes the first time; Beast is heavy)"
cmake --build build -j2 --target convex-importd

work=$(mktemp -d)
backend_out="$work/backend.out"
node tests/convex-backend/server.mjs >"$backend_out" 2>"$work/backend.err" &
backend=$!
trap 'kill "$backend" 2>/dev/null; rm -rf "$work"' EXIT

for _ in $(seq 1 100); do
    grep -q '^listening ' "$backend_out" 2>/dev/null && break
    sleep 0.1
done
url=$(sed -n 's/^listening //p' "$backend_out")
[ -n "$url" ] || { echo "quickstart: the test backend did not start" >&2; exit 1; }
echo "quickstart: test backend at $url (real Convex Auth code, real scrypt)"

cp scripts/sample-users.csv "$work/sample-users.csv"
./build/daemon/convex-importd import "$work/sample-users.csv" --url "$url" --param name
echo
echo "quickstart: the results file (its folder is removed when this script ends):"
cat "$work/sample-users.csv.results.csv"
