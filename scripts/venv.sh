# Sourced by the scripts: make .venv (Python 3.11+) and install the project with its dev extras.
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Python 3.11 or newer is needed (found $("$PYTHON" --version))." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
echo "== installing Python packages"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
# setuptools' reminder about editable installs is about its own tool, not this project: hidden.
PYTHONWARNINGS="ignore:Editable installation" \
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
