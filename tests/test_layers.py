"""Dependencies point down: no module imports from a layer above its own.

The layer order is written once, here. A module may import from its own layer and from any
layer below; the packages come from pyproject.toml, so a new package must be given a layer.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lowest first: the domain, then storage and its cache, the use cases, the faces (Discord,
# the host's CLI and status, the website), and the entry point that wires them — beside it the
# playground, which runs that entry point against the local Discord (and bot.py starts it).
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"i18n", "ladder"}),
    frozenset({"cache", "storage"}),
    frozenset({"services"}),
    frozenset({"cogs", "app", "web"}),
    frozenset({"bot", "playground"}),
)
LAYER = {top: level for level, tops in enumerate(LAYERS) for top in tops}

# Packages beside the layers, which import none of them nor the test tools: the local Discord is
# Discord, not the bot (the end-to-end tests and the playground run the bot against it).
BESIDE = {"localdiscord": LAYER.keys() | {"pytest", "tests"}}

# Cogs call services, not repositories. These cog modules still import storage, and why.
COGS_USING_STORAGE = {
    # The bot's typed attributes: the database and the log writer it is handed to close.
    "cogs/bot.py": "wiring",
    # Every interaction reads its caller through the repository that owns the player cache.
    "cogs/pipeline.py": "the cached player read",
}


def first_party(root: Path) -> tuple[list[str], list[str]]:
    """Return the top-level packages and modules pyproject.toml ships (a subpackage such as
    app.stats is in its top-level package's layer)."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = project["tool"]["setuptools"]
    packages = [p for p in setuptools["packages"] if "." not in p]
    return packages, list(setuptools.get("py-modules", []))


def modules(root: Path) -> Iterator[tuple[str, Path]]:
    """Yield (top-level name, file) for every first-party module."""
    packages, py_modules = first_party(root)
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            yield package, path
    for module in py_modules:
        yield module, root / f"{module}.py"


def imported_tops(path: Path) -> set[str]:
    """Return the top-level names a module imports, wherever the import statement is."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    tops: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            tops.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside its own package
                continue
            if node.module:
                tops.add(node.module.split(".")[0])
    return tops


def upward_imports(root: Path) -> list[str]:
    """Return "module imports top (layer above)" for every import that points up."""
    offenders = []
    for top, path in modules(root):
        if top not in LAYER:
            continue
        own = LAYER[top]
        for imported in sorted(imported_tops(path)):
            if imported in LAYER and LAYER[imported] > own:
                offenders.append(f"{path.relative_to(root)} ({top}) imports {imported}")
    return offenders


def test_every_package_has_a_layer():
    packages, py_modules = first_party(ROOT)
    assert sorted(set(packages + py_modules) - LAYER.keys() - BESIDE.keys()) == []


def forbidden_imports(root: Path) -> list[str]:
    """Return "module imports top" for every package beside the layers that imports one."""
    return [
        f"{path.relative_to(root)} ({top}) imports {imported}"
        for top, path in modules(root)
        if top in BESIDE
        for imported in sorted(imported_tops(path) & BESIDE[top])
    ]


def test_the_local_discord_imports_nothing_of_the_bot():
    offenders = forbidden_imports(ROOT)
    assert not offenders, "imports of the bot or the tests:\n" + "\n".join(offenders)


def test_no_module_imports_from_a_layer_above():
    offenders = upward_imports(ROOT)
    assert not offenders, "imports that point up:\n" + "\n".join(offenders)


def test_cogs_reach_storage_only_through_services():
    using = {
        str(path.relative_to(ROOT))
        for top, path in modules(ROOT)
        if top == "cogs" and "storage" in imported_tops(path)
    }
    assert using == COGS_USING_STORAGE.keys(), (
        "cogs importing storage: call a service instead, or say why in COGS_USING_STORAGE"
    )


def test_web_reaches_storage_only_through_services():
    using = sorted(
        str(path.relative_to(ROOT))
        for top, path in modules(ROOT)
        if top == "web" and imported_tops(path) & {"storage", "cache"}
    )
    assert using == [], "web modules importing storage or the cache: call a service instead"


def test_the_check_sees_an_upward_import(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.setuptools]\npackages = ["ladder", "services"]\npy-modules = ["bot"]\n'
    )
    for package in ("ladder", "services"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "ladder" / "rules.py").write_text(
        "def f():\n    from services.views import X\n    return X\n"
    )
    (tmp_path / "services" / "use.py").write_text("import ladder.rules\nfrom bot import main\n")
    (tmp_path / "bot.py").write_text("import services.use\n")
    assert upward_imports(tmp_path) == [
        "ladder/rules.py (ladder) imports services",
        "services/use.py (services) imports bot",
    ]


def test_the_check_sees_the_local_discord_import_the_bot(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.setuptools]\npackages = ["localdiscord", "services"]\n'
    )
    for package in ("localdiscord", "services"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "localdiscord" / "server.py").write_text(
        "import json\nfrom services.queue import QueueService\nimport pytest\n"
    )
    assert forbidden_imports(tmp_path) == [
        "localdiscord/server.py (localdiscord) imports pytest",
        "localdiscord/server.py (localdiscord) imports services",
    ]


# Test modules that import others' tests on purpose, and why.
RERUNS: dict[str, str] = {}


def imports_of_test_modules(root: Path) -> list[str]:
    """Return "file imports module" for every import of a test module (``test_*.py``) under
    ``root``: shared steps and fixtures belong in helper modules and conftest.py."""
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if str(path.relative_to(root)) in RERUNS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = "." * node.level + (node.module or "")
                if node.level == 0 and not base.startswith("tests."):
                    continue  # not ours, e.g. aiohttp.test_utils
                joiner = "." if node.module else ""
                names = [base] + [f"{base}{joiner}{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names if alias.name.startswith("tests.")]
            else:
                continue
            for name in names:
                if any(part.startswith("test_") for part in name.split(".")):
                    offenders.append(f"{path.relative_to(root)} imports {name}")
                    break
    return offenders


def test_no_test_module_imports_another():
    offenders = imports_of_test_modules(ROOT / "tests")
    assert not offenders, "imports of test modules:\n" + "\n".join(offenders)


def test_the_check_sees_a_test_module_import(tmp_path):
    (tmp_path / "e2e").mkdir()
    (tmp_path / "e2e" / "flows.py").write_text("from aiohttp.test_utils import TestClient\n")
    (tmp_path / "e2e" / "test_a.py").write_text("from .flows import press\n")
    (tmp_path / "e2e" / "test_b.py").write_text("from .test_a import press\nfrom . import test_a\n")
    (tmp_path / "test_c.py").write_text("import tests.e2e.test_a\n")
    assert imports_of_test_modules(tmp_path) == [
        "e2e/test_b.py imports .test_a",
        "e2e/test_b.py imports .test_a",
        "test_c.py imports tests.e2e.test_a",
    ]
