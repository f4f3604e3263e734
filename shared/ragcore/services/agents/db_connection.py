"""POST /agents/test_db_connection as RAGFlow answers it. RAGFlow checks the host first (it must resolve to
public addresses only), then connects with the driver of the database type. ragflow-serverless runs no SQL
component and ships no database driver, so a type RAGFlow supports gets its connection-failure answer saying so,
and any other type RAGFlow's own "Unsupported database type." answer."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from ragcore.errors import ApiError, RetCode

REQUIRED = ("db_type", "database", "username", "host", "port", "password")
RAGFLOW_TYPES = ("mysql", "mariadb", "oceanbase", "postgres", "mssql", "IBM DB2", "trino")


def _public_host(host: str) -> None:
    host = host.strip()
    if not host:
        raise ApiError(RetCode.DATA_ERROR, "Host must not be empty.")
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError) as exc:
        raise ApiError(RetCode.DATA_ERROR, f"Could not resolve host {host!r}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        mapped = getattr(address, "ipv4_mapped", None)
        if not (mapped or address).is_global:
            raise ApiError(RetCode.DATA_ERROR, f"Host resolves to a non-public address ({address}), which is not allowed.")


def test_db_connection(body: dict[str, Any]) -> str:
    missing = [k for k in REQUIRED if k not in body]
    if missing:
        raise ApiError(RetCode.ARGUMENT_ERROR, f"required argument are missing: {','.join(missing)}; ")
    _public_host(str(body["host"] if body["host"] is not None else ""))
    if body["db_type"] in RAGFLOW_TYPES:
        raise ApiError(RetCode.EXCEPTION_ERROR,
                       f"Can't connect to the {body['db_type']} database: ragflow-serverless has no driver for it "
                       "(it runs no SQL component).")
    raise ApiError(RetCode.EXCEPTION_ERROR, repr("Unsupported database type."))
