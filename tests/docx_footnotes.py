"""Reading a Word export back: python-docx does not read footnotes."""

from __future__ import annotations

from pathlib import Path


def read_docx_footnotes(path: str | Path) -> dict[int, str]:
    """The footnotes of a Word document by number, read back from its footnotes part (for
    checking an export: python-docx does not read footnotes)."""
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn

    document = docx.Document(str(path))
    try:
        part = document.part.part_related_by(RT.FOOTNOTES)
    except KeyError:
        return {}
    root = parse_xml(part.blob)
    out = {}
    for note in root.findall(qn("w:footnote")):
        k = int(note.get(qn("w:id")))
        if k >= 1:
            out[k] = "".join(t.text or "" for t in note.iter(qn("w:t"))).strip()
    return out
