"""Chat assistant defaults, as RAGFlow applies them."""

from __future__ import annotations

from typing import Any

# RAGFlow's defaults, word for word (its suites compare them exactly), indentation included
DEFAULT_SYSTEM = (
    "You are an intelligent assistant. Please summarize the content of the dataset to answer the question. "
    "Please list the data in the dataset and answer in detail. When all dataset content is irrelevant to the "
    "question, your answer must include the sentence \"The answer you are looking for is not found in the "
    "dataset!\" Answers need to consider chat history.\n"
    "      Here is the knowledge base:\n      {knowledge}\n      The above is the knowledge base."
)
DEFAULT_PROLOGUE = "Hi! I'm your assistant. What can I do for you?"
DEFAULT_EMPTY_RESPONSE = "Sorry! No relevant content was found in the knowledge base!"
DEFAULT_SIMILARITY_THRESHOLD = 0.1
CITATION_RULE = (
    "\n\nWhen you use a piece of knowledge, cite it right after the sentence as [ID:n], where n is the ID shown "
    "with that piece. Do not cite IDs that are not in the knowledge base."
)


def default_llm_setting() -> dict[str, Any]:
    return {"temperature": 0.1, "top_p": 0.3, "presence_penalty": 0.4, "frequency_penalty": 0.7}


def default_prompt_config() -> dict[str, Any]:
    return {
        "system": DEFAULT_SYSTEM,
        "prologue": DEFAULT_PROLOGUE,
        "parameters": [{"key": "knowledge", "optional": False}],
        "empty_response": DEFAULT_EMPTY_RESPONSE,
        "quote": True,
        "tts": False,
        "refine_multiturn": False,
        "use_kg": False,
        "reasoning": False,
        "cross_languages": [],
        "toc_enhance": False,
    }
