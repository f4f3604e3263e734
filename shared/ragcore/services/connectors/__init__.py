"""Connectors: keep datasets in step with where documents live (RAGFlow's connector API).

Offers ConnectorService (the connectors, their links to datasets, logs, rebuild, test, and `tick`, the scheduler
that starts due runs from an indexed due list), ConnectorSync (one step of a run: a page of the source listed and
applied, incrementally by fingerprint) and OAuthFlows (the Google Drive / Gmail / Box web authorization flows).
It needs a Source per protocol (ragcore.domain.sources; the adapters are ragcore.adapters.sources) and the knowledge
area (a document created, its content replaced under the same id, parsed, deleted).
"""
