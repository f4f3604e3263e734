"""Agents: RAGFlow's canvas DSL (components wired by downstream/upstream lists), validated and executed here."""
