"""What the browser tests run: Debian's chromium and playwright-core, which `scripts/test.sh`
installs when missing (scripts/browser_deps.sh), and the folder a run keeps its screenshots in.

A missing browser fails the test (it does not skip): run the suite through `scripts/test.sh`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def chromium() -> str:
    path = os.environ.get("LINEAGE_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail("chromium is missing: run the tests with `bash scripts/test.sh`, which installs it")
    return path


def playwright_dir() -> str:
    path = os.environ.get("LINEAGE_PLAYWRIGHT_DIR")
    if not path or not (Path(path) / "playwright-core").is_dir():
        pytest.fail("playwright-core is missing: run the tests with `bash scripts/test.sh`, which installs it")
    return path


def artefact(name: str) -> Path:
    """Where a run keeps a file for people to look at (``$LINEAGE_TEST_ARTEFACTS``, else ./test-artefacts)."""
    folder = Path(os.environ.get("LINEAGE_TEST_ARTEFACTS") or ROOT / "test-artefacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def chromium_flags(profile: Path) -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--hide-scrollbars", f"--user-data-dir={profile}"]
