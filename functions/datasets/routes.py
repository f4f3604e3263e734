"""HTTP routes of the datasets module: translate requests to DatasetService calls."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from ragcore import bootstrap
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object, optional_json_object, query_args, required_json_object
from ragcore.domain.datasets import CreateDataset, parse_list_query
from ragcore.domain.validation import parse_model

router = APIRouter(prefix="/api/v1", tags=["datasets"], dependencies=[Depends(current_tenant)])


@router.post("/datasets")
def create_dataset(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    # `connectors` is not a field of the dataset: the service links them once the dataset exists
    refs = body.get("connectors")
    fields = body if refs is None else {k: v for k, v in body.items() if k != "connectors"}
    return ok(bootstrap.datasets().create(tenant, parse_model(CreateDataset, fields), body.get("parser_config"),
                                          connectors=refs))


@router.get("/datasets")
def list_datasets(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    if request.query_params.get("type") == "filter":
        # RAGFlow's list_dataset_filters: the datasets per owner (here only the caller's own), with the owner's nickname
        count = bootstrap.datasets().count(tenant)
        user = bootstrap.users().get(tenant)
        owners = [{"id": tenant, "label": user.get("nickname", ""), "count": count}] if count and user else []
        return ok({"filter": {"owner": owners}, "total": sum(o["count"] for o in owners)})
    query = parse_list_query(query_args(request, lists=("ids",), objects=("ext",)))
    items, total = bootstrap.datasets().list(tenant, query)
    return ok(items, total_datasets=total)


@router.get("/datasets/{dataset_id}")
def get_dataset(dataset_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.datasets().get(tenant, dataset_id))


@router.put("/datasets/{dataset_id}")
def update_dataset(
    dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(required_json_object)
) -> JSONResponse:
    return ok(bootstrap.datasets().update(tenant, dataset_id, body))


@router.delete("/datasets")
def delete_datasets(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(required_json_object)) -> JSONResponse:
    return ok(bootstrap.datasets().delete(tenant, body))


# ---- search, tags, ingestion logs, knowledge graph ---------------------------------------------
@router.post("/datasets/search")
def search_datasets(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.retrieval().search_request(tenant, body))


@router.post("/datasets/{dataset_id}/search")
def search_dataset(dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.retrieval().search_request(tenant, body, dataset_id))


@router.get("/datasets/tags/aggregation")
def aggregate_tags(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    ids = [i for i in request.query_params.get("dataset_ids", "").split(",") if i]
    return ok(bootstrap.tags().aggregate(tenant, ids))


@router.get("/datasets/{dataset_id}/tags")
def list_tags(dataset_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.tags().list_tags(tenant, dataset_id))


@router.delete("/datasets/{dataset_id}/tags")
def delete_tags(dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(bootstrap.tags().delete(tenant, dataset_id, body))


@router.put("/datasets/{dataset_id}/tags")
def rename_tag(dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(bootstrap.tags().rename(tenant, dataset_id, body))


@router.get("/datasets/{dataset_id}/ingestions/summary")
def ingestion_summary(dataset_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.ingestion_logs().summary(tenant, dataset_id, bootstrap.documents().run_counts(tenant, dataset_id)))


@router.get("/datasets/{dataset_id}/ingestions")
def list_ingestion_logs(dataset_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    statuses = request.query_params.getlist("operation_status")
    return ok(bootstrap.ingestion_logs().list_logs(tenant, dataset_id, dict(request.query_params), statuses))


@router.get("/datasets/{dataset_id}/ingestions/{log_id}")
def get_ingestion_log(dataset_id: str, log_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.ingestion_logs().get_log(tenant, dataset_id, log_id))


@router.get("/datasets/{dataset_id}/knowledge_graph")
@router.get("/datasets/{dataset_id}/graph")
def knowledge_graph(dataset_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.index_tasks().knowledge_graph(tenant, dataset_id))


@router.delete("/datasets/{dataset_id}/knowledge_graph")
def delete_knowledge_graph(dataset_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    bootstrap.index_tasks().delete(tenant, dataset_id, "graph")
    return ok(True)


@router.post("/datasets/{dataset_id}/index")
def run_index(dataset_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok({"task_id": bootstrap.index_tasks().run(tenant, dataset_id, request.query_params.get("type", ""))})


@router.get("/datasets/{dataset_id}/index")
def trace_index(dataset_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.index_tasks().trace(tenant, dataset_id, request.query_params.get("type", "")))


@router.post("/datasets/{dataset_id}/run_graphrag")
def run_graphrag(dataset_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok({"graphrag_task_id": bootstrap.index_tasks().run(tenant, dataset_id, "graph")})


@router.post("/datasets/{dataset_id}/run_raptor")
def run_raptor(dataset_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok({"raptor_task_id": bootstrap.index_tasks().run(tenant, dataset_id, "raptor")})


@router.get("/datasets/{dataset_id}/trace_graphrag")
def trace_graphrag(dataset_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.index_tasks().trace(tenant, dataset_id, "graph"))


@router.get("/datasets/{dataset_id}/trace_raptor")
def trace_raptor(dataset_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.index_tasks().trace(tenant, dataset_id, "raptor"))


def _wipe(request: Request) -> bool:
    # wipe=false cancels a run but keeps what it built, as RAGFlow's flag does
    return (request.query_params.get("wipe") or "true").strip().lower() not in ("false", "0", "no", "off")


@router.delete("/datasets/{dataset_id}/index")
def delete_index(dataset_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    bootstrap.index_tasks().delete(tenant, dataset_id, request.query_params.get("type", ""), wipe=_wipe(request))
    return ok({})


@router.delete("/datasets/{dataset_id}/{index_type}")
def delete_index_by_path(dataset_id: str, index_type: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    bootstrap.index_tasks().delete(tenant, dataset_id, index_type, wipe=_wipe(request))
    return ok({})


@router.post("/datasets/{dataset_id}/embedding/check")
def check_embedding(
    dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)
) -> JSONResponse:
    return ok(bootstrap.embedding_check().check(tenant, dataset_id, body))
