"""Checks a DSL before it is saved or run, each failure naming the component at fault."""

from __future__ import annotations

from typing import Any

from ragcore.services.agents.engine.components import CODE_RUNNERS, NOT_OFFERED, component_specs
from ragcore.services.agents.engine.dsl import Dsl, DslError, parse_dsl
from ragcore.services.agents.engine.executor import scope_edges
from ragcore.services.agents.engine.refs import REF, walk_strings

CONTAINERS = {"Iteration": "IterationItem", "Loop": "LoopItem"}


def validate(raw: Any) -> Dsl:
    dsl = parse_dsl(raw)
    specs = component_specs()
    comps = dsl.components
    for cid, comp in comps.items():
        kind = comp.kind
        if kind in CODE_RUNNERS:
            raise DslError(f"Component '{cid}' runs code ({kind}); code execution needs a sandbox, and none is configured.")
        if kind in NOT_OFFERED:
            raise DslError(f"Component '{cid}' is a {kind}, which ragflow-serverless does not run.")
        if kind not in specs:
            raise DslError(f"Component '{cid}' has an unknown type '{kind}'.")
        if comp.parent_id is not None:
            parent = comps.get(comp.parent_id)
            if parent is None or parent.kind not in CONTAINERS:
                raise DslError(f"Component '{cid}' sits inside '{comp.parent_id}', which is not an Iteration or Loop.")
        for target in [*comp.downstream, *comp.upstream, *specs[kind].targets(comp.params)]:
            if target not in comps:
                raise DslError(f"Component '{cid}' links to '{target}', which does not exist.")
            if comps[target].parent_id != comp.parent_id:
                raise DslError(f"Component '{cid}' links to '{target}' across an Iteration or Loop boundary.")
        for text in walk_strings(comp.params):
            for m in REF.finditer(text):
                ref = m.group(1)
                if "@" in ref and ref.split("@", 1)[0] not in comps:
                    raise DslError(f"Component '{cid}' refers to '{{{ref}}}', but there is no component '{ref.split('@', 1)[0]}'.")
        if kind in CONTAINERS:
            starts = [c for c, child in dsl.children(cid).items() if child.kind == CONTAINERS[kind]]
            if len(starts) != 1:
                raise DslError(f"{kind} '{cid}' needs exactly one {CONTAINERS[kind]} component inside it.")
        if kind == "Categorize" and not comp.params.get("category_description"):
            raise DslError(f"Categorize '{cid}' has no categories.")
        if kind == "Invoke" and not str(comp.params.get("url") or "").strip():
            raise DslError(f"Invoke '{cid}' has no url.")
    if dsl.begin_id() is None:
        raise DslError("The DSL has no Begin component.")
    for scope in [None, *[cid for cid, c in comps.items() if c.kind in CONTAINERS]]:
        _no_cycle(scope_edges(dsl, scope, specs))
    return dsl


def _no_cycle(edges: dict[str, list[str]]) -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in edges:
        if state.get(root):
            continue
        path: list[str] = []
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            node, i = stack.pop()
            if i == 0:
                state[node] = 1
                path.append(node)
            targets = edges.get(node, [])
            if i < len(targets):
                stack.append((node, i + 1))
                nxt = targets[i]
                if state.get(nxt) == 1:
                    loop = [*path[path.index(nxt):], nxt]
                    raise DslError("Components " + " → ".join(f"'{c}'" for c in loop)
                                   + " form a cycle; repeat steps with a Loop component instead.")
                if not state.get(nxt):
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                path.pop()
