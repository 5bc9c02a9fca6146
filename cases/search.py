"""Full-text search over cases: reference, subject, customer, order and messages.

Each case has one search document, rebuilt by index_case() whenever a
service changes its text. SQLite keeps the documents in the FTS5 table
``cases_search_fts`` (rowid = case id); PostgreSQL keeps them as tsvectors
in CaseSearchVector behind a GIN index. Both store the words that words()
finds, folded: accents removed and case folded, so ``demande`` and
``demandé`` find each other on either database, and an email address or a
host name is split into words the same way on both. Emoji and other
symbols are stored as code point words, since both tokenizers drop them.
Every search word matches as a prefix, and a case must contain all of them.
"""

from __future__ import annotations

import re
import unicodedata

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, FloatField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL

from cases.models import CaseSearchVector, SupportCase, parse_case_reference

MAX_TERMS = 8
# PostgreSQL rejects a tsvector above 1 MB; the end of a longer thread is
# left out of the index.
MAX_BODY_CHARS = 200_000
# Letters and digits; the underscore separates words, as in FTS5.
WORD = re.compile(r"[^\W_]+")
# A word, or one character that is neither a word character nor a space.
TOKEN = re.compile(r"[^\W_]+|[^\w\s]")


def fold(text: str) -> str:
    """Return ``text`` without accents and in case-folded NFC form."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped.casefold())


def words(text: str) -> list[str]:
    """Return the folded words of ``text``, each symbol such as 😀 as a word.

    FTS5's unicode61 tokenizer and PostgreSQL's parser both drop symbols, so
    a symbol (Unicode category So, which covers emoji) is stored and searched
    as its code point in a word of its own: 😀 becomes ``u01f600``. Six hex
    digits keep every such word the same length, so a prefix match of one
    cannot match another. Skin tone modifiers and joiners are dropped.
    """
    result = []
    for token in TOKEN.findall(fold(text)):
        if WORD.fullmatch(token):
            result.append(token)
        elif unicodedata.category(token) == "So":
            result.append(f"u{ord(token):06x}")
    return result


def search_terms(query: str) -> list[str]:
    """Return the folded words of ``query``, at most MAX_TERMS of them."""
    return words(query)[:MAX_TERMS]


def index_case(case_id: int) -> None:
    """Rebuild the search document of one case from its current text."""
    case = SupportCase.objects.select_related("customer", "order").get(pk=case_id)
    heading = [case.reference, case.subject]
    if case.customer is not None:
        heading += [case.customer.name, case.customer.email]
    if case.order is not None:
        heading.append(case.order.number)
    bodies = case.messages.order_by("created_at", "id").values_list("body", flat=True)
    subject = " ".join(words(" ".join(heading)))
    body = " ".join(words("\n".join(bodies)))[:MAX_BODY_CHARS]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "INSERT INTO cases_casesearchvector (case_id, document) VALUES "
                "(%s, setweight(to_tsvector('simple', %s), 'A') || "
                "setweight(to_tsvector('simple', %s), 'B')) "
                "ON CONFLICT (case_id) DO UPDATE SET document = EXCLUDED.document",
                [case_id, subject, body],
            )
        else:
            cursor.execute("DELETE FROM cases_search_fts WHERE rowid = %s", [case_id])
            cursor.execute(
                "INSERT INTO cases_search_fts (rowid, subject, body) "
                "VALUES (%s, %s, %s)",
                [case_id, subject, body],
            )


def filter_cases(
    cases: QuerySet[SupportCase], query: str, *, ranked: bool = False
) -> QuerySet[SupportCase]:
    """Keep the cases that match ``query``; with ``ranked``, annotate ``rank``.

    A query that reads as a case reference (``C-123``) also finds that case.
    A query without any word matches nothing.
    """
    terms = search_terms(query)
    reference_pk = parse_case_reference(query)
    if not terms:
        cases = cases.none()
        return cases.annotate(rank=Value(0.0)) if ranked else cases
    if connection.vendor == "postgresql":
        tsquery = SearchQuery(
            " & ".join(f"{term}:*" for term in terms),
            search_type="raw",
            config="simple",
        )
        matches = CaseSearchVector.objects.filter(document=tsquery)
        condition = Q(pk__in=matches.values("case_id"))
        rank: Subquery | RawSQL = Subquery(
            matches.filter(case_id=OuterRef("pk"))
            .annotate(rank=SearchRank(F("document"), tsquery))
            .values("rank")[:1],
            output_field=FloatField(),
        )
    else:
        expression = " ".join(f'"{term}"*' for term in terms)
        condition = Q(
            pk__in=RawSQL(
                "SELECT rowid FROM cases_search_fts WHERE cases_search_fts MATCH %s",
                [expression],
            )
        )
        # bm25() is lower for better matches; a subject hit weighs ten body hits.
        rank = RawSQL(
            "SELECT -bm25(cases_search_fts, 10.0, 1.0) FROM cases_search_fts "
            "WHERE cases_search_fts MATCH %s AND rowid = cases_supportcase.id",
            [expression],
            output_field=FloatField(),
        )
    if reference_pk is not None:
        condition |= Q(pk=reference_pk)
    cases = cases.filter(condition)
    return cases.annotate(rank=rank) if ranked else cases


def reindex_all(batch_size: int = 500) -> int:
    """Rebuild every case's search document; return how many were indexed."""
    done = 0
    last = 0
    while True:
        ids = list(
            SupportCase.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return done
        for case_id in ids:
            index_case(case_id)
        done += len(ids)
        last = ids[-1]
