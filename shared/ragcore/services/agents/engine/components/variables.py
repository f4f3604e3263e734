"""Variable assigner, variable aggregator and text processing (StringTransform)."""

from __future__ import annotations

import re
from typing import Any

from ragcore.services.agents.engine.components import Outcome, Spec
from ragcore.services.agents.engine.dsl import Component
from ragcore.services.agents.engine.refs import REF, as_text, bare_ref
from ragcore.services.agents.engine.runtime import Run


def value_of(run: Run, raw: Any) -> Any:
    """A param that is one reference gives the referenced value (keeping its type); text with references is rendered."""
    ref = bare_ref(raw) if isinstance(raw, str) and ("@" in raw or raw.strip("{} ").startswith(("sys.", "env."))) else None
    if ref:
        return run.resolve(ref)
    if isinstance(raw, str) and REF.search(raw):
        return run.render(raw)
    return raw


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"'{as_text(value)}' is not a number") from None


def apply(current: Any, operator: str, operand: Any) -> Any:
    match operator.replace("-", "_"):
        case "overwrite" | "set":
            return operand
        case "clear":
            return [] if isinstance(current, list) else "" if isinstance(current, str) else None
        case "append":
            return [*(current or []), operand] if not isinstance(current, str) else current + as_text(operand)
        case "extend":
            return [*(current or []), *(operand if isinstance(operand, list) else [operand])]
        case "remove_first":
            return list(current or [])[1:]
        case "remove_last":
            return list(current or [])[:-1]
        case "+=" | "-=" | "*=" | "/=":
            a, b = _number(current or 0), _number(operand)
            result = {"+=": a + b, "-=": a - b, "*=": a * b, "/=": a / b if b else float("nan")}[operator]
            return int(result) if result == int(result) else result
    raise ValueError(f"unknown operator '{operator}'")


def assigner(run: Run, cid: str, comp: Component) -> Outcome:
    changed: dict[str, Any] = {}
    for item in comp.params.get("variables") or []:
        target = bare_ref(item.get("variable"))
        if not target:
            raise ValueError(f"'{item.get('variable')}' is not a variable")
        value = apply(run.resolve(target), str(item.get("operator", "overwrite")), value_of(run, item.get("parameter")))
        run.assign(target, value)
        changed[target] = value
    return Outcome(changed)


def aggregator(run: Run, cid: str, comp: Component) -> Outcome:
    out: dict[str, Any] = {}
    for group in comp.params.get("groups") or []:
        name = str(group.get("group_name") or "output")
        out[name] = next((v for v in (value_of(run, x.get("value") if isinstance(x, dict) else x) for x in group.get("variables") or [])
                          if v not in (None, "", [], {})), None)
    return Outcome(out)


def string_transform(run: Run, cid: str, comp: Component) -> Outcome:
    params = comp.params
    delimiters = [d for d in (params.get("delimiters") or [","]) if d]
    if params.get("method", "split") == "split":
        text = as_text(value_of(run, params.get("split_ref") or "sys.query"))
        pieces = re.split("|".join(re.escape(d) for d in delimiters), text) if delimiters else [text]
        return Outcome({"result": [p.strip() for p in pieces if p.strip()]})
    joiner = delimiters[0] if delimiters else ""

    def one(ref: str) -> str:
        value = run.resolve(ref)
        return joiner.join(as_text(v) for v in value) if isinstance(value, list) else as_text(value)

    return Outcome({"result": REF.sub(lambda m: one(m.group(1)), str(params.get("script") or ""))})


SPECS = {
    "VariableAssigner": Spec(assigner),
    "VariableAggregator": Spec(aggregator),
    "StringTransform": Spec(string_transform),
}
