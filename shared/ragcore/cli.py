"""`ragflow-serverless`: serve the local API and manage API keys."""

from __future__ import annotations

import argparse
import sys
import time

from ragcore.config import get_settings


def _tenant_service():  # type: ignore[no-untyped-def]
    from ragcore.bootstrap import tenants

    return tenants()


def ensure_first_key() -> str | None:
    """On first run create a tenant and a key; return the key (shown once) or None if one exists."""
    service = _tenant_service()
    if service.first_tenant() is not None:
        return None
    tenant = service.create_tenant("default")
    return str(service.create_key(tenant).key)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    started = time.perf_counter()
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = ensure_first_key()
    from functions.local import create_local_app

    app = create_local_app()
    where = settings.sqlite_path.resolve()
    if key:
        print("First run: created a tenant and its API key (shown only this once; stored hashed in", where, ")")
        print(f"API key: {key}")
    else:
        print(f"API keys are stored hashed in {where}; make a new one with: ragflow-serverless apikey create")
    print(f"Serving http://{settings.host}:{settings.port}/api/v1 (data in {settings.data_dir.resolve()}), "
          f"ready in {time.perf_counter() - started:.2f}s", flush=True)
    print(f"Web console: http://{settings.host}:{settings.port}/ (log in with an API key)", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
                access_log=settings.access_log,
                # the peer is the socket's: X-Forwarded-For is ours to judge (TRUSTED_PROXIES), not uvicorn's
                proxy_headers=False)
    return 0


def cmd_apikey(args: argparse.Namespace) -> int:
    service = _tenant_service()
    if args.action == "create":
        tenant = args.tenant or service.first_tenant() or service.create_tenant("default")
        new = service.create_key(tenant)
        print(f"tenant {new.tenant_id}, key id {new.key_id} (shown once, stored hashed):")
        print(new.key)
        return 0
    if args.action == "list":
        for item in service.list_keys(args.tenant):
            print(f"{item['key_id']}  tenant={item['tenant_id']}  prefix={item['prefix']}…  created={item['create_time']}")
        return 0
    if args.action == "revoke":
        if not args.key:
            print("revoke needs a key or a key id", file=sys.stderr)
            return 2
        if service.revoke(args.key):
            print("revoked")
            return 0
        print("no such key", file=sys.stderr)
        return 1
    if args.action == "tenant":
        tenant = service.create_tenant(args.key or "tenant")
        new = service.create_key(tenant)
        print(f"new tenant {tenant}, key id {new.key_id}:")
        print(new.key)
        return 0
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ragflow-serverless", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="serve the API locally (PORT, DATA_DIR from the environment)")
    keys = sub.add_parser("apikey", help="manage API keys: create | list | revoke KEY_OR_ID | tenant [NAME]")
    keys.add_argument("action", choices=["create", "list", "revoke", "tenant"])
    keys.add_argument("key", nargs="?", help="for revoke: the key or its key id; for tenant: a name")
    keys.add_argument("--tenant", help="tenant id (default: the first tenant)")
    from ragcore.client_cli import add_commands, run

    add_commands(sub)
    args = parser.parse_args(argv)
    if args.command == "serve":
        return cmd_serve(args)
    if args.command == "apikey":
        return cmd_apikey(args)
    settings = get_settings()
    return run(args, settings.client_base_url, settings.client_api_key)


if __name__ == "__main__":
    sys.exit(main())
