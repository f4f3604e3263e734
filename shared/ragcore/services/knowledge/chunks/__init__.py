"""A dataset's chunks: `store.ChunkStore` writes and deletes them (rows and index records in step, keyword
statistics kept), `term_stats` holds the BM25 statistics, `tags` the chunk tags across a dataset."""
