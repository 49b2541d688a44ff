"""Shared fixtures for the unit tests."""

from pathlib import Path

import pytest

from services.annotate.domain.knowledge import KnowledgeBase
from services.common.oncotree import OncoTree, load_oncotree

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public test corpus in ../shared/data next to the repository (read in place, never copied)."""
    path = REPO_ROOT.parent / "shared" / "data"
    assert (path / "MANIFEST.md").is_file(), f"test corpus not found at {path}"
    return path


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    """The knowledge base annotate builds from what the project ships (no CIViC import)."""
    return KnowledgeBase.build()


@pytest.fixture(scope="module")
def tree() -> OncoTree:
    """The OncoTree table annotate ships; a module reading a dated OncoTree release overrides it."""
    return load_oncotree()
