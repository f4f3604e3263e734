"""The local index's keyword half: tantivy (Lucene-style BM25 with block-max top-k pruning) on disk.

FTS5 scored every row matching any question term (~100 ms on common terms at 100k chunks); tantivy answers the same
questions in a few milliseconds and keeps its postings on disk (mmap), not in the process. Chunks arrive
pre-tokenized (ragcore.text.tokenize) and are split on spaces, so CJK and English match as everywhere else.

The SQLite rows of LocalVectorIndex stay the truth: a document here carries the row's rowid (`key`) and the fields a
question filters on. Only available chunks are indexed; switched-off documents and metadata filters are applied as
document-id filters at query time.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import tantivy

from ragcore.errors import StorageError

MAX_QUERY_TERMS = 64
COMMIT_DELAY_S = 0.5
_WRITER_HEAP = 32_000_000
_LOCK_WAIT_S = 10.0  # another process writing (a second server on the same DATA_DIR): wait for its commit


@dataclass(frozen=True)
class KeywordDoc:
    key: int
    tenant: str
    dataset_id: str
    document_id: str
    terms: str


@dataclass(frozen=True)
class DocumentClause:
    """Chunks of these documents (or, negated, of any other document)."""

    documents: tuple[str, ...]
    negate: bool = False


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("key", indexed=True, fast=True)
    for name in ("tenant", "dataset", "document"):
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("terms", tokenizer_name="whitespace", index_option="freq")  # BM25 needs no positions
    return builder.build()


class KeywordIndex:
    """Writes are buffered in one writer and committed COMMIT_DELAY_S later, or at once when a search needs them:
    a commit fsyncs (~30 ms), too much for every chunk added. The caller's rebuild marker covers what a crash loses
    before the commit; `on_committed` tells it when nothing is pending any more."""

    def __init__(self, path: Path, on_committed: Callable[[], None] | None = None) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._schema = _schema()
        try:
            self._index = tantivy.Index(self._schema, path=str(path), reuse=True)
        except (OSError, ValueError) as exc:
            raise StorageError(f"The keyword index at {path} could not be opened: {exc}") from exc
        self._lock = threading.RLock()
        self._writer: tantivy.IndexWriter | None = None
        self._dirty = False
        self._timer: threading.Timer | None = None
        self._on_committed = on_committed
        atexit.register(self.close)

    # ---- writes ---------------------------------------------------------------------------------
    def write(self, add: Sequence[KeywordDoc] = (), delete_keys: Iterable[int] = (),
              delete_queries: Sequence[tantivy.Query] = (), clear: bool = False) -> None:
        with self._lock:
            writer = self._writer = self._writer or self._open_writer()
            try:
                if clear:
                    writer.delete_all_documents()
                for key in delete_keys:
                    writer.delete_documents_by_term("key", key)
                for query in delete_queries:
                    writer.delete_documents_by_query(query)
                for item in add:
                    doc = tantivy.Document(tenant=item.tenant, dataset=item.dataset_id, document=item.document_id,
                                           terms=item.terms)
                    doc.add_integer("key", item.key)
                    writer.add_document(doc)
            except ValueError as exc:
                with contextlib.suppress(ValueError):
                    writer.rollback()
                raise StorageError(f"The keyword index could not be written: {exc}") from exc
            self._dirty = True
            if self._timer is None:
                self._timer = threading.Timer(COMMIT_DELAY_S, self._commit_later)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Commit what is pending, so that searches see it."""
        with self._lock:
            if not self._dirty or self._writer is None:
                return
            try:
                self._writer.commit()
            except ValueError as exc:
                raise StorageError(f"The keyword index could not be written: {exc}") from exc
            self._dirty = False
            self._index.reload()
            if self._on_committed is not None:
                self._on_committed()

    def _commit_later(self) -> None:
        with self._lock:
            self._timer = None
            try:
                self.flush()
            except StorageError:
                return  # the marker stays: the next start rebuilds from SQLite
            self._release()

    def _release(self) -> None:
        """Idle: merges finish and the writer goes, so nothing stays locked or running between bursts of writes."""
        if self._writer is not None and not self._dirty:
            writer, self._writer = self._writer, None
            writer.wait_merging_threads()

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            with contextlib.suppress(StorageError):
                self.flush()
            self._release()

    def _open_writer(self) -> tantivy.IndexWriter:
        deadline = time.monotonic() + _LOCK_WAIT_S
        while True:
            try:
                return self._index.writer(_WRITER_HEAP, 1)
            except ValueError as exc:
                if time.monotonic() > deadline:
                    raise StorageError(f"The keyword index is locked by another writer: {exc}") from exc
                time.sleep(0.05)

    def documents_query(self, tenant: str, field: str, value: str) -> tantivy.Query:
        """Every chunk of one tenant's document or dataset (field "document" / "dataset"), for a delete."""
        return tantivy.Query.boolean_query([
            (tantivy.Occur.Must, self._term("tenant", tenant)), (tantivy.Occur.Must, self._term(field, value))])

    # ---- reads ----------------------------------------------------------------------------------
    def search(self, tenant: str, terms: Sequence[str], top_k: int, dataset_ids: Sequence[str],
               document_ids: Sequence[str] | None = None, excluded_documents: Sequence[str] = (),
               clauses: Sequence[DocumentClause] = (), any_clause: bool = False) -> list[tuple[int, float]]:
        """(key, BM25 score) of the best chunks having any of `terms`, best first."""
        if not terms or not dataset_ids or top_k <= 0:
            return []
        text = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, self._term("terms", t)) for t in terms[:MAX_QUERY_TERMS]])
        filters = [self._term("tenant", tenant), self._terms("dataset", dataset_ids)]
        if document_ids:
            filters.append(self._terms("document", document_ids))
        if clauses:
            parts = [self._clause(c) for c in clauses]
            occur = tantivy.Occur.Should if any_clause else tantivy.Occur.Must
            filters.append(tantivy.Query.boolean_query([(occur, p) for p in parts]))
        query = [(tantivy.Occur.Must, text)]
        # filters score nothing, so BM25 alone orders the hits and top-k pruning stays effective
        query += [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters]
        if excluded_documents:
            query.append((tantivy.Occur.MustNot, self._terms("document", excluded_documents)))
        if self._dirty:
            self.flush()
        searcher = self._index.searcher()
        hits = searcher.search(tantivy.Query.boolean_query(query), top_k, count=False).hits
        keys = searcher.fast_field_values("key", [address for _, address in hits])
        return [(int(key), float(score)) for (score, _), key in zip(hits, keys, strict=True) if key is not None]

    def _clause(self, clause: DocumentClause) -> tantivy.Query:
        matched = self._terms("document", clause.documents) if clause.documents else tantivy.Query.empty_query()
        if not clause.negate:
            return matched
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, tantivy.Query.all_query()),
                                            (tantivy.Occur.MustNot, matched)])

    def _term(self, field: str, value: str) -> tantivy.Query:
        return tantivy.Query.term_query(self._schema, field, value)

    def _terms(self, field: str, values: Sequence[str]) -> tantivy.Query:
        return tantivy.Query.term_set_query(self._schema, field, list(values))

    def count(self) -> int:
        self.flush()
        return int(self._index.searcher().num_docs)
