"""Components that ask the chat model: LLM/Agent (a prompt with variable references) and Categorize.

A component's llm_id names one of the tenant's provider models (called with the tenant's key); any other runs on
the deployment's chat model (or the extractive answerer when none is set). Answers a Message shows are streamed
token by token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ragcore.errors import ProviderError
from ragcore.ports import ChatModel
from ragcore.services.agents.engine.components import Outcome, Spec
from ragcore.services.agents.engine.components.mcp_tools import answer_with_tools, offered
from ragcore.services.agents.engine.components.retrieval import search
from ragcore.services.agents.engine.dsl import Component
from ragcore.services.agents.engine.refs import bare_ref, referenced_components, walk_strings
from ragcore.services.agents.engine.runtime import ComponentFailed, LazyText, Run
from ragcore.text.tokenize import term_weights, tokenize

OPTION_KEYS = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "max_tokens")


def _history(run: Run, params: dict[str, Any]) -> list[dict[str, str]]:
    window = int(params.get("message_history_window_size", 12) or 0)
    return run.history[-window:] if window > 0 else []


def _knowledge(run: Run, texts: list[str]) -> list[dict[str, Any]]:
    """Chunks of the Retrieval components the prompt reads, for the extractive answerer to quote."""
    cids = {c for t in texts for c in referenced_components(t)}
    found = [c for cid in cids for c in (run.outputs.get(cid, {}).get("json") or []) if isinstance(c, dict)]
    return [{"id": n, "content": c.get("content", "")} for n, c in enumerate(found)]


def _streams_to_message(run: Run, cid: str, comp: Component) -> bool:
    for target in comp.downstream:
        other = run.dsl.components.get(target)
        if other and other.kind == "Message" and cid in referenced_components(" ".join(walk_strings(other.params.get("content")))):
            return True
    return False


def _model(run: Run, cid: str, comp: Component) -> tuple[ChatModel, bool]:
    """The model the component names and whether it is a real chat model (not the extractive fallback)."""
    llm_id = str(comp.params.get("llm_id") or "")
    try:
        own = run.tools.model_for(llm_id) if llm_id else None
    except ProviderError as exc:
        raise ComponentFailed(cid, comp.kind, str(exc)) from exc
    return (own, True) if own is not None else (run.tools.chat_model(), run.tools.has_llm)


def llm(run: Run, cid: str, comp: Component) -> Outcome:
    params = comp.params
    system = run.render(params.get("sys_prompt") or params.get("prompt") or "")
    texts = [str(params.get("sys_prompt") or params.get("prompt") or "")]
    for tool in params.get("tools") or []:
        if isinstance(tool, dict) and tool.get("component_name") == "Retrieval":
            found = search(run, {**(tool.get("params") or {}), "query": "sys.query"})
            system += "\n\nKnowledge:\n" + found["formalized_content"]
            run.outputs.setdefault(cid, {})["json"] = found["json"]
            texts.append("{" + cid + "@json}")
    prompts = [p for p in params.get("prompts") or [] if isinstance(p, dict) and p.get("content")]
    texts += [str(p["content"]) for p in prompts]
    user = [{"role": "assistant" if p.get("role") == "assistant" else "user", "content": run.render(p["content"])} for p in prompts]
    if not user:
        user = [{"role": "user", "content": str(run.resolve("sys.query") or "")}]
    messages = ([{"role": "system", "content": system}] if system.strip() else []) + _history(run, params) + user
    options = {k: params[k] for k in OPTION_KEYS if params.get(k) is not None}
    model, _ = _model(run, cid, comp)
    mcp = offered(params)
    if mcp:  # the model may call the MCP servers' tools first: its final answer is known once they are done
        text = answer_with_tools(run, cid, comp, model, list(messages), options, mcp)
        return Outcome({"content": LazyText(lambda: iter([text]))})
    options["knowledge"] = _knowledge(run, texts)

    def produce() -> Iterator[str]:
        try:
            yield from model.stream(messages, **options)
        except ProviderError as exc:
            raise ComponentFailed(cid, comp.kind, str(exc)) from exc

    answer = LazyText(produce)
    if not _streams_to_message(run, cid, comp):
        answer.text()
    return Outcome({"content": answer})


def categorize(run: Run, cid: str, comp: Component) -> Outcome:
    params = comp.params
    categories: dict[str, dict[str, Any]] = {str(k): v for k, v in (params.get("category_description") or {}).items() if isinstance(v, dict)}
    query_ref = bare_ref(params.get("query") or "sys.query")
    query = str(run.resolve(query_ref) if query_ref else run.render(params.get("query")))
    names = list(categories)
    model, asks = _model(run, cid, comp)
    chosen = _ask_model(model, cid, comp, query, categories) if asks else _by_terms(query, categories)
    name = chosen if chosen in categories else names[-1]
    target = categories[name].get("to") or []
    target = [target] if isinstance(target, str) else list(target)
    return Outcome({"category_name": name, "_next": target}, next=target)


def _examples(spec: dict[str, Any]) -> list[str]:
    raw = spec.get("examples") or []
    raw = raw if isinstance(raw, list) else str(raw).split("\n")
    return [str(e.get("value", "")) if isinstance(e, dict) else str(e) for e in raw if e]


def _ask_model(model: ChatModel, cid: str, comp: Component, query: str, categories: dict[str, dict[str, Any]]) -> str:
    lines = []
    for name, spec in categories.items():
        examples = "; ".join(_examples(spec))
        lines.append(f"- {name}: {spec.get('description', '')}" + (f" (examples: {examples})" if examples else ""))
    system = ("Classify the user's text into exactly one of these categories and reply with the category name only.\n"
              + "\n".join(lines))
    try:
        answer, _ = model.complete([{"role": "system", "content": system}, {"role": "user", "content": query}],
                                   temperature=0.0)
    except ProviderError as exc:
        raise ComponentFailed(cid, comp.kind, str(exc)) from exc
    text = answer.strip().lower()
    exact = [n for n in categories if n.lower() == text.strip(" .\"'`")]
    if exact:
        return exact[0]
    mentioned = sorted((n for n in categories if re.search(rf"\b{re.escape(n.lower())}\b", text)), key=lambda n: text.find(n.lower()))
    return mentioned[0] if mentioned else ""


def _by_terms(query: str, categories: dict[str, dict[str, Any]]) -> str:
    """Without a model: the category whose name, description and examples share the most weighted terms."""
    weights = term_weights(query)
    best, best_score = "", 0.0
    for name, spec in categories.items():
        terms = set(tokenize(" ".join([name, str(spec.get("description", "")), *_examples(spec)])))
        score = sum(w for t, w in weights.items() if t in terms)
        if score > best_score:
            best, best_score = name, score
    return best


def categorize_targets(params: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for spec in (params.get("category_description") or {}).values():
        to = spec.get("to") if isinstance(spec, dict) else None
        out += [to] if isinstance(to, str) else list(to or [])
    return out


SPECS = {
    "LLM": Spec(llm),
    "Agent": Spec(llm),
    "Generate": Spec(llm),
    "Categorize": Spec(categorize, targets=categorize_targets),
}
