"""One agent turn: resolve the session, run the DSL, stream its events, keep the conversation and the trace.

The executor calls back with events as components produce them; a streamed turn runs on a worker thread and
hands events over a queue, so the first tokens reach the client while later components still run.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ragcore.errors import ApiError, RetCode
from ragcore.ids import new_id
from ragcore.services.agents.engine.components.flow import reference
from ragcore.services.agents.engine.debug import input_form, run_component
from ragcore.services.agents.engine.dsl import parse_dsl
from ragcore.services.agents.engine.executor import finalize_trace, run_agent
from ragcore.services.agents.engine.runtime import ComponentFailed, Run, Tools
from ragcore.services.agents.service import AgentService
from ragcore.text.tokenize import count_tokens

Event = tuple[str, dict[str, Any]]
_END: Event = ("", {})


@dataclass
class Turn:
    tenant: str
    agent: dict[str, Any]
    session: dict[str, Any]
    query: str
    inputs: dict[str, Any]
    history: list[dict[str, str]]
    message_id: str = field(default_factory=new_id)
    started: float = field(default_factory=time.time)


@dataclass
class Result:
    content: str
    reference: dict[str, Any]
    trace: list[dict[str, Any]]
    error: str | None


def _unwrap(value: Any) -> Any:
    return value.get("value") if isinstance(value, dict) and "value" in value else value


class AgentRunner:
    def __init__(self, agents: AgentService, tools_for: Callable[[str], Tools]) -> None:
        self._agents = agents
        self._tools_for = tools_for

    def start(self, tenant: str, body: dict[str, Any], *, agent_id: str | None = None, openai: bool = False) -> Turn:
        agent_id = agent_id or body.get("agent_id")
        if not agent_id or not isinstance(agent_id, str):
            raise ApiError(RetCode.ARGUMENT_ERROR, "`agent_id` is required.")
        history: list[dict[str, str]] = []
        if openai:
            messages = body.get("messages")
            if not isinstance(messages, list) or not messages:
                raise ApiError(RetCode.DATA_ERROR, "You must provide at least one message.")
            users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
            if not users:
                raise ApiError(RetCode.DATA_ERROR, "You must provide at least one message.")
            query = str(users[-1].get("content") or "")
            last = len(messages) - 1 - messages[::-1].index(users[-1])
            history = [{"role": str(m["role"]), "content": str(m.get("content") or "")} for m in messages[:last]
                       if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
        else:
            raw = body.get("query", body.get("question", ""))
            if raw is not None and not isinstance(raw, str):
                raise ApiError(RetCode.ARGUMENT_ERROR, "`query` should be a string.")
            query = raw or ""
        inputs = body.get("inputs") or {}
        if not isinstance(inputs, dict):
            raise ApiError(RetCode.ARGUMENT_ERROR, "`inputs` should be an object.")
        session_id = body.get("session_id")
        if session_id:
            session = self._agents.find_session(tenant, str(session_id))
            if session is None:
                raise ApiError(RetCode.DATA_ERROR, "Session not found!")
            if session.get("agent_id") != agent_id:
                raise ApiError(RetCode.OPERATING_ERROR, "Session does not belong to the requested agent.")
            agent = self._agents.get_owned(tenant, agent_id)
            if not history:
                history = [{"role": m["role"], "content": m["content"]} for m in session.get("message", [])
                           if m.get("id") and m.get("role") in ("user", "assistant")]
        else:
            agent = self._agents.get_owned(tenant, agent_id)
            session = self._agents.create_session(tenant, agent_id, {"name": query[:255]}, str(body.get("user_id") or ""))
            session = {**session, "_inputs": {}}
        merged = {**{k: _unwrap(v) for k, v in (session.get("_inputs") or {}).items()},
                  **{k: _unwrap(v) for k, v in inputs.items()}}
        return Turn(tenant, agent, session, query, merged, history)

    # ---- one component ---------------------------------------------------------------------
    def input_form(self, tenant: str, agent_id: str, component_id: str) -> dict[str, Any]:
        agent = self._agents.get_owned(tenant, agent_id)
        try:
            return input_form(parse_dsl(agent["dsl"]), component_id)
        except ComponentFailed as exc:
            raise ApiError(RetCode.EXCEPTION_ERROR, str(exc)) from exc

    def debug(self, tenant: str, agent_id: str, component_id: str, body: dict[str, Any]) -> dict[str, Any]:
        if "params" not in body:
            raise ApiError(RetCode.ARGUMENT_ERROR, "required argument are missing: params; ")
        agent = self._agents.get_owned(tenant, agent_id)
        params = body["params"]
        if not isinstance(params, dict) or not all(isinstance(v, dict) and "value" in v for v in params.values()):
            raise ApiError(RetCode.EXCEPTION_ERROR, "`params` should map each input to {\"value\": …}.")
        dsl = parse_dsl(agent["dsl"])
        globals_ = {**{k: v for k, v in dsl.globals.items() if k.startswith("env.")},
                    "sys.query": "", "sys.user_id": tenant, "sys.conversation_turns": 1, "sys.files": [], "sys.history": []}
        try:
            return run_component(dsl, component_id, {k: v["value"] for k, v in params.items()}, self._tools_for(tenant), globals_)
        except ComponentFailed as exc:
            raise ApiError(RetCode.EXCEPTION_ERROR, str(exc)) from exc

    # ---- running ---------------------------------------------------------------------------
    def run_unkept(self, tenant: str, agent: dict[str, Any], inputs: dict[str, Any],
                   emit: Callable[[str, dict[str, Any]], None]) -> Result:
        """A run outside any session (a webhook call): nothing of it is kept but what emit keeps."""
        turn = Turn(tenant, agent, {"id": "", "message": [], "user_id": tenant}, "", inputs, [])
        return self._run(turn, emit, keep=False)

    def _run(self, turn: Turn, emit: Callable[[str, dict[str, Any]], None], keep: bool = True) -> Result:
        dsl = parse_dsl(turn.agent["dsl"])
        globals_: dict[str, Any] = {k: v for k, v in dsl.globals.items() if k.startswith("env.")}
        for name, spec in dsl.variables.items():
            globals_[name if name.startswith("env.") else f"env.{name}"] = spec.get("value") if isinstance(spec, dict) else spec
        turns = sum(1 for m in turn.session.get("message", []) if m.get("role") == "user") + 1
        globals_.update({"sys.query": turn.query, "sys.user_id": turn.session.get("user_id", ""),
                         "sys.conversation_turns": turns, "sys.files": [], "sys.history": turn.history})
        run = Run(dsl=dsl, tools=self._tools_for(turn.tenant), globals=globals_, history=turn.history, emit=emit,
                  inputs=turn.inputs)
        error = None
        try:
            run_agent(run)
        except ComponentFailed as exc:
            error = str(exc)
            emit("message", {"content": f"**ERROR**: {error}"})
            emit("message_end", {"reference": reference(run)})
        finalize_trace(run)
        content = "".join(run.answer) if error is None else f"**ERROR**: {error}"
        result = Result(content, reference(run), run.trace, error)
        if keep:
            self._keep(turn, result)
        return result

    def _keep(self, turn: Turn, result: Result) -> None:
        now = time.time()
        user = {"role": "user", "content": turn.query, "id": turn.message_id, "created_at": turn.started}
        assistant = {"role": "assistant", "content": result.content, "id": turn.message_id, "created_at": now}
        self._agents.record_turn(turn.tenant, turn.session["id"], user, assistant, result.reference,
                                 tokens=self.usage(turn, result.content)["total_tokens"], duration=now - turn.started)
        self._agents.save_trace(turn.tenant, turn.agent["id"], turn.message_id, result.trace)

    def complete(self, turn: Turn) -> Result:
        return self._run(turn, lambda event, data: None)

    def stream(self, turn: Turn) -> Iterator[Event]:
        """Events as the run produces them: workflow_started … node events, message, message_end … workflow_finished."""
        events: queue.Queue[Event] = queue.Queue()
        box: dict[str, Result] = {}

        def work() -> None:
            try:
                box["result"] = self._run(turn, lambda event, data: events.put((event, data)))
            finally:
                events.put(_END)

        yield "workflow_started", {"inputs": turn.inputs, "created_at": turn.started}
        worker = threading.Thread(target=work, name=f"agent-{turn.message_id}", daemon=True)
        worker.start()
        while (item := events.get()) is not _END:
            yield item
        worker.join()
        result = box.get("result")
        yield "workflow_finished", {
            "inputs": turn.inputs, "outputs": {"content": result.content if result else "", "reference": result.reference if result else {}},
            "error": result.error if result else "the run stopped unexpectedly",
            "elapsed_time": round(time.time() - turn.started, 4), "created_at": time.time(),
        }

    @staticmethod
    def usage(turn: Turn, content: str) -> dict[str, int]:
        prompt = count_tokens(turn.query)
        completion = count_tokens(content)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
