"""Begin, Message, Switch and the markers inside containers (IterationItem, LoopItem, ExitLoop)."""

from __future__ import annotations

import random
from typing import Any

from ragcore.services.agents.engine.components import Outcome, Spec
from ragcore.services.agents.engine.dsl import Component
from ragcore.services.agents.engine.refs import REF, as_text
from ragcore.services.agents.engine.runtime import LazyText, Run, StopLoop, settle


def begin(run: Run, cid: str, comp: Component) -> Outcome:
    given = run.inputs
    outputs: dict[str, Any] = {}
    for name, spec in (comp.params.get("inputs") or {}).items():
        value = given.get(name, spec.get("value") if isinstance(spec, dict) else None)
        outputs[name] = value
    for name, value in given.items():
        outputs.setdefault(name, value)
    return Outcome(outputs)


def reference(run: Run) -> dict[str, Any]:
    if not run.chunks:
        return {}
    aggs: dict[str, dict[str, Any]] = {}
    for chunk in run.chunks:
        agg = aggs.setdefault(chunk["document_name"], {"doc_name": chunk["document_name"], "doc_id": chunk["document_id"], "count": 0})
        agg["count"] += 1
    return {"chunks": {str(n): c for n, c in enumerate(run.chunks)}, "doc_aggs": aggs}


def message(run: Run, cid: str, comp: Component) -> Outcome:
    options = comp.params.get("content") or [""]
    template = random.choice(options) if isinstance(options, list) else str(options)  # noqa: S311 - RAGFlow picks one at random
    parts: list[str] = []
    cursor = 0

    def say(text: str) -> None:
        if text:
            parts.append(text)
            run.emit("message", {"content": text})

    for m in REF.finditer(str(template)):
        say(str(template)[cursor : m.start()])
        value = run.raw(m.group(1))
        if isinstance(value, LazyText):
            for delta in value.stream():
                say(delta)
        else:
            say(as_text(settle(value)))
        cursor = m.end()
    say(str(template)[cursor:])
    content = "".join(parts)
    run.answer.append(content)
    run.emit("message_end", {"reference": reference(run)})
    return Outcome({"content": content})


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def compare(left: Any, operator: str, right: Any) -> bool:
    """RAGFlow's Switch operators; numbers compare as numbers when both sides are numeric."""
    text, other = as_text(left), as_text(right)
    a, b = _number(left), _number(right)
    numeric = a is not None and b is not None
    match operator:
        case "contains":
            return other in text if not isinstance(left, list) else right in left or other in [as_text(x) for x in left]
        case "not contains":
            return not compare(left, "contains", right)
        case "start with":
            return text.startswith(other)
        case "end with":
            return text.endswith(other)
        case "empty":
            return left in (None, "", [], {})
        case "not empty":
            return left not in (None, "", [], {})
        case "=" | "==":
            return a == b if numeric else text == other
        case "≠" | "!=":
            return a != b if numeric else text != other
        case ">" | "<" | "≥" | "≤" | ">=" | "<=":
            if not numeric:
                return False
            assert a is not None and b is not None
            return {">": a > b, "<": a < b, "≥": a >= b, ">=": a >= b, "≤": a <= b, "<=": a <= b}[operator]
    raise ValueError(f"unknown operator '{operator}'")


def _operand(run: Run, item: dict[str, Any]) -> Any:
    value = item.get("value")
    if isinstance(value, str) and REF.search(value):
        return run.render(value)
    return value


def switch(run: Run, cid: str, comp: Component) -> Outcome:
    for n, condition in enumerate(comp.params.get("conditions") or []):
        items = condition.get("items") or []
        results = [compare(run.resolve(str(i.get("cpn_id", "")).strip("{}")), str(i.get("operator", "=")), _operand(run, i))
                   for i in items]
        hit = any(results) if str(condition.get("logical_operator", "and")).lower() == "or" else bool(results) and all(results)
        if hit:
            return Outcome({"_next": list(condition.get("to") or []), "matched": n}, next=list(condition.get("to") or []))
    fallback = list(comp.params.get("end_cpn_ids") or [])
    return Outcome({"_next": fallback, "matched": -1}, next=fallback)


def switch_targets(params: dict[str, Any]) -> list[str]:
    out = [t for c in params.get("conditions") or [] for t in (c.get("to") or [])]
    return out + list(params.get("end_cpn_ids") or [])


def passthrough(run: Run, cid: str, comp: Component) -> Outcome:
    return Outcome(dict(run.outputs.get(cid, {})))


def exit_loop(run: Run, cid: str, comp: Component) -> Outcome:
    raise StopLoop()


SPECS = {
    "Begin": Spec(begin),
    "Message": Spec(message),
    "Switch": Spec(switch, targets=switch_targets),
    "IterationItem": Spec(passthrough),
    "LoopItem": Spec(passthrough),
    "ExitLoop": Spec(exit_loop),
}
