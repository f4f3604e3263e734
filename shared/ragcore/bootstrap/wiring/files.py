"""Wiring of the files area: the file manager (folders, uploads, links into datasets) and its commits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ragcore.bootstrap.container import cached, get_container
from ragcore.bootstrap.wiring import knowledge

if TYPE_CHECKING:
    from ragcore.services.files.commits import FileCommitService
    from ragcore.services.files.manager import FileService


@cached
def files() -> FileService:
    from ragcore.services.files.manager import FileService

    container = get_container()
    return FileService(container.store, container.blobs, knowledge.documents,
                       max_files=container.settings.max_files_per_tenant, max_bytes=container.settings.max_upload_bytes)


def file_commits() -> FileCommitService:
    from ragcore.services.files.commits import FileCommitService
    from ragcore.services.files.manager import blob_key

    container = get_container()
    manager = files()
    return FileCommitService(container.store, container.blobs, max_bytes=container.settings.max_upload_bytes,
                             file_blob=blob_key, write_file=manager.write_content, rename_file=manager.rename,
                             document_blob=knowledge.documents().blob_of)
