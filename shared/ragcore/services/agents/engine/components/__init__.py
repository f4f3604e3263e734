"""Component types the executor runs, by RAGFlow's component_name; each module holds one family."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ragcore.services.agents.engine.dsl import Component
from ragcore.services.agents.engine.runtime import Run


@dataclass
class Outcome:
    outputs: dict[str, Any] = field(default_factory=dict)
    next: list[str] | None = None  # the downstream to follow; None: all of it


Handler = Callable[[Run, str, Component], Outcome]


@dataclass(frozen=True)
class Spec:
    run: Handler
    targets: Callable[[dict[str, Any]], list[str]] = lambda params: []  # branch targets named in params
    container_start: str = ""  # Iteration/Loop: the start component their children begin at


def component_specs() -> dict[str, Spec]:
    from ragcore.services.agents.engine.components import containers, flow, invoke, llm, retrieval, variables

    specs: dict[str, Spec] = {}
    for module in (flow, llm, retrieval, variables, containers, invoke):
        specs.update(module.SPECS)
    return specs


# RAGFlow components we knowingly do not run: named in the refusal so the user knows it is a choice, not a typo.
NOT_OFFERED = {
    "TavilySearch", "TavilyExtract", "Wikipedia", "PubMed", "ArXiv", "Google", "GoogleScholar", "DuckDuckGo", "BaiDu",
    "Bing", "Email", "ExeSQL", "Crawler", "AkShare", "YahooFinance", "Jin10", "TuShare", "WenCai", "QWeather", "DeepL",
    "GitHub", "SearXNG", "UserFillUp", "Browser", "DocsGenerator", "ListOperations", "DataOperations", "Tool",
}
CODE_RUNNERS = {"Code", "CodeExec"}
