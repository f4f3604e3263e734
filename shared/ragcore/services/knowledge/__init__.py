"""Knowledge: datasets, their documents and chunks, and the documents' metadata.

Offers: `datasets.DatasetService`; `documents.DocumentService` (upload, list, update, delete, the parse state
machine: queue, lease, stop); `document_assets` (thumbnails, images, previews, artifacts); `uploads` (presigned
uploads); `ingestion_logs` (the log of parse and index runs); `structure_graph`; `chunks.store.ChunkStore` (chunk
rows and index records kept in step: the only writer of chunks), `chunks.term_stats` (BM25 statistics),
`chunks.tags`; `chunk_editing.ChunkService` (the chunk API: list, add, edit, switch, delete);
`document_metadata.MetadataService` (summaries and batch updates of documents' metadata); `metadata` (the
metadata_condition filter, each dataset's value vocabulary).
"""
