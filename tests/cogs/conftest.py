"""Fixtures the cog tests share."""

from tests.support.pseudo import pseudo  # noqa: F401 (the Korean pseudo catalog, a fixture)
