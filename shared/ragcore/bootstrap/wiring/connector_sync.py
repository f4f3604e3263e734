"""Wiring of the connectors area's sync runs: a step of a run (a `connector_sync` task the ingestion worker hands
on) lists a page of the source and writes its documents through the knowledge area. Apart from `connectors.py`
because the knowledge wiring imports that one (a dataset's links): one module would close an import circle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ragcore.bootstrap.container import cached, get_container
from ragcore.bootstrap.wiring import connectors, knowledge, runtime

if TYPE_CHECKING:
    from ragcore.services.connectors.sync import ConnectorSync


@cached
def connector_sync() -> ConnectorSync:
    from ragcore.services.connectors.sync import ConnectorSync

    container = get_container()
    return ConnectorSync(container.store, knowledge.documents(), knowledge.document_parsing(),
                         connectors.connector_sources(), connectors.connectors().credentials, runtime.queue,
                         step_budget_s=container.settings.connector_step_s, lease_s=container.settings.connector_lease_s)
