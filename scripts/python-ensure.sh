#!/usr/bin/env bash
# Create the virtual environment ($2) with Python $1 (Django 6.1 needs 3.12 or newer).
# Looks for python$1 on PATH, then for pyenv's build of it (.python-version picks it).
set -euo pipefail
want="$1"; venv="$2"
candidates=("python$want")
if command -v pyenv >/dev/null 2>&1; then
  candidates+=("$(pyenv which python 2>/dev/null || true)")
  for root in "$(pyenv root)"/versions/"$want"*; do candidates+=("$root/bin/python"); done
fi
candidates+=(python3)
for py in "${candidates[@]}"; do
  [ -n "$py" ] || continue
  command -v "$py" >/dev/null 2>&1 || [ -x "$py" ] || continue
  if "$py" -c "import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)" 2>/dev/null; then
    echo "Creating $venv with $("$py" --version)"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    exit 0
  fi
done
echo "Python $want or newer is needed (Django 6.1). Install it, e.g. with pyenv or apt." >&2
exit 1
