"""The use cases of the product, one package per area. Each area's `__init__` says what it offers the others.

Areas are layered (pyproject.toml's import-linter contracts check it): an area imports only the areas below it,
never one above or beside it, and no area imports the HTTP edge (ragcore.api), an adapter or the composition root
(ragcore.bootstrap) — services get their adapters, as ports, and the services of other areas they call, as
constructor arguments.

    published                         bots (embeddable chat/agent/search), Dify's External Knowledge API
    agents | conversation | files     agent DSL runs · chats, completions, memories, search apps · file manager
    retrieval                         hybrid search over datasets
    ingestion                         parse → chunk → embed, dataset indexes (GraphRAG, RAPTOR, mind map), drop folder
    knowledge                         datasets, documents, chunks, metadata
    accounts | models | system        users, tenants, teams · model providers and routing · health, stats, traces
    common                            helpers every area uses (paging, stamps, names)
"""
