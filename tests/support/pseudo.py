"""A pseudo catalog for Korean that marks every text it translates (⟪…⟫), so a test can show
each text a view or embed shows went through the catalog, before any real translation exists."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from babel.support import NullTranslations

import i18n

MARK = re.compile(r"^⟪.*⟫$", re.DOTALL)


class Pseudo(NullTranslations):
    """A catalog that marks every text it translates, to show that each one went through it."""

    def gettext(self, message: str) -> str:
        return f"⟪{message}⟫"

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return f"⟪{msgid1 if n == 1 else msgid2}⟫"


@pytest.fixture
def pseudo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Korean reads the pseudo catalog; English stays the source text."""
    original = i18n.catalog
    monkeypatch.setattr(
        i18n, "catalog", lambda language: Pseudo() if language == "ko" else original(language)
    )
    yield
