"""Iteration (run the children once per item of a list) and Loop (run them until a condition holds)."""

from __future__ import annotations

import json
from typing import Any

from ragcore.services.agents.engine.components import Outcome, Spec
from ragcore.services.agents.engine.components.flow import compare
from ragcore.services.agents.engine.components.variables import value_of
from ragcore.services.agents.engine.dsl import Component
from ragcore.services.agents.engine.refs import bare_ref
from ragcore.services.agents.engine.runtime import Run, StopLoop


def _start(run: Run, cid: str, kind: str) -> str:
    return next(c for c, comp in run.dsl.children(cid).items() if comp.kind == kind)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return [line for line in value.splitlines() if line.strip()]
        return parsed if isinstance(parsed, list) else [parsed]
    return [] if value is None else [value]


def iteration(run: Run, cid: str, comp: Component) -> Outcome:
    ref = bare_ref(comp.params.get("items_ref"))
    items = _as_list(run.resolve(ref) if ref else comp.params.get("items_ref"))
    if len(items) > run.tools.max_loop_rounds * 10:
        raise ValueError(f"{len(items)} items is more than the {run.tools.max_loop_rounds * 10} an Iteration runs")
    start = _start(run, cid, "IterationItem")
    collected: dict[str, list[Any]] = {name: [] for name in comp.params.get("outputs") or {}}
    for index, item in enumerate(items):
        run.outputs[start] = {"item": item, "index": index}
        run.run_scope(cid, start)
        for name, spec in (comp.params.get("outputs") or {}).items():
            out_ref = bare_ref(spec.get("ref") if isinstance(spec, dict) else spec)
            collected[name].append(run.resolve(out_ref) if out_ref else None)
    return Outcome({**collected, "items": items})


def loop(run: Run, cid: str, comp: Component) -> Outcome:
    params = comp.params
    state = run.outputs.setdefault(cid, {})
    for var in params.get("loop_variables") or []:
        raw = var.get("value")
        state[str(var.get("variable"))] = value_of(run, raw) if var.get("input_mode") == "variable" else raw
    limit = int(params.get("maximum_loop_count") or run.tools.max_loop_rounds)
    limit = max(1, min(limit, run.tools.max_loop_rounds))
    start = _start(run, cid, "LoopItem")
    rounds = 0
    while rounds < limit:
        rounds += 1
        run.outputs[start] = {"index": rounds - 1}
        try:
            run.run_scope(cid, start)
        except StopLoop:
            break
        if _done(run, cid, params):
            break
    return Outcome({**state, "rounds": rounds})


def _done(run: Run, cid: str, params: dict[str, Any]) -> bool:
    conditions = params.get("loop_termination_condition") or []
    if not conditions:
        return False
    results = []
    for cond in conditions:
        name = str(cond.get("variable", ""))
        left = run.resolve(name) if "@" in name or name.startswith(("sys.", "env.")) else run.outputs[cid].get(name)
        right = value_of(run, cond.get("value")) if cond.get("input_mode") == "variable" else cond.get("value")
        results.append(compare(left, str(cond.get("operator", "=")), right))
    return any(results) if str(params.get("logical_operator", "and")).lower() == "or" else all(results)


SPECS = {
    "Iteration": Spec(iteration, container_start="IterationItem"),
    "Loop": Spec(loop, container_start="LoopItem"),
}
