"""Docs that are generated from code stay in step with it."""

from __future__ import annotations

import re
from pathlib import Path

from gridcore.cases import mermaid_diagram

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_cases_doc_holds_the_current_diagram() -> None:
    """docs/cases.md shows exactly what `gridcore cases diagram` prints."""
    text = (DOCS / "cases.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)```", text, re.S)
    assert blocks, "docs/cases.md has no mermaid block"
    assert blocks[0].strip() == mermaid_diagram().strip()
