"""The tools an Agent (or LLM) component can be given in its `tools` list, described as RAGFlow's LLM tool plugins
describe themselves (GET /plugin/tools): a name, texts for the model and the interface, and the parameters.

Only what components/llm.py runs is listed: a tool named here must work in an agent.
"""

from __future__ import annotations

from typing import Any

LLM_TOOLS: tuple[dict[str, Any], ...] = (
    {
        "name": "Retrieval",  # the `component_name` an Agent's tools entry takes
        "displayName": "Retrieval",
        "description": "Search the knowledge bases (datasets) for passages relevant to the user's question.",
        "displayDescription": "Hybrid (vector + keyword) search over the datasets named in kb_ids; the passages found "
                              "are added to the prompt as knowledge and cited in the answer's reference.",
        "parameters": {
            "kb_ids": {"type": "array", "description": "The ids of the datasets to search.",
                       "displayDescription": "Datasets to search", "required": True},
            "top_n": {"type": "number", "description": "How many passages to return (default 8).",
                      "displayDescription": "Passages returned", "required": False},
            "similarity_threshold": {"type": "number", "description": "The lowest similarity a passage may have (default 0.2).",
                                     "displayDescription": "Similarity threshold", "required": False},
            "keywords_similarity_weight": {"type": "number", "description": "The weight of keyword similarity (default 0.5).",
                                           "displayDescription": "Keyword similarity weight", "required": False},
        },
    },
)


def llm_tools() -> list[dict[str, Any]]:
    return [dict(tool) for tool in LLM_TOOLS]
