#!/usr/bin/env bash
# The chat page of `ember serve` in headless Chromium, as a person uses it: the page loads from
# the server, lists the model, a conversation of two turns streams in and each reply equals what
# the same request gives without streaming, Stop ends a long reply, errors show. The browser part
# is tests/server/web_page_test.mjs (playwright-core driving Debian's /usr/bin/chromium).
#
#   web_page_test.sh EMBER_BINARY MODEL_GGUF WORK_DIR
#
# Needs node with npm (scripts/common.sh installs Debian's nodejs and npm when no node is there)
# and Debian's chromium; playwright-core is installed from npm into WORK_DIR/node when it is not
# there yet (1.56 on node 18, the newest 1.x on node 20+). Leaves WORK_DIR/web_page.png
# (a screenshot of the conversation) and WORK_DIR/serve.log (the server's stderr).
set -uo pipefail

die() { echo "FAIL: $*" >&2; exit 1; }
[ $# -eq 3 ] || die "usage: $0 EMBER_BINARY MODEL_GGUF WORK_DIR"
ember="$1" model="$2" work="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
chromium=/usr/bin/chromium

[ -x "$ember" ] || die "no ember binary at $ember"
[ -f "$model" ] || die "no model at $model"
command -v node >/dev/null || die "node is not installed (package nodejs)"
command -v npm >/dev/null || die "npm is not installed (it comes with the nodejs package)"
[ -x "$chromium" ] || die "no Chromium at $chromium (Debian package chromium)"
mkdir -p "$work" || die "cannot create $work"
work="$(cd "$work" && pwd)"

# playwright-core is the driver only (no browser download): it launches Debian's Chromium.
if [ ! -f "$work/node/node_modules/playwright-core/package.json" ]; then
  # Debian 12's own nodejs is 18: playwright-core 1.57 and later want 20.
  version=1
  [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ] && version=1.56
  npm install --prefix "$work/node" --no-audit --no-fund --loglevel=error "playwright-core@$version" >"$work/npm.log" 2>&1 ||
    die "npm install playwright-core failed: $(tail -c 2000 "$work/npm.log")"
fi

# The server, with an API key so that the page's key field and its error display are tested too.
key="web-page-test-key-$$"
log="$work/serve.log"
rm -f "$log" "$work/web_page.png"
"$ember" serve -m "$model" --port 0 -np 2 -c 2048 --api-key "$key" >"$work/serve.out" 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null' EXIT

port=""
for _ in $(seq 600); do  # 60 s for the `listening on http://127.0.0.1:PORT` line
  port="$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$log" | head -n 1)"
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || die "ember serve exited before listening: $(tail -c 2000 "$log")"
  sleep 0.1
done
[ -n "$port" ] || die "ember serve printed no 'listening on http://127.0.0.1:PORT' line in 60 s: $(tail -c 2000 "$log")"
echo "ember serve (pid $server) is listening on port $port"

timeout 300 node "$here/web_page_test.mjs" "http://127.0.0.1:$port" "$key" "$work"
rc=$?
[ "$rc" -eq 124 ] && die "the browser test ran past 300 s"
kill -0 "$server" 2>/dev/null || die "ember serve died during the test: $(tail -c 2000 "$log")"
[ "$rc" -eq 0 ] || { echo "--- ember serve's stderr (tail):" >&2; tail -c 2000 "$log" >&2; die "the browser test failed (exit $rc)"; }
echo "PASS: web page test"
