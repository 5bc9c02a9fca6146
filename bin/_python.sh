# Sourced by bin/demo and bin/test: find Python 3.12+ and create .venv with it.
# Set PYTHON to choose the interpreter.

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.12 python3.13 python3.14 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "Python 3.12 or newer was not found. Install it, or set PYTHON=/path/to/python3.12." >&2
  return 1
}

# ensure_venv REQUIREMENTS_FILE: create .venv if missing and install the pinned set
# whenever the file changed since the last install.
ensure_venv() {
  local requirements="$1" python stamp
  if [ ! -x .venv/bin/python ]; then
    python=$(find_python) || return 1
    echo "Creating .venv with $python"
    "$python" -m venv .venv || return 1
  fi
  stamp=".venv/.installed-$(basename "$requirements")"
  if [ ! -f "$stamp" ] || [ -n "$(find requirements*.txt -newer "$stamp")" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip &&
      .venv/bin/python -m pip install --quiet -r "$requirements" &&
      touch "$stamp"
  fi
}
