"""HTTP routes of RAGFlow's connector API (api/apps/restful_apis/connector_api.py): connectors, their logs,
rebuild and test, and the Google Drive / Gmail / Box OAuth web flows. The providers' callbacks come from the
user's browser without a key (public_router), as in RAGFlow."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse
from ragcore import bootstrap
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object, optional_json_object
from ragcore.services.connectors.oauth import Popup

router = APIRouter(prefix="/api/v1", tags=["connectors"], dependencies=[Depends(current_tenant)])
public_router = APIRouter(prefix="/api/v1", tags=["connectors"])


@router.post("/connectors")
def create_connector(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.connectors().create(tenant, body), message="success")


@router.get("/connectors")
def list_connectors(tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.connectors().list_connectors(tenant), message="success")


@router.get("/connectors/{connector_id}")
def get_connector(connector_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.connectors().get(tenant, connector_id), message="success")


@router.patch("/connectors/{connector_id}")
def update_connector(connector_id: str, tenant: str = Depends(current_tenant),
                           body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(bootstrap.connectors().update(tenant, connector_id, body), message="success")


@router.delete("/connectors/{connector_id}")
def delete_connector(connector_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.connectors().delete(tenant, connector_id), message="success")


@router.get("/connectors/{connector_id}/logs")
def connector_logs(connector_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.connectors().logs(tenant, connector_id, dict(request.query_params)), message="success")


@router.post("/connectors/{connector_id}/rebuild")
def rebuild_connector(connector_id: str, tenant: str = Depends(current_tenant),
                            body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(bootstrap.connectors().rebuild(tenant, connector_id, body), message="success")


@router.post("/connectors/{connector_id}/test")
def test_connector(connector_id: str, tenant: str = Depends(current_tenant),
                         body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(bootstrap.connectors().test(tenant, connector_id, body), message="success")


# ---- OAuth web flows ----------------------------------------------------------------------------------------------
@router.post("/connectors/google/oauth/web/start")
def start_google_oauth(request: Request, tenant: str = Depends(current_tenant),
                             body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(bootstrap.oauth_flows().start_google(tenant, request.query_params.get("type"), body), message="success")


@router.post("/connectors/google/oauth/web/result")
def google_oauth_result(request: Request, tenant: str = Depends(current_tenant),
                              body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(bootstrap.oauth_flows().google_result(tenant, request.query_params.get("type"), body), message="success")


@router.post("/connectors/box/oauth/web/start")
def start_box_oauth(tenant: str = Depends(current_tenant),
                          body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(bootstrap.oauth_flows().start_box(tenant, body), message="success")


@router.post("/connectors/box/oauth/web/result")
def box_oauth_result(tenant: str = Depends(current_tenant),
                           body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(bootstrap.oauth_flows().box_result(tenant, body), message="success")


@public_router.get("/connectors/gmail/oauth/web/callback")
def gmail_oauth_callback(request: Request) -> HTMLResponse:
    return popup_page(bootstrap.oauth_flows().google_callback("gmail", dict(request.query_params)))


@public_router.get("/connectors/google-drive/oauth/web/callback")
def google_drive_oauth_callback(request: Request) -> HTMLResponse:
    return popup_page(bootstrap.oauth_flows().google_callback("google-drive", dict(request.query_params)))


@public_router.get("/connectors/box/oauth/web/callback")
def box_oauth_callback(request: Request) -> HTMLResponse:
    return popup_page(bootstrap.oauth_flows().box_callback(dict(request.query_params)))


def popup_page(popup: Popup) -> HTMLResponse:
    """RAGFlow's popup page: tells the window that opened it (postMessage) how the authorization went."""
    payload = json.dumps({"type": f"ragflow-{popup.source}-oauth", "status": "success" if popup.success else "error",
                          "flowId": popup.flow_id or "", "message": popup.message})
    html = POPUP_TEMPLATE.format(
        title=f"Google {popup.source.capitalize()} Authorization",
        heading="Authorization complete" if popup.success else "Authorization failed",
        message=escape(popup.message), payload_json=payload.replace("</", "<\\/"),
        auto_close="window.close();" if popup.success else "",
    )
    return HTMLResponse(html, status_code=200)


# RAGFlow's WEB_OAUTH_POPUP_TEMPLATE (common/data_source/google_util/constant.py, Apache-2.0)
POPUP_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>{title}</title>
  <style>
    body {{
      font-family: Arial, sans-serif;
      background: #f8fafc;
      color: #0f172a;
      display: flex;
      flex-direction: column;
      align-items: center;
      justify-content: center;
      min-height: 100vh;
      margin: 0;
    }}
    .card {{
      background: white;
      padding: 32px;
      border-radius: 12px;
      box-shadow: 0 8px 30px rgba(15, 23, 42, 0.1);
      max-width: 420px;
      text-align: center;
    }}
    h1 {{
      font-size: 1.5rem;
      margin-bottom: 12px;
    }}
    p {{
      font-size: 0.95rem;
      line-height: 1.5;
    }}
  </style>
</head>
<body>
  <div class="card">
    <h1>{heading}</h1>
    <p>{message}</p>
    <p>You can close this window.</p>
  </div>
  <script>
    (function(){{
      if (window.opener) {{
        window.opener.postMessage({payload_json}, "*");
      }}
      {auto_close}
    }})();
  </script>
</body>
</html>
"""
