"""An Agent/LLM component's MCP tools (RAGFlow's Agent `mcp` parameter: [{"mcp_id", "tools": {name: the tool as
the server listed it}}]): offered to the model as functions (named "<tool>_<n>", as RAGFlow names them, so two
servers' tools of one name stay apart), called on the tenant's MCP server when the model asks, each call kept in the
component's trace (path, tool_name, arguments, result, elapsed_time), for at most `max_rounds` rounds.

Calling tools needs a chat model that can (an OpenAI-compatible one); the extractive answerer cannot choose tools,
so a component with MCP tools fails with a message saying so.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from ragcore.errors import ProviderError
from ragcore.ports import ChatModel, ToolCall
from ragcore.services.agents.engine.dsl import Component
from ragcore.services.agents.engine.runtime import ComponentFailed, Run

DEFAULT_ROUNDS = 5  # RAGFlow's AgentParam.max_rounds


@dataclass(frozen=True)
class McpTool:
    function: str  # the name the model calls
    mcp_id: str
    name: str  # the tool's own name on its server
    spec: dict[str, Any]  # OpenAI's function description


def offered(params: dict[str, Any]) -> list[McpTool]:
    tools: list[McpTool] = []
    for server in params.get("mcp") or []:
        if not isinstance(server, dict) or not server.get("mcp_id"):
            continue
        for name, meta in (server.get("tools") or {}).items():
            meta = meta if isinstance(meta, dict) else {}
            if meta.get("enabled") is False:
                continue
            function = f"{name}_{len(tools)}"
            schema = meta.get("inputSchema") or meta.get("input_schema") or {"type": "object", "properties": {}}
            tools.append(McpTool(function, str(server["mcp_id"]), str(name), {
                "type": "function", "function": {"name": function, "description": str(meta.get("description") or ""),
                                                 "parameters": schema}}))
    return tools


def _arguments(call: ToolCall) -> dict[str, Any] | None:
    try:
        value = json.loads(call.arguments or "{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def answer_with_tools(run: Run, cid: str, comp: Component, model: ChatModel, messages: list[dict[str, Any]],
                      options: dict[str, Any], tools: list[McpTool]) -> str:
    ask = getattr(model, "complete_with_tools", None)
    if ask is None:
        raise ComponentFailed(cid, comp.kind, "MCP tools need a chat model that can call tools: set LLM_BASE_URL to an "
                                              "OpenAI-compatible model, or name one of your models in llm_id")
    by_function = {t.function: t for t in tools}
    specs = [t.spec for t in tools]
    headers = {str(k): str(v) for k, v in (comp.params.get("custom_header") or {}).items()}
    conversation: list[dict[str, Any]] = list(messages)
    rounds = int(comp.params.get("max_rounds") or DEFAULT_ROUNDS)
    try:
        for _ in range(max(rounds, 1)):
            turn = ask(conversation, specs, **options)
            if not turn.calls:
                return str(turn.text)
            conversation.append({"role": "assistant", "content": turn.text or None, "tool_calls": [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in turn.calls]})
            for call in turn.calls:
                conversation.append({"role": "tool", "tool_call_id": call.id,
                                     "content": _call(run, cid, by_function.get(call.name), call, headers)})
        return str(ask(conversation, specs, **options).text)  # the rounds are spent: its answer as it stands
    except ProviderError as exc:
        raise ComponentFailed(cid, comp.kind, str(exc)) from exc


def _call(run: Run, cid: str, tool: McpTool | None, call: ToolCall, headers: dict[str, str]) -> str:
    started = time.time()
    arguments = _arguments(call)
    if tool is None:
        result = f"Error: the tool {call.name} does not exist."
    elif arguments is None:
        result = f"Error: the arguments of {call.name} must be a JSON object."
    else:
        result = run.tools.mcp_call(tool.mcp_id, tool.name, arguments, headers)
    run.tool_calls.setdefault(cid, []).append({
        "path": cid, "tool_name": call.name, "mcp_id": tool.mcp_id if tool else "", "mcp_tool": tool.name if tool else "",
        "arguments": arguments if arguments is not None else call.arguments, "result": result,
        "elapsed_time": round(time.time() - started, 4)})
    return result
