"""`make run` reloads on code changes while watching only the apps' folders (not .venv, see the Makefile)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Packages that the served site never imports: a change there needs no reload.
NOT_SERVED = {"bench", "tests"}


def _reload_dirs() -> set[str]:
    match = re.search(r"^RELOAD_DIRS := (.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert match, "the Makefile defines RELOAD_DIRS"
    return set(match.group(1).split())


def test_make_run_watches_every_served_package_and_nothing_else() -> None:
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - NOT_SERVED
    assert _reload_dirs() == packages


def test_make_run_passes_the_reload_dirs_to_uvicorn() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "RELOAD := --reload $(addprefix --reload-dir ,$(RELOAD_DIRS))" in makefile
    assert "--port $(PORT) $(RELOAD) --no-proxy-headers" in makefile
