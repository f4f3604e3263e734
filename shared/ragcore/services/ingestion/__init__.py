"""Ingestion: from bytes to searchable chunks.

Offers: `pipeline.IngestionService` (the queued jobs: plan → parse → chunk → embed → index, with leases and
progress), `index_tasks.IndexTaskService` (dataset-level GraphRAG, RAPTOR and mind map builds), `raptor` and
`term_graph` (their algorithms), `embedding_check.EmbeddingCheck`, `dropfolder.DropFolderService`
(`inbox/<dataset>/<path>` files as documents).
"""
