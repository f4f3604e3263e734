"""Retrieval: hybrid search (vector + BM25, RAGFlow's scoring) over a tenant's datasets and the team datasets it may
read. Offers `service.RetrievalService` and `references` (how a retrieved chunk appears in an answer's reference)."""
