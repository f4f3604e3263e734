"""Metadata kinds of a dataset's derived indexes (GraphRAG graph, RAPTOR, mind map), kept apart so the
document service can purge them with a dataset without importing the builders."""

TASK_KIND = "index_task"  # one record per run, parent = dataset
GRAPH_KIND = "dataset_graph"  # the built graph / mind map, parent = dataset, id = "<dataset_id>:<index_type>"
INDEX_TYPES = ("graph", "mindmap", "raptor")
TASK_TYPES = {"graph": "graphrag", "raptor": "raptor", "mindmap": "mindmap"}
DISPLAY = {"graph": "Graph", "raptor": "RAPTOR", "mindmap": "Mindmap"}
DISPLAY_TASK = {"graph": "GraphRAG", "raptor": "RAPTOR", "mindmap": "Mindmap"}  # task_type of the ingestion log
RAPTOR_MARK = "raptor"  # raptor_kwd of the summary chunks a RAPTOR run adds


def graph_id(dataset_id: str, index_type: str) -> str:
    return f"{dataset_id}:{index_type}"
