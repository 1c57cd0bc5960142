#!/usr/bin/env bash
# Translations: extract | update | compile | check (see docs/translating.md).
#   extract  write i18n/ladderbot.pot from the code (every _(), n_(), p_(), N_(), lazy())
#   update   extract, then merge the template into every language's .po (new strings empty)
#   compile  build the .mo files the bot reads (the set-up runs this; .mo is not committed)
#   check    compile with Babel's checks, then run the catalog tests
set -euo pipefail
cd "$(dirname "$0")/.."
BABEL=.venv/bin/pybabel
POT=i18n/ladderbot.pot
SOURCES=(ladder services cogs web app bot.py)
extract() {
    "$BABEL" -q extract -F babel.cfg --no-location --sort-output --add-comments=Translators: \
        --project=ladderbot --no-wrap \
        -k _ -k N_ -k n_:1,2 -k p_:1c,2 -k lazy -k translate:2 \
        -o "$POT" "${SOURCES[@]}"
    .venv/bin/python scripts/command_strings.py "$POT" >/dev/null
}
case "${1:-}" in
    extract) extract ;;
    update)
        extract
        "$BABEL" -q update -i "$POT" -d i18n/locales -D ladderbot --no-fuzzy-matching \
            --ignore-obsolete --no-wrap ;;
    compile) "$BABEL" -q compile -d i18n/locales -D ladderbot ;;
    check)
        "$BABEL" compile -d i18n/locales -D ladderbot --statistics
        .venv/bin/python -m pytest -q -n 0 tests/i18n ;;
    *) echo "usage: $0 extract|update|compile|check" >&2; exit 2 ;;
esac
