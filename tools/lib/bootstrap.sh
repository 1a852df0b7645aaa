# tools/lib/bootstrap.sh - sourced by the top-level commands: installs the Debian packages
# that are missing (apt-get, as root or through sudo) and builds with a CMake preset.
# Everything is idempotent: a second run installs nothing and rebuilds only what changed.

GW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Build and test dependencies (Debian 12 package names).
GW_PACKAGES=(build-essential cmake ninja-build pkg-config git python3 python3-zmq
             libgsl-dev libjansson-dev libzmq3-dev check libsubunit-dev clang-format
             libsdl2-dev libsdl2-ttf-dev libpng-dev fonts-dejavu-core fonts-noto-cjk
             fontconfig xvfb gnuplot-nox parallel libxml2-dev libmsgpack-dev clang
             libclang-rt-14-dev)

gw_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

gw_install_missing() {
  local missing=() p
  for p in "${GW_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  gw_log "installing: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# gw_build PRESET: configure (once) and build everything.
gw_build() {
  local preset=$1
  gw_log "building (preset $preset)"
  (cd "$GW_ROOT" && cmake --preset "$preset" >/dev/null && cmake --build --preset "$preset")
}
