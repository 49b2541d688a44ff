"""Shared fixtures for the unit tests."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public test corpus in ../shared/data next to the repository (read in place, never copied)."""
    path = REPO_ROOT.parent / "shared" / "data"
    assert (path / "MANIFEST.md").is_file(), f"test corpus not found at {path}"
    return path
