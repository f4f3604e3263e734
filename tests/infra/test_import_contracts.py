"""The layer rules of docs/architecture.md bite: the import-linter contracts `make test` runs pass on the tree as it
is, and each kind of wrong import, planted in a copy of the code, breaks the contract that forbids it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("house")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "console")
    shutil.copytree(ROOT / "shared", root / "shared", ignore=ignore)
    shutil.copytree(ROOT / "functions", root / "functions", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    yield root


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    # the copy comes first on the path, ahead of the editable install of the checkout
    env = {**os.environ, "PYTHONPATH": f"{root / 'shared'}{os.pathsep}{root}"}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)


def plant(root: Path, module: str, line: str) -> Path:
    path = root / "shared" / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{line}  # planted by the test\n")
    return path


def test_the_tree_keeps_every_contract(copy: Path) -> None:
    result = lint(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 7 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(("module", "line", "broken"), [
    # services know no HTTP...
    ("ragcore.services.knowledge.uploads", "import fastapi", "ragcore.services is not allowed to import fastapi"),
    # ...nor an adapter (and only the composition root may import one)
    ("ragcore.services.retrieval.service", "import ragcore.adapters.sqlite_store",
     "ragcore.services is not allowed to import ragcore.adapters"),
    # ...nor the composition root
    ("ragcore.services.conversation.chats", "import ragcore.bootstrap", "ragcore.services is not allowed to import ragcore.bootstrap"),
    # an area never imports one above it
    ("ragcore.services.knowledge.datasets", "import ragcore.services.conversation.chats",
     "ragcore.services.knowledge is not allowed to import ragcore.services.conversation"),
    # parsing is a library
    ("ragcore.parsing.plain", "import ragcore.services.knowledge.documents",
     "ragcore.parsing is not allowed to import ragcore.services"),
    # no circles inside a package
    ("ragcore.parsing.pdf_shared", "import ragcore.parsing.pdf", "No cycles are allowed in ragcore.parsing"),
])
def test_a_wrong_import_breaks_its_contract(copy: Path, module: str, line: str, broken: str) -> None:
    path = plant(copy, module, line)
    original = path.read_text().replace(f"\n{line}  # planted by the test\n", "")
    try:
        result = lint(copy)
    finally:
        path.write_text(original)
    assert result.returncode != 0
    assert broken in " ".join(result.stdout.split()), result.stdout  # the report wraps long lines
