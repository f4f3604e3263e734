"""One conversational turn: retrieve, assemble a prompt that fits, ask the chat model, cite, remember.

The model sees the retrieved chunks numbered [ID:0], [ID:1]… inside the assistant's system prompt (its
{knowledge} variable); citations in the answer that point at no retrieved chunk are removed, so every
[ID:n] a client sees refers to chunks[n] of the reference.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ragcore.domain.chats import CITATION_RULE
from ragcore.errors import ApiError, ProviderError, RetCode
from ragcore.ports import ChatModel, ChatUsage
from ragcore.services.conversation.chats import ChatService, message_id
from ragcore.services.retrieval.references import reference_chunk

log = logging.getLogger(__name__)
CITATION = re.compile(r"\s?\[ID:(\d+)\]")
HISTORY_TURNS = 6


def count_tokens(text: str) -> int:
    # imported on first use: the tokenizer compiles its Unicode regexes, which the completions function's cold
    # import need not wait for (bench/package_size.py)
    from ragcore.text.tokenize import count_tokens as count

    return int(count(text))


@dataclass
class Turn:
    question: str
    messages: list[dict[str, str]]
    knowledge: list[dict[str, Any]]
    reference: dict[str, Any]
    empty_answer: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    tenant: str = ""  # whose model answers, and whose Langfuse (if any) receives the turn's trace
    llm_id: str = ""  # the chat's model: resolved when the answer starts, so a missing one is the answer's error
    started: float = field(default_factory=time.time)  # for the answer's duration in /system/stats
    chat_id: str = ""


def clean_citations(answer: str, n_chunks: int) -> str:
    return CITATION.sub(lambda m: m.group(0) if int(m.group(1)) < n_chunks else "", answer)


class CompletionService:
    def __init__(
        self,
        chats: ChatService,
        retrieve: Callable[..., dict[str, Any]],
        chat_model: Callable[[], ChatModel],
        *,
        context_tokens: int = 8192,
        document_metadata: Callable[[str, list[str]], dict[str, dict[str, Any]]] | None = None,
        tracer: Callable[[str, dict[str, Any]], None] | None = None,
        model_for: Callable[[str, str], ChatModel | None] | None = None,
    ) -> None:
        self._tracer = tracer
        self._model_for = model_for  # (tenant, llm_id) -> the tenant's model, or None for the deployment's
        self._chats = chats
        self._doc_meta = document_metadata
        self._retrieve = retrieve
        self._model = chat_model
        self._context = context_tokens

    # ---- prompt -------------------------------------------------------------------------------
    def prepare(
        self, tenant: str, chat: dict[str, Any] | None, question: str, history: list[dict[str, str]],
        *, metadata_condition: dict[str, Any] | None = None,
    ) -> Turn:
        if not question.strip():
            raise ApiError(RetCode.DATA_ERROR, "`question` is required.")
        if chat is None:
            messages = [*history[-2 * HISTORY_TURNS :], {"role": "user", "content": question}]
            return Turn(question, messages, [], {}, tenant=tenant)
        prompt = chat.get("prompt_config") or {}
        chunks: list[dict[str, Any]] = []
        if chat.get("dataset_ids"):
            found = self._retrieve(
                tenant, question=question, dataset_ids=chat["dataset_ids"], page=1, page_size=int(chat.get("top_n", 6)),
                similarity_threshold=float(chat.get("similarity_threshold", 0.2)),
                vector_similarity_weight=float(chat.get("vector_similarity_weight", 0.3)),
                top_k=int(chat.get("top_k", 1024)), rerank_id=chat.get("rerank_id") or None,
                metadata_condition=metadata_condition,
            )
            chunks = found["chunks"]
        if chat.get("dataset_ids") and not chunks and prompt.get("empty_response"):  # only when a search found nothing
            return Turn(question, [], [], {"total": 0, "chunks": [], "doc_aggs": []}, empty_answer=prompt["empty_response"],
                        tenant=tenant, chat_id=chat.get("id", ""))
        system_template = prompt.get("system") or "{knowledge}"
        budget = self._context - count_tokens(question) - sum(count_tokens(m["content"]) for m in history[-2 * HISTORY_TURNS :])
        budget -= count_tokens(system_template) + 256
        blocks: list[str] = []
        kept: list[dict[str, Any]] = []
        for n, chunk in enumerate(chunks):
            block = f"ID: {n}\n├── Title: {chunk.get('document_keyword', '')}\n└── Content: {chunk['content']}"
            cost = count_tokens(block)
            if cost > budget and kept:
                break  # the knowledge is cut, never the question
            budget -= cost
            blocks.append(block)
            kept.append(chunk)
        knowledge = "\n\n".join(blocks) if blocks else "(nothing relevant was found)"
        system = system_template.replace("{knowledge}", knowledge)
        if prompt.get("quote", True) and kept:
            system += CITATION_RULE
        messages = [{"role": "system", "content": system}, *history[-2 * HISTORY_TURNS :], {"role": "user", "content": question}]
        aggs: dict[str, dict[str, Any]] = {}
        for chunk in kept:
            agg = aggs.setdefault(chunk["document_id"], {"doc_name": chunk.get("document_keyword", ""), "doc_id": chunk["document_id"], "count": 0})
            agg["count"] += 1
        reference = {"total": len(kept), "chunks": [reference_chunk(c) for c in kept], "doc_aggs": list(aggs.values())}
        setting = chat.get("llm_setting") or {}
        options = {k: setting.get(k) for k in ("temperature", "top_p", "presence_penalty", "frequency_penalty", "max_tokens")}
        options["knowledge"] = [{"id": n, "content": c["content"]} for n, c in enumerate(kept)]
        return Turn(question, messages, kept, reference, options=options, tenant=tenant,
                    llm_id=str(chat.get("llm_id") or ""), chat_id=chat.get("id", ""))

    def _chat_model(self, turn: Turn) -> ChatModel:
        model = self._model_for(turn.tenant, turn.llm_id) if self._model_for and turn.llm_id else None
        return model or self._model()

    def add_document_metadata(self, tenant: str, turn: Turn, fields: list[str] | None) -> None:
        """Each reference chunk gets its document's metadata as `document_metadata` (only `fields`, when given;
        an empty list adds nothing)."""
        if self._doc_meta is None or (fields is not None and not fields):
            return
        chunks = turn.reference.get("chunks") or []
        metas = self._doc_meta(tenant, sorted({c["document_id"] for c in chunks}))
        for chunk in chunks:
            meta = metas.get(chunk["document_id"], {})
            chunk["document_metadata"] = {k: v for k, v in meta.items() if fields is None or k in fields}

    # ---- answering ----------------------------------------------------------------------------
    def stream(self, turn: Turn) -> Iterator[str]:
        if turn.empty_answer is not None:
            yield turn.empty_answer
            return
        deltas: list[str] = []
        for delta in self._chat_model(turn).stream(turn.messages, **turn.options):
            deltas.append(delta)
            yield delta
        answer = "".join(deltas)
        self._trace(turn, answer, self.usage_of(turn, answer))

    def complete(self, turn: Turn) -> tuple[str, ChatUsage]:
        if turn.empty_answer is not None:
            n = count_tokens(turn.empty_answer)
            return turn.empty_answer, {"prompt_tokens": count_tokens(turn.question), "completion_tokens": n,
                                       "total_tokens": count_tokens(turn.question) + n}
        answer, usage = self._chat_model(turn).complete(turn.messages, **turn.options)
        self._trace(turn, answer, usage if usage["total_tokens"] else self.usage_of(turn, answer))
        return clean_citations(answer, len(turn.knowledge)), usage

    def _trace(self, turn: Turn, answer: str, usage: ChatUsage) -> None:
        """Hand the finished turn to the tracer (which sends in the background); a tracer's failure is never ours."""
        if self._tracer is None or not turn.tenant:
            return
        try:
            self._tracer(turn.tenant, {
                "question": turn.question, "messages": turn.messages, "answer": answer, "usage": dict(usage),
                "model": self._model().model_name, "started": turn.started, "ended": time.time(), "chat_id": turn.chat_id,
            })
        except Exception:
            log.warning("completion trace not recorded", exc_info=True)

    def usage_of(self, turn: Turn, answer: str) -> ChatUsage:
        prompt = sum(count_tokens(m["content"]) for m in turn.messages) or count_tokens(turn.question)
        completion = count_tokens(answer)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def remember(self, tenant: str, session_id: str | None, turn: Turn, answer: str, msg_id: str) -> None:
        if not session_id:
            return
        user = {"role": "user", "content": turn.question, "id": msg_id}
        assistant = {"role": "assistant", "content": clean_citations(answer, len(turn.knowledge)), "id": msg_id,
                     "reference": turn.reference, "created_at": time.time()}
        self._chats.append_turn(tenant, session_id, user, assistant, tokens=self.usage_of(turn, answer)["total_tokens"],
                                duration=time.time() - turn.started)

    def related_questions(self, tenant: str, question: str, model: ChatModel | None) -> list[str]:
        """With a chat model (the search app's, the tenant's default or the deployment's): ask it. Without: questions
        built from the question's own keywords (documented rule)."""
        from ragcore.text.tokenize import keywords

        if not question.strip():
            raise ApiError(RetCode.ARGUMENT_ERROR, "`question` is required.")
        if model is not None:
            prompt = ("Write 5 short search questions closely related to the user's question, one per line, "
                      "without numbering or any other text.")
            try:
                text, _ = model.complete([{"role": "system", "content": prompt}, {"role": "user", "content": question}])
            except ProviderError as exc:
                raise ApiError(RetCode.SERVER_ERROR, str(exc)) from exc
            lines = [re.sub(r"^[\s\-\d.)*]+", "", line).strip() for line in text.splitlines()]
            return [line for line in lines if line][:5]
        words = keywords(question, 3) or [question.strip()]
        templates = ["What is {}?", "How does {} work?", "What are the benefits of {}?", "What are common problems with {}?",
                     "How to get started with {}?"]
        return [templates[n % len(templates)].format(words[n % len(words)]) for n in range(5)]


def new_message_id() -> str:
    return message_id()
