"""Which documents a question may be answered from: by document, publisher, language, date.

Filters apply to retrieval itself (passages of other documents are never ranked), not to
what is displayed afterwards, so an answer is never quietly made of fewer passages.
Dates may be partial ("2024", "2024-07"): a document dated "2024-07" is inside a range
that overlaps July 2024. A document without a date is left out when a date range is set.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from qa.documents import Document
from qa.errors import BadQuestion
from qa.ingest.language import language_name

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


@dataclass(frozen=True)
class Filters:
    """Empty fields do not filter. Build with `Filters.of(...)` from whatever a UI sends."""

    documents: frozenset[str] = frozenset()  # doc ids
    publishers: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()  # ISO 639-1 codes
    date_from: str | None = None  # ISO 8601, possibly partial
    date_to: str | None = None

    @classmethod
    def of(
        cls,
        documents: Iterable[str] | None = None,
        publishers: Iterable[str] | None = None,
        languages: Iterable[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> Filters:
        """Filters from loose input: None or empty means no restriction; dates are checked."""
        for label, value in (("from", date_from), ("to", date_to)):
            if value and not _DATE.fullmatch(value.strip()):
                raise BadQuestion(
                    f"Date {label} {value!r} is not a date; write it as YYYY, YYYY-MM or "
                    "YYYY-MM-DD."
                )
        start, end = (date_from or "").strip() or None, (date_to or "").strip() or None
        if start and end and date_bounds(start)[0] > date_bounds(end)[1]:
            raise BadQuestion(f"The date range {start} to {end} is empty; swap the dates.")
        return cls(
            frozenset(d for d in documents or () if d),
            frozenset(p for p in publishers or () if p),
            frozenset(x for x in languages or () if x),
            start,
            end,
        )

    @property
    def active(self) -> bool:
        return bool(
            self.documents or self.publishers or self.languages or self.date_from or self.date_to
        )

    def admits(self, doc: Document) -> bool:
        m = doc.meta
        if self.documents and doc.doc_id not in self.documents:
            return False
        if self.publishers and (m.publisher or "") not in self.publishers:
            return False
        if self.languages and (m.language or "und") not in self.languages:
            return False
        if self.date_from or self.date_to:
            if not m.date or not _DATE.match(m.date):
                return False
            first, last = date_bounds(m.date)
            if self.date_from and last < date_bounds(self.date_from)[0]:
                return False
            if self.date_to and first > date_bounds(self.date_to)[1]:
                return False
        return True

    def check(self, documents: Mapping[str, Document]) -> None:
        """Refuse filters that name unknown documents or leave nothing to search."""
        unknown = sorted(self.documents - set(documents))
        if unknown:
            raise BadQuestion(
                f"No document {', '.join(map(repr, unknown))} in the index; pick documents "
                "from the library list."
            )
        if not any(self.admits(d) for d in documents.values()):
            raise BadQuestion(
                "No indexed document matches the filters "
                f"({self.describe({d: doc.meta.title for d, doc in documents.items()})}); "
                "widen or clear them."
            )

    def describe(self, titles: Mapping[str, str] | None = None) -> str:
        """One line for the answer: what the search was restricted to (documents by their
        title where `titles` knows it)."""
        parts = []
        if self.documents:
            names = [(titles or {}).get(d, d) for d in sorted(self.documents)]
            parts.append("documents: " + "; ".join(names))
        if self.publishers:
            parts.append("publishers: " + ", ".join(sorted(self.publishers)))
        if self.languages:
            parts.append(
                "languages: " + ", ".join(language_name(x) for x in sorted(self.languages))
            )
        if self.date_from and self.date_to:
            parts.append(f"dated {self.date_from} to {self.date_to}")
        elif self.date_from:
            parts.append(f"dated {self.date_from} or later")
        elif self.date_to:
            parts.append(f"dated {self.date_to} or earlier")
        return "; ".join(parts)

    def to_dict(self) -> dict:
        return {
            "documents": sorted(self.documents),
            "publishers": sorted(self.publishers),
            "languages": sorted(self.languages),
            "date_from": self.date_from,
            "date_to": self.date_to,
        }


def date_bounds(date: str) -> tuple[str, str]:
    """First and last day that a possibly partial ISO date covers, as YYYY-MM-DD."""
    m = _DATE.match(date.strip())
    if not m:
        raise BadQuestion(f"{date!r} is not a date; write it as YYYY, YYYY-MM or YYYY-MM-DD.")
    year, month, day = m.group(1), m.group(2), m.group(3)
    if day:
        return f"{year}-{month}-{day}", f"{year}-{month}-{day}"
    if month:
        last = calendar.monthrange(int(year), min(max(int(month), 1), 12))[1]
        return f"{year}-{month}-01", f"{year}-{month}-{last:02d}"
    return f"{year}-01-01", f"{year}-12-31"


def document_date_bounds(date: str) -> tuple[str, str] | None:
    """The `date_bounds` of a document's date, or None when it is not an ISO date (the
    Postgres store keeps these bounds in columns to filter in SQL)."""
    return date_bounds(date) if _DATE.match(date) else None
