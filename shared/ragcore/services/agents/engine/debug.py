"""One component at a time: the inputs a component asks for (RAGFlow's input form), running it alone with given
inputs, and a DSL reset to the state before any run."""

from __future__ import annotations

import copy
from typing import Any

from ragcore.services.agents.engine.components import component_specs
from ragcore.services.agents.engine.dsl import Dsl
from ragcore.services.agents.engine.executor import run_scope
from ragcore.services.agents.engine.refs import REF, walk_strings
from ragcore.services.agents.engine.runtime import ComponentFailed, LazyText, Run, Tools, settle

# RAGFlow's fixed forms, by component_name
FIXED_FORMS: dict[str, dict[str, dict[str, str]]] = {
    "Categorize": {"query": {"type": "line", "name": "Query"}},
    "Retrieval": {"query": {"name": "Query", "type": "line"}},
    "Iteration": {"items": {"type": "json", "name": "Items"}},
    "Loop": {"items": {"type": "json", "name": "Items"}},
    "VariableAssigner": {"items": {"type": "json", "name": "Items"}},
    "VariableAggregator": {"variables": {"name": "Variables", "type": "list"}},
    "Switch": {"urls": {"name": "URLs", "type": "line"}},
}
# a form field that stands for one of the component's params (the rest are references: {cpn@var}, sys.*, env.*)
FIELD_PARAMS = {"query": "query", "items": "items_ref", "line": "split_ref"}


def _ref_form(dsl: Dsl, texts: list[str]) -> dict[str, dict[str, str]]:
    form: dict[str, dict[str, str]] = {}
    for text in texts:
        for m in REF.finditer(text):
            ref = m.group(1)
            cid, at, var = ref.partition("@")
            owner = dsl.components.get(cid) if at else None
            form[ref] = {"type": "line", "name": f"{owner.kind.lower()}@{var}" if owner else ref}
    return form


def input_form(dsl: Dsl, cid: str) -> dict[str, Any]:
    comp = dsl.components.get(cid)
    if comp is None:
        raise ComponentFailed(cid, "?", "no such component in the agent")
    params = comp.params
    if comp.kind == "Begin":
        return dict(params.get("inputs") or {})
    if comp.kind in ("LLM", "Agent", "Generate"):
        prompts = params.get("prompts")
        texts = [str(params.get("sys_prompt") or "")]
        texts += [prompts] if isinstance(prompts, str) else [str(p.get("content") or "") for p in prompts or [] if isinstance(p, dict)]
        return _ref_form(dsl, texts)
    if comp.kind == "Invoke":
        refs = [f"{{{v['ref']}}}" for v in params.get("variables") or [] if isinstance(v, dict) and v.get("ref")]
        return _ref_form(dsl, refs)
    if comp.kind == "StringTransform":
        if params.get("method") == "split":
            return {"line": {"name": "String", "type": "line"}}
        return _ref_form(dsl, walk_strings(params.get("script")))
    return copy.deepcopy(FIXED_FORMS.get(comp.kind, {}))


def _public(value: Any) -> Any:
    value = settle(value)
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not str(k).startswith("_")}
    return value


def run_component(dsl: Dsl, cid: str, values: dict[str, Any], tools: Tools, globals_: dict[str, Any]) -> dict[str, Any]:
    """Runs the component alone: a reference among the values stands in for that output or global, a form field
    (query, items, line) replaces the param it names. Returns the component's outputs, LLM text in full."""
    comp = dsl.components.get(cid)
    if comp is None:
        raise ComponentFailed(cid, "?", "no such component in the agent")
    comp = comp.model_copy(deep=True)
    run = Run(dsl=dsl, tools=tools, globals=globals_, history=[], emit=lambda event, data: None, children=run_scope)
    for key, value in values.items():
        if "@" in key or key.startswith(("sys.", "env.")):
            run.assign(key, value)
        elif key in FIELD_PARAMS and comp.kind != "Begin":
            comp.obj.params[FIELD_PARAMS[key]] = value
        else:
            run.inputs[key] = value
    try:
        outcome = component_specs()[comp.kind].run(run, cid, comp)
    except ComponentFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - a fault inside the component is the debug answer, not a server error
        raise ComponentFailed(cid, comp.kind, str(exc) or type(exc).__name__) from exc
    return {k: (v.text() if isinstance(v, LazyText) else _public(v)) for k, v in outcome.outputs.items()
            if not str(k).startswith("_")}


def _empty_like(value: Any) -> Any:
    for kind, empty in ((str, ""), (int, 0), (float, 0), (list, []), (dict, {})):
        if isinstance(value, kind):
            return empty
    return None


def _variable_default(spec: Any) -> Any:
    if not isinstance(spec, dict):
        return spec
    if spec.get("value") is not None:
        return spec["value"]
    kind = str(spec.get("type") or "")
    return {"number": 0, "boolean": False, "object": {}}.get(kind, [] if kind.startswith("array") else "")


def reset_dsl(raw: dict[str, Any]) -> dict[str, Any]:
    """RAGFlow's Canvas.reset: no path, history, retrieval or memory; sys.* globals emptied by type, env.* back to
    their variable's value; every component's input and output values cleared."""
    dsl = copy.deepcopy(raw)
    for key in ("path", "history", "retrieval", "memory"):
        dsl[key] = []
    variables = dsl.get("variables") or {}
    globals_ = dsl.get("globals") or {}
    for name, value in list(globals_.items()):
        if name.startswith("sys."):
            globals_[name] = _empty_like(value)
        elif name.startswith("env."):
            globals_[name] = _variable_default(variables[name[4:]]) if name[4:] in variables else ""
    for comp in (dsl.get("components") or {}).values():
        params = (comp.get("obj") or {}).get("params") or {}
        for section in ("inputs", "outputs"):
            for spec in (params.get(section) or {}).values() if isinstance(params.get(section), dict) else []:
                if isinstance(spec, dict) and "value" in spec:
                    spec["value"] = None
    return dsl
