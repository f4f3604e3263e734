"""Walks the graph from Begin: a component runs once every upstream link into it has settled and at least one
fired; a branch (Categorize, Switch) fires only the links it chose, and links that can no longer fire settle as
skipped so joins after a branch still run. Iteration and Loop run their children as a scope of their own."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from ragcore.services.agents.engine.components import Spec, component_specs
from ragcore.services.agents.engine.dsl import Dsl
from ragcore.services.agents.engine.refs import REF, walk_strings
from ragcore.services.agents.engine.runtime import ComponentFailed, LazyText, Run, StopLoop


def scope_edges(dsl: Dsl, scope: str | None, specs: dict[str, Spec]) -> dict[str, list[str]]:
    edges = dsl.edges(scope)
    for cid, targets in edges.items():
        spec = specs.get(dsl.components[cid].kind)
        for target in spec.targets(dsl.components[cid].params) if spec else []:
            if target in edges and target not in targets:
                targets.append(target)
    return edges


def _reachable(edges: dict[str, list[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def run_agent(run: Run) -> None:
    run.children = run_scope
    begin = run.dsl.begin_id()
    if begin is None:
        raise ComponentFailed("begin", "Begin", "the DSL has no Begin component")
    run_scope(run, None, begin)


def run_scope(run: Run, scope: str | None, start: str) -> None:
    specs = component_specs()
    edges = scope_edges(run.dsl, scope, specs)
    reach = _reachable(edges, start)
    incoming = {c: {s for s in reach if c in edges[s]} for c in reach}
    settled: dict[str, set[str]] = {c: set() for c in reach}
    fired: dict[str, set[str]] = {c: set() for c in reach}
    queue: deque[str] = deque([start])

    def settle(src: str, dst: str, on: bool) -> None:
        settled[dst].add(src)
        if on:
            fired[dst].add(src)
        if settled[dst] >= incoming[dst]:
            if fired[dst]:
                queue.append(dst)
            else:
                for nxt in edges[dst]:
                    settle(dst, nxt, False)

    while queue:
        cid = queue.popleft()
        chosen = execute(run, cid, specs)
        for nxt in edges[cid]:
            settle(cid, nxt, chosen is None or nxt in chosen)


def _public(value: Any) -> Any:
    if isinstance(value, LazyText):
        return value.text() if value.done else ""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not k.startswith("_")}
    return value


def _inputs(run: Run, params: dict[str, Any]) -> dict[str, Any]:
    refs = {m.group(1) for text in walk_strings(params) for m in REF.finditer(text)}
    return {ref: _public(run.raw(ref)) for ref in sorted(refs)}


def execute(run: Run, cid: str, specs: dict[str, Spec]) -> list[str] | None:
    comp = run.dsl.components[cid]
    spec = specs[comp.kind]
    run.steps += 1
    if run.steps > run.tools.max_steps:
        raise ComponentFailed(cid, comp.kind, f"the run took more than {run.tools.max_steps} steps")
    started = time.time()
    base = {"component_id": cid, "component_name": comp.kind, "component_type": comp.kind, "created_at": started}
    inputs = _inputs(run, comp.params)
    run.emit("node_started", {**base, "inputs": inputs, "thoughts": ""})
    error: str | None = None
    try:
        outcome = spec.run(run, cid, comp)
    except StopLoop:
        raise
    except ComponentFailed as exc:
        error = str(exc)
        raise
    except Exception as exc:  # noqa: BLE001 - any fault inside a component fails the run with its name, never the server
        error = str(ComponentFailed(cid, comp.kind, str(exc) or type(exc).__name__))
        raise ComponentFailed(cid, comp.kind, str(exc) or type(exc).__name__) from exc
    finally:
        elapsed = round(time.time() - started, 4)
        if error is not None:
            run.emit("node_finished", {**base, "inputs": inputs, "outputs": {}, "error": error, "elapsed_time": elapsed})
            run.trace.append({"component_id": cid, "component_name": comp.kind, "inputs": inputs, "outputs": {},
                              "error": error, "elapsed_time": elapsed, **_tool_trace(run, cid)})
    run.outputs.setdefault(cid, {}).update(outcome.outputs)
    outputs = _public(run.outputs[cid])
    run.emit("node_finished", {**base, "inputs": inputs, "outputs": outputs, "error": None, "elapsed_time": elapsed})
    run.trace.append({"component_id": cid, "component_name": comp.kind, "inputs": inputs, "outputs": outputs,
                      "error": None, "elapsed_time": elapsed, **_tool_trace(run, cid)})
    return outcome.next


def _tool_trace(run: Run, cid: str) -> dict[str, Any]:
    """The tool calls the component made (RAGFlow's per-component `trace`: path, tool_name, arguments, result,
    elapsed_time), when it made any."""
    calls = run.tool_calls.pop(cid, [])
    return {"trace": calls} if calls else {}


def finalize_trace(run: Run) -> None:
    """LLM answers streamed through a Message were still pending when their node finished: fill them in."""
    for entry in run.trace:
        value = run.outputs.get(entry["component_id"], {}).get("content")
        if entry["error"] is None and entry["outputs"].get("content") == "" and isinstance(value, LazyText) and value.done:
            entry["outputs"]["content"] = value.text()
