# Sourced by run.sh and test.sh: find Python >= 3.12, create .venv, install what pyproject.toml pins.
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail

_ok() { "$@" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }

find_python() {
    local cand v root
    for cand in ${PYTHON:-} python3.12 python3.13 python3 python; do
        if command -v "$cand" >/dev/null 2>&1 && _ok "$cand"; then
            command -v "$cand"; return 0
        fi
    done
    # pyenv installs shims that fail unless their version is selected: ask pyenv directly.
    if command -v pyenv >/dev/null 2>&1; then
        root=$(pyenv root)
        for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.[0-9]+(\.[0-9]+)?$' | sort -V); do
            cand="$root/versions/$v/bin/python3"
            if [ -x "$cand" ] && _ok "$cand"; then echo "$cand"; return 0; fi
        done
    fi
    return 1
}

ensure_venv() {
    local extras=$1 here stamp py
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    cd "$here"
    stamp=".venv/.installed-$extras-$(cksum pyproject.toml | cut -d' ' -f1)"
    if [ ! -x .venv/bin/python ] || ! _ok .venv/bin/python; then
        if ! py=$(find_python); then
            echo "ladderbot needs Python 3.12 or newer; none was found (set PYTHON=/path/to/python3.12)." >&2
            exit 2
        fi
        echo "Creating .venv with $py" >&2
        rm -rf .venv
        "$py" -m venv .venv
    fi
    if [ ! -f "$stamp" ]; then
        echo "Installing dependencies into .venv" >&2
        .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
        .venv/bin/python -m pip install --quiet -e ".[$extras]"
        rm -f .venv/.installed-*
        touch "$stamp"
    fi
    # The translations the bot reads (i18n/): compiled from the committed .po files.
    if compgen -G "i18n/locales/*/LC_MESSAGES/*.po" >/dev/null; then
        .venv/bin/pybabel -q compile -d i18n/locales -D ladderbot
    fi
}
