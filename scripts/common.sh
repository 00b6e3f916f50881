# Shared by scripts/demo and scripts/test: install what is missing, configure, build.
# Idempotent: packages already present are not touched, and an existing build is re-used.

EMBER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EMBER_JOBS="${EMBER_JOBS:-$(nproc)}"

EMBER_PACKAGES=(
  cmake ninja-build g++ pkg-config
  libfmt-dev libcli11-dev libgtest-dev libbenchmark-dev nlohmann-json3-dev libcpp-httplib-dev
  libopenblas-dev libomp-dev
  libvulkan-dev glslc mesa-vulkan-drivers
  qemu-user  # scripts/test_emulated: the AVX2-only and baseline x86-64 CPUs
  curl jq chromium  # the server's tests: curl + jq from the outside, the web page in headless Chromium
)

ember_install_packages() {
  local missing=()
  for p in "${EMBER_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # The server's client tests run npm packages on node. A machine may have its own node (with
  # npm inside); only without one are Debian's nodejs and npm installed (they conflict with it).
  command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "== installing: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# ember_configure DIR [cmake args...]: configures once; later calls re-use the build.
ember_configure() {
  local dir="$1"; shift
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$EMBER_ROOT" -B "$dir" -G Ninja "$@" >&2
  fi
}

# ember_build DIR [target...]: incremental build (everything when no target is named).
ember_build() {
  local dir="$1"; shift
  local targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  cmake --build "$dir" -j "$EMBER_JOBS" "${targets[@]}" >&2
}
