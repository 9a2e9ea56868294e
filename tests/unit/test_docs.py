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


_CJK = re.compile(r"[\u4e00-\u9fff]+")
SRC = DOCS.parent / "src" / "gridcore"


def test_domain_glossary_covers_every_chinese_term_in_the_source() -> None:
    """Each run of Chinese characters in src/ appears in docs/domain.md (add new ones there)."""
    text = (DOCS / "domain.md").read_text(encoding="utf-8")
    used: dict[str, str] = {}
    for path in sorted(SRC.rglob("*.py")):
        for term in _CJK.findall(path.read_text(encoding="utf-8")):
            used.setdefault(term, str(path.relative_to(SRC)))
    missing = {term: where for term, where in used.items() if term not in text}
    assert not missing, f"terms missing from the glossary in docs/domain.md: {missing}"
