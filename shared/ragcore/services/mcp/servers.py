"""A tenant's MCP servers, as RAGFlow's mcp_api keeps them: create, list, get (or export), update, delete, import
many, test one; and the tool calls an agent's LLM component makes on them.

An MCP server is {id, name, tenant_id, url, server_type ("sse" | "streamable-http"), description, variables,
headers} with RAGFlow's times; `variables.tools` holds the tools it listed when last saved (each with `enabled`).
A URL the guard refuses (not http(s), a private or loopback address the deployment does not allow) is refused
before any request, with the guard's reason. As in RAGFlow, saving a server lists its tools and a server that
cannot be reached is saved with none; `test` says why it could not list them. Headers take the server's variables
(`${name}`), as RAGFlow's session does. Another tenant's server answers like one that does not exist.
"""

from __future__ import annotations

import json
from string import Template
from typing import Any

from ragcore.domain.kinds import MCP_SERVER as KIND
from ragcore.errors import ApiError, RetCode, require_arguments
from ragcore.ids import new_id
from ragcore.ports import ListQuery, McpClient, McpEndpoint, McpUnreachable, MetadataStore
from ragcore.services.common import REST_API_MAX_IDS, rest_api_page, stamp_new, stamp_update

SERVER_TYPES = ("sse", "streamable-http")
NAME_SCOPE = "mcp-server-name"
LIST_FIELDS = ("id", "name", "server_type", "url", "description", "variables", "create_date", "update_date")
DEFAULT_TIMEOUT_S = 10.0  # RAGFlow's `timeout` default for listing a server's tools


def _data_error(message: str) -> ApiError:
    return ApiError(RetCode.DATA_ERROR, message)


def not_found(mcp_id: str, tenant: str) -> ApiError:
    return _data_error(f"Cannot find MCP server {mcp_id} for user {tenant}")


