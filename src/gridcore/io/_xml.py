"""A small, safe XML reader and writer for the interchange formats (Open311).

Reading uses the standard library's expat parser directly, not `xml.etree`: the
document may not declare a DOCTYPE at all (a handler raises at its start), so no
entity can be declared, neither internal (no "billion laughs" expansion) nor
external (no file or network access); parameter entities are never parsed. The
five predefined entities and character references are all a document can use.
That is what defusedxml does, in a dozen lines, without the dependency.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from collections.abc import Iterator
from typing import Any, NamedTuple

from gridcore.errors import FileFormatError

__all__ = ["Element", "escape_text", "parse_xml", "xml_safe"]


class Element(NamedTuple):
    """An element: its local name (prefix dropped), attributes, text and children."""

    tag: str
    attrs: dict[str, str]
    text: str
    children: list[Element]

    def iter_children(self, tag: str) -> Iterator[Element]:
        """The children named `tag`, in order."""
        return (c for c in self.children if c.tag == tag)


class _Refused(Exception):
    """Raised inside expat's handlers to stop at a construct we do not accept."""


def _local(name: str) -> str:
    # "g:request" -> "request": a namespace prefix names no different element to us.
    return name.rpartition(":")[2]


def parse_xml(data: bytes, source: str, error: type[FileFormatError] = FileFormatError) -> Element:
    """The document's root element; `error` (a `FileFormatError`) for bad XML or a DOCTYPE."""
    parser = xml.parsers.expat.ParserCreate(encoding=None)
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[tuple[str, dict[str, str], list[str], list[Element]]] = []
    roots: list[Element] = []

    def refuse(*_: Any) -> None:
        raise _Refused("a DOCTYPE or entity declaration (refused: no DTDs)")

    def refuse_ref(*_: Any) -> int:
        raise _Refused("an external entity reference (refused: no DTDs)")

    def start(name: str, attributes: dict[str, str]) -> None:
        stack.append((_local(name), dict(attributes), [], []))

    def end(name: str) -> None:
        tag, attributes, text, children = stack.pop()
        el = Element(tag, attributes, "".join(text), children)
        (stack[-1][3] if stack else roots).append(el)

    def chars(data: str) -> None:
        if stack:
            stack[-1][2].append(data)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse_ref
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        raise error(source, "", "", "XML without a DOCTYPE", str(exc)) from None
    except xml.parsers.expat.ExpatError as exc:
        where = f"line {exc.lineno} column {exc.offset}"
        raise error(source, where, "", "well-formed XML", str(exc)) from None
    except (ValueError, LookupError) as exc:  # e.g. an unknown encoding declared
        raise error(source, "", "", "well-formed XML", str(exc)) from None
    if not roots:
        raise error(source, "", "", "an XML document with a root element")
    return roots[0]


# Characters XML 1.0 cannot carry at all (not even as references).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> bool:
    """Whether `text` can be written in an XML 1.0 document."""
    return _NOT_XML.search(text) is None


def escape_text(text: str) -> str:
    """`text` escaped for element content (& < > and \\r, which a parser would drop)."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )
