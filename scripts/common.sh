# Shared by the scripts in this folder: repository root, toolchain on PATH.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
  export PATH="/opt/swift/usr/bin:$PATH"
fi
if ! command -v swift >/dev/null 2>&1; then
  echo "$(basename "$0"): the Swift toolchain (swift) is not on PATH" >&2
  exit 1
fi
