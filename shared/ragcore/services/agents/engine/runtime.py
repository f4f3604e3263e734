"""What a running agent holds: the DSL, global and component outputs, the conversation, the tools components may
use, and the event sink streamed to the client."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ragcore.ports import ChatModel, HttpFetch
from ragcore.services.agents.engine.dsl import Dsl
from ragcore.services.agents.engine.refs import dig, render


class ComponentFailed(Exception):
    def __init__(self, component_id: str, kind: str, message: str) -> None:
        super().__init__(f"Component '{component_id}' ({kind}) failed: {message}")
        self.component_id = component_id


class StopLoop(Exception):
    """Raised by ExitLoop: the enclosing Loop ends after this pass."""


def _no_mcp() -> str:
    raise RuntimeError("MCP servers are not available to this run")


@dataclass
class Tools:
    """Services a run may call, injected by the agent service so components stay free of adapters."""

    retrieve: Callable[..., dict[str, Any]]
    chat_model: Callable[[], ChatModel]
    has_llm: bool
    fetch: HttpFetch
    max_steps: int = 500
    max_loop_rounds: int = 100
    # llm_id -> the tenant's own model of that name (ProviderError when it was removed), None for the deployment's
    model_for: Callable[[str], ChatModel | None] = lambda _llm_id: None
    # (mcp server id, tool name, arguments, extra headers) -> the tool's answer as text, for the model (an unknown or
    # foreign server raises); the tenant's MCP servers (RAGFlow's mcp_api)
    mcp_call: Callable[[str, str, dict[str, Any], dict[str, str]], str] = field(default=lambda *_: _no_mcp())


class LazyText:
    """An LLM answer not asked for yet: a Message streams it token by token; anything else reads it whole."""

    def __init__(self, produce: Callable[[], Iterator[str]]) -> None:
        self._produce = produce
        self._text: str | None = None
        self._lock = threading.Lock()

    def stream(self) -> Iterator[str]:
        if self._text is not None:
            yield self._text
            return
        parts: list[str] = []
        for delta in self._produce():
            parts.append(delta)
            yield delta
        self._text = "".join(parts)

    def text(self) -> str:
        with self._lock:
            if self._text is None:
                self._text = "".join(self._produce())
        return self._text

    @property
    def done(self) -> bool:
        return self._text is not None


def settle(value: Any) -> Any:
    return value.text() if isinstance(value, LazyText) else value


@dataclass
class Run:
    dsl: Dsl
    tools: Tools
    globals: dict[str, Any]
    history: list[dict[str, str]]
    emit: Callable[[str, dict[str, Any]], None]
    inputs: dict[str, Any] = field(default_factory=dict)  # Begin's inputs, by name
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    trace: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # component id -> its tool calls
    chunks: list[dict[str, Any]] = field(default_factory=list)
    answer: list[str] = field(default_factory=list)
    steps: int = 0
    # runs a container's children (Iteration, Loop): the executor installs itself when the run starts, so the
    # components never import the executor that imports them
    children: Callable[[Run, str | None, str], None] | None = None

    def run_scope(self, scope: str | None, start: str) -> None:
        if self.children is None:
            raise ComponentFailed(scope or "", "", "containers run only inside a whole run of the agent")
        self.children(self, scope, start)

    def raw(self, ref: str) -> Any:
        """A reference's value as stored (an LLM answer may still be LazyText)."""
        if ref.startswith(("sys.", "env.")):
            if ref in self.globals:
                return self.globals[ref]
            head, _, rest = ref.partition(".")
            name, _, path = rest.partition(".")
            return dig(self.globals.get(f"{head}.{name}"), path.split(".")) if path else None
        cid, _, path = ref.partition("@")
        outputs = self.outputs.get(cid, {})
        if path in outputs:
            return outputs[path]
        key, _, rest = path.partition(".")
        return dig(settle(outputs.get(key)), rest.split(".")) if rest else None

    def resolve(self, ref: str) -> Any:
        return settle(self.raw(ref))

    def render(self, text: Any) -> str:
        return render(str(text or ""), self.resolve)

    def assign(self, ref: str, value: Any) -> None:
        if ref.startswith(("sys.", "env.")):
            self.globals[ref] = value
            return
        cid, _, key = ref.partition("@")
        self.outputs.setdefault(cid, {})[key] = value