def json_object(value: Any) -> dict[str, Any]:
    """RAGFlow's safe_json_parse: an object as it is, a JSON text of one parsed, anything else {}."""
    if isinstance(value, dict):
        return dict(value)
    try:
        parsed = json.loads(value) if isinstance(value, str | bytes) and value else {}
    except (ValueError, TypeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def timeout_of(body: dict[str, Any]) -> float:
    """RAGFlow's get_float(req, "timeout", 10): a positive number, else the default."""
    try:
        value = float(body.get("timeout", DEFAULT_TIMEOUT_S))
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT_S
    return value if value > 0 else DEFAULT_TIMEOUT_S


def _name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not name or len(name.encode("utf-8")) > 255:
        length = len(name) if isinstance(name, str) else 0
        return f"Invalid MCP name or length is {length} which is large than 255."
    return None


def endpoint_of(item: dict[str, Any], extra_headers: dict[str, str] | None = None) -> McpEndpoint:
    """Where to reach a server: its headers with its variables substituted (`${name}`); a header left empty (or a
    bare "Bearer") is not sent."""
    variables = {k: str(v) for k, v in (item.get("variables") or {}).items() if k != "tools" and not isinstance(v, dict)}
    headers: dict[str, str] = {}
    for raw_name, raw_value in {**(item.get("headers") or {}), **(extra_headers or {})}.items():
        name = Template(str(raw_name)).safe_substitute(variables).strip()
        value = Template(str(raw_value)).safe_substitute(variables).strip()
        if name and value and value.lower() != "bearer":
            headers[name] = value
    return McpEndpoint(url=str(item.get("url", "")).strip(), server_type=str(item.get("server_type", "")), headers=headers)


class McpServerService:
    def __init__(self, store: MetadataStore, client: McpClient, *, max_timeout_s: float) -> None:
        self._store = store
        self._client = client
        self._max_timeout = max_timeout_s

    # ---- reads ----------------------------------------------------------------------------------
    def list_servers(self, tenant: str, params: dict[str, Any], mcp_ids: list[str]) -> dict[str, Any]:
        if len(mcp_ids) > REST_API_MAX_IDS:
            raise ApiError(RetCode.ARGUMENT_ERROR, f"mcp_ids must contain at most {REST_API_MAX_IDS} IDs")
        page, size = rest_api_page(params)
        orderby = params.get("orderby") or "create_time"
        order = orderby if orderby in ("create_time", "update_time", "name") else "create_time"
        desc = str(params.get("desc", "true")).lower() != "false"
        keywords = str(params.get("keywords") or "")
        if mcp_ids:  # at most REST_API_MAX_IDS ids: read by id, then filtered, ordered and paged
            found = [it for it in self._store.get_many(KIND, tenant, list(dict.fromkeys(mcp_ids)))
                     if keywords.lower() in str(it.get("name", "")).lower()]
            found.sort(key=lambda it: it.get(order) or 0, reverse=desc)
            total, rows = len(found), found[(page - 1) * size : page * size]
        else:
            query = ListQuery(KIND, tenant, order=order, desc=desc, name_contains=keywords)
            total, rows = self._store.count(query), self._store.page(query, (page - 1) * size, size)
        return {"mcp_servers": [{k: it.get(k) for k in LIST_FIELDS} for it in rows], "total": total}

    def get(self, tenant: str, mcp_id: str) -> dict[str, Any]:
        item = self._store.get(KIND, tenant, mcp_id)
        if item is None:
            raise not_found(mcp_id, tenant)
        return self._view(item)

    def export(self, tenant: str, mcp_id: str) -> dict[str, Any]:
        """`?mode=download`: the server as an MCP host's config ({"mcpServers": {name: …}})."""
        item = self._store.get(KIND, tenant, mcp_id)
        if item is None:
            raise not_found(mcp_id, tenant)
        variables = item.get("variables") or {}
        return {"mcpServers": {item["name"]: {"type": item["server_type"], "url": item["url"], "name": item["name"],
                                              "authorization_token": variables.get("authorization_token", ""),
                                              "tools": variables.get("tools", {})}}}

    # ---- writes ---------------------------------------------------------------------------------
    def create(self, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
        require_arguments(body, "name", "url", "server_type")
        if body.get("server_type") not in SERVER_TYPES:
            raise _data_error("Unsupported MCP server type.")
        name = body.get("name")
        problem = _name_problem(name)
        if problem:
            raise _data_error(problem)
        assert isinstance(name, str)
        url = self._checked_url(body.get("url"))
        mcp_id = new_id()
        if not self._store.claim(tenant, NAME_SCOPE, name.lower(), mcp_id):
            raise _data_error("Duplicated MCP server name.")
        item = {"id": mcp_id, "tenant_id": tenant, "name": name, "url": url, "server_type": body["server_type"],
                "description": body.get("description"), "headers": json_object(body.get("headers", {})),
                "variables": json_object(body.get("variables", {}))}
        item["variables"]["tools"] = self._tools_of(item, {}, timeout_of(body))
        self._store.put(KIND, tenant, stamp_new(item))
        return self._view(item)

    def update(self, tenant: str, mcp_id: str, body: dict[str, Any]) -> dict[str, Any]:
        item = self._store.get(KIND, tenant, mcp_id)
        if item is None:
            raise not_found(mcp_id, tenant)
        server_type = body.get("server_type", item["server_type"])
        if server_type and server_type not in SERVER_TYPES:
            raise _data_error("Unsupported MCP server type.")
        name = body.get("name", item["name"])
        if name:
            problem = _name_problem(name)
            if problem:
                raise _data_error(problem)
        url = self._checked_url(body.get("url", item["url"]))
        changes: dict[str, Any] = {"server_type": server_type, "url": url,
                                   "headers": json_object(body.get("headers", item.get("headers") or {})),
                                   "variables": json_object(body.get("variables", item.get("variables") or {}))}
        if "description" in body:
            changes["description"] = body["description"]
        renamed = bool(name) and name != item["name"]
        if renamed:
            if not self._store.claim(tenant, NAME_SCOPE, str(name).lower(), mcp_id):
                raise _data_error("Duplicated MCP server name.")
            changes["name"] = name
        cached = (item.get("variables") or {}).get("tools") or {}
        changes["variables"]["tools"] = self._tools_of({**item, **changes}, cached, timeout_of(body))
        updated = self._store.update(KIND, tenant, mcp_id, stamp_update(changes))
        if updated is None:
            raise _data_error("Failed to updated MCP server.")  # sic: RAGFlow's words
        if renamed:
            self._store.release(tenant, NAME_SCOPE, str(item["name"]).lower(), mcp_id)
        return self._view(updated)

    def delete(self, tenant: str, mcp_id: str) -> bool:
        item = self._store.get(KIND, tenant, mcp_id)
        if item is None:
            raise not_found(mcp_id, tenant)
        self._store.delete(KIND, tenant, mcp_id)
        self._store.release(tenant, NAME_SCOPE, str(item["name"]).lower(), mcp_id)
        return True

    def import_many(self, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
        """RAGFlow's import: each server of an MCP host's config created (renamed "<name>_<n>" when the name is
        taken); each one's outcome reported, a failure never stopping the rest."""
        require_arguments(body, "mcpServers")
        servers = body.get("mcpServers")
        if not servers:
            raise _data_error("No MCP servers provided.")
        if not isinstance(servers, dict):
            raise ApiError(RetCode.ARGUMENT_ERROR, "`mcpServers` must be an object of servers by name.")
        timeout = timeout_of(body)
        return {"results": [self._import_one(tenant, str(name), config, timeout) for name, config in servers.items()]}

    def _import_one(self, tenant: str, name: str, config: Any, timeout: float) -> dict[str, Any]:
        def failed(message: str) -> dict[str, Any]:
            return {"server": name, "success": False, "message": message}

        if not isinstance(config, dict) or not {"type", "url"} <= set(config):
            return failed("Missing required fields (type or url)")
        problem = _name_problem(name)
        if problem:
            return failed(problem)
        if config["type"] not in SERVER_TYPES:
            return failed("Unsupported MCP server type.")
        refusal = self._refusal(config["url"])
        if refusal:
            return failed(refusal)
        mcp_id, new_name, n = new_id(), name, 0
        while not self._store.claim(tenant, NAME_SCOPE, new_name.lower(), mcp_id):
            new_name, n = f"{name}_{n}", n + 1
        token = config.get("authorization_token", "")
        item: dict[str, Any] = {"id": mcp_id, "tenant_id": tenant, "name": new_name, "url": config["url"],
                                "server_type": config["type"], "description": None,
                                "headers": json_object(config.get("headers", {})),
                                "variables": {"authorization_token": token}}
        probe = {**item, "headers": {**item["headers"], **({"authorization_token": token} if "authorization_token" in config else {})}}
        item["variables"]["tools"] = self._tools_of(probe, {}, timeout)
        self._store.put(KIND, tenant, stamp_new(item))
        result: dict[str, Any] = {"server": name, "success": True, "action": "created", "id": mcp_id, "new_name": new_name}
        if new_name != name:
            result["message"] = f"Renamed from '{name}' to '{new_name}' avoid duplication"
        return result

    def test(self, tenant: str, mcp_id: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The tools the server described in the body lists now (each `enabled`); nothing is saved."""
        require_arguments(body, "url", "server_type")
        url = body.get("url")
        if not isinstance(url, str) or not url:
            raise _data_error("Invalid MCP url.")
        if body.get("server_type") not in SERVER_TYPES:
            raise _data_error("Unsupported MCP server type.")
        refusal = self._refusal(url)
        if refusal:
            raise _data_error(refusal)
        probe = {"url": url, "server_type": body["server_type"], "headers": json_object(body.get("headers", {})),
                 "variables": json_object(body.get("variables", {}))}
        try:
            tools = self._client.list_tools(endpoint_of(probe), self._timeout(timeout_of(body)))
        except McpUnreachable as exc:
            raise _data_error(f"Test MCP error: {exc}") from None
        return [{**tool, "enabled": True} for tool in tools]

    # ---- agent tools ----------------------------------------------------------------------------
    def call_tool(self, tenant: str, mcp_id: str, name: str, arguments: dict[str, Any],
                  headers: dict[str, str] | None = None) -> str:
        """An agent's call of a server's tool, answered as text for the model (RAGFlow's wording for an empty or
        failed call); a server of another tenant, or gone, is named as not found."""
        item = self._store.get(KIND, tenant, mcp_id)
        if item is None:
            raise not_found(mcp_id, tenant)
        refusal = self._refusal(str(item.get("url", "")))
        if refusal:
            return f"Error calling tool '{name}': {refusal}."
        try:
            result = self._client.call_tool(endpoint_of(item, headers), name, arguments, self._max_timeout)
        except McpUnreachable as exc:
            return f"Error calling tool '{name}': {exc}."
        if result.is_error:
            return f"MCP server error: {result.text}"
        return result.text or "MCP server returned empty content."

    def server(self, tenant: str, mcp_id: str) -> dict[str, Any] | None:
        return self._store.get(KIND, tenant, mcp_id)

    # ---- helpers --------------------------------------------------------------------------------
    def _refusal(self, url: Any) -> str | None:
        if not isinstance(url, str) or not url:
            return "Invalid url."
        return self._client.refusal(url)

    def _checked_url(self, url: Any) -> str:
        refusal = self._refusal(url)
        if refusal:
            raise _data_error(refusal)
        return str(url)

    def _timeout(self, asked: float) -> float:
        return min(asked, self._max_timeout)

    def _tools_of(self, item: dict[str, Any], cached: dict[str, Any], timeout: float) -> dict[str, dict[str, Any]]:
        """The server's tools by name, each keeping the `enabled` it had; none when it cannot be reached (RAGFlow
        saves the server all the same)."""
        try:
            tools = self._client.list_tools(endpoint_of(item), self._timeout(timeout))
        except McpUnreachable:
            return {}
        out: dict[str, dict[str, Any]] = {}
        for tool in tools:
            if isinstance(tool, dict) and "name" in tool:
                previous = cached.get(tool["name"]) or {}
                out[str(tool["name"])] = {**tool, "enabled": previous.get("enabled", True)}
        return out

    @staticmethod
    def _view(item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if not k.startswith("_")}
