"""The canvas DSL as RAGFlow stores it: {"components": {id: {"obj": {"component_name", "params"}, "downstream",
"upstream", "parent_id"?}}, "globals", "variables", …}. Unknown top-level keys (graph, history…) are kept as given."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SYSTEM_GLOBALS: dict[str, Any] = {"sys.query": "", "sys.user_id": "", "sys.conversation_turns": 0, "sys.files": []}


class DslError(ValueError):
    """The DSL can't run; the message names the component at fault."""


class ComponentObj(BaseModel):
    model_config = ConfigDict(extra="allow")
    component_name: str
    params: dict[str, Any] = Field(default_factory=dict)


class Component(BaseModel):
    model_config = ConfigDict(extra="allow")
    obj: ComponentObj
    downstream: list[str] = Field(default_factory=list)
    upstream: list[str] = Field(default_factory=list)
    parent_id: str | None = None

    @property
    def kind(self) -> str:
        return self.obj.component_name

    @property
    def params(self) -> dict[str, Any]:
        return self.obj.params


class Dsl(BaseModel):
    model_config = ConfigDict(extra="allow")
    components: dict[str, Component]
    globals: dict[str, Any] = Field(default_factory=dict)
    variables: dict[str, Any] = Field(default_factory=dict)

    def begin_id(self) -> str | None:
        return next((cid for cid, c in self.components.items() if c.kind == "Begin" and not c.parent_id), None)

    def children(self, parent: str) -> dict[str, Component]:
        return {cid: c for cid, c in self.components.items() if c.parent_id == parent}

    def edges(self, scope: str | None) -> dict[str, list[str]]:
        """Downstream lists of the components directly inside scope (None: the top level), upstream lists folded in."""
        members = [cid for cid, c in self.components.items() if c.parent_id == scope]
        out: dict[str, list[str]] = {cid: [] for cid in members}
        for cid in members:
            for target in self.components[cid].downstream:
                if target not in out[cid]:
                    out[cid].append(target)
            for source in self.components[cid].upstream:
                if source in out and cid not in out[source]:
                    out[source].append(cid)
        return out


def parse_dsl(raw: Any) -> Dsl:
    if isinstance(raw, str):
        import json

        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise DslError("The DSL is not valid JSON.") from exc
    if not isinstance(raw, dict):
        raise DslError("The DSL must be a JSON object.")
    if not isinstance(raw.get("components"), dict) or not raw["components"]:
        raise DslError("The DSL has no components.")
    for cid, comp in raw["components"].items():
        if not isinstance(comp, dict) or not isinstance(comp.get("obj"), dict) or not comp["obj"].get("component_name"):
            raise DslError(f"Component '{cid}' has no obj.component_name.")
    try:
        return Dsl.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DslError(f"The DSL is malformed at '{where}': {first['msg']}.") from exc
