"""RAGFlow's handler and service code as the contract (issue #18): answers its code gives where the stale HTTP suite
said otherwise or said nothing. Each test asserts the exact envelope a client sees."""

from __future__ import annotations

import uuid

from tests.conftest import Api


def _dataset(api: Api, name: str, **extra: object) -> dict:  # type: ignore[type-arg]
    res = api.call("POST", "/api/v1/datasets", json={"name": name, **extra})
    assert res["code"] == 0, res
    return res["data"]  # type: ignore[no-any-return]


# ---- dataset_api -------------------------------------------------------------------------------------------
def test_dataset_delete_answers_success_count_and_names_every_unknown_id(api: Api) -> None:
    ids = [_dataset(api, f"d{i}")["id"] for i in range(3)]
    assert api.call("DELETE", "/api/v1/datasets", json={"ids": []}) == {"code": 0, "data": {"success_count": 0}}
    ghosts = [uuid.uuid4().hex, uuid.uuid4().hex]
    res = api.call("DELETE", "/api/v1/datasets", json={"ids": [ids[0], *ghosts]})
    assert res == {"code": 102, "data": None,
                   "message": f"User '{api.tenant}' lacks permission for datasets: '{ghosts[0]}, {ghosts[1]}'"}
    assert api.call("GET", "/api/v1/datasets")["total_datasets"] == 3  # nothing changed
    assert api.call("DELETE", "/api/v1/datasets", json={"ids": ids[:2]}) == {"code": 0, "data": {"success_count": 2}}
    assert api.call("DELETE", "/api/v1/datasets", json={"delete_all": True}) == {"code": 0, "data": {"success_count": 1}}


def test_dataset_list_page_size_over_100_is_a_validation_error(api: Api) -> None:
    res = api.call("GET", "/api/v1/datasets", params={"page_size": 101})
    assert res == {"code": 101, "data": None,
                   "message": "Field: <page_size> - Message: <Value error, page_size must be less than or equal to 100> - Value: <101>"}
    assert api.call("GET", "/api/v1/datasets", params={"page_size": 100})["code"] == 0


def test_dataset_list_by_ids(api: Api) -> None:
    ids = [_dataset(api, f"ds{i}")["id"] for i in range(4)]
    res = api.call("GET", "/api/v1/datasets", params={"ids": f"{ids[0]},{ids[2]}"})
    assert res["code"] == 0 and res["total_datasets"] == 2
    assert [d["id"] for d in res["data"]] == [ids[2], ids[0]]  # newest first
    repeated = api.client.get(f"/api/v1/datasets?ids={ids[1]}&ids={ids[3]}&desc=false", headers=api.headers()).json()
    assert [d["id"] for d in repeated["data"]] == [ids[1], ids[3]]
    # ids that are unknown (or another tenant's) are left out, as RAGFlow's get_accessible_ids does
    assert api.call("GET", "/api/v1/datasets", params={"ids": uuid.uuid4().hex}) == {"code": 0, "data": [], "total_datasets": 0}
    both = api.call("GET", "/api/v1/datasets", params={"id": ids[0], "ids": ids[1]})
    assert both == {"code": 102, "data": None, "message": f"Should not provide both 'id':{ids[0]} and 'ids'['{ids[1]}']"}
    bad = api.call("GET", "/api/v1/datasets", params={"ids": "nope"})
    assert bad == {"code": 101, "data": None, "message": "Field: <ids> - Message: <Invalid UUID format> - Value: <['nope']>"}
    dup = api.call("GET", "/api/v1/datasets", params={"ids": f"{ids[0]},{ids[0]}"})
    assert dup["code"] == 101 and f"Duplicate ids: '{ids[0]}'" in dup["message"]
    many = ",".join(uuid.uuid4().hex for _ in range(101))
    too_many = api.call("GET", "/api/v1/datasets", params={"ids": many})
    assert too_many["code"] == 101
    assert too_many["message"].startswith("Field: <ids> - Message: <List should have at most 100 items after validation, not 101>")


def test_dataset_list_ext_filters(api: Api) -> None:
    _dataset(api, "Alpha notes")
    qa = _dataset(api, "beta", chunk_method="qa")
    res = api.call("GET", "/api/v1/datasets", params={"ext": '{"keywords": "ALPHA"}'})
    assert [d["name"] for d in res["data"]] == ["Alpha notes"] and res["total_datasets"] == 1
    res = api.call("GET", "/api/v1/datasets", params={"ext": '{"parser_id": "qa"}'})
    assert [d["id"] for d in res["data"]] == [qa["id"]]


def test_dataset_list_parsing_status_is_one_object(api: Api) -> None:
    ds = _dataset(api, "counted")
    res = api.call("GET", "/api/v1/datasets", params={"include_parsing_status": "true"})
    assert res["data"][0]["id"] == ds["id"]
    assert res["data"][0]["parsing_status"] == {"unstart_count": 0, "running_count": 0, "cancel_count": 0,
                                                "done_count": 0, "fail_count": 0}
    assert "parsing_status" not in api.call("GET", "/api/v1/datasets")["data"][0]


def test_dataset_get_has_size_and_connectors(api: Api) -> None:
    ds = _dataset(api, "sized")
    files = [("file", ("a.txt", b"hello world", "text/plain")), ("file", ("b.txt", b"12345", "text/plain"))]
    up = api.client.post(f"/api/v1/datasets/{ds['id']}/documents", files=files, headers=api.headers()).json()
    assert up["code"] == 0, up
    got = api.call("GET", f"/api/v1/datasets/{ds['id']}")
    assert got["code"] == 0 and got["data"]["size"] == 16 and got["data"]["connectors"] == []
    api.call("DELETE", f"/api/v1/datasets/{ds['id']}/documents", json={"ids": [up["data"][0]["id"]]})
    assert api.call("GET", f"/api/v1/datasets/{ds['id']}")["data"]["size"] == 5


# ---- document_api ------------------------------------------------------------------------------------------
def _upload(api: Api, dataset_id: str, *names: str) -> list[str]:
    files = [("file", (n, f"text of {n}".encode(), "text/plain")) for n in names]
    res = api.client.post(f"/api/v1/datasets/{dataset_id}/documents", files=files, headers=api.headers()).json()
    assert res["code"] == 0, res
    return [d["id"] for d in res["data"]]


def test_document_delete_answers_deleted_and_refuses_ids_with_delete_all(api: Api) -> None:
    ds = _dataset(api, "docs")["id"]
    a, b = _upload(api, ds, "a.txt", "b.txt")
    both = api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"ids": [a], "delete_all": True})
    assert both == {"code": 102, "data": None,
                    "message": f"should not provide both doc ids and delete_all(true), dataset: {ds}. "}
    assert api.call("GET", f"/api/v1/datasets/{ds}/documents")["data"]["total"] == 2  # nothing changed
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"ids": [a]}) == {"code": 0, "data": {"deleted": 1}}
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"delete_all": True}) == {"code": 0, "data": {"deleted": 1}}


def test_document_list_paging_orderby_and_ids(api: Api) -> None:
    ds = _dataset(api, "listed")["id"]
    ids = _upload(api, ds, "a.txt", "b.txt", "c.txt")
    path = f"/api/v1/datasets/{ds}/documents"
    # page and page_size fall back to 1 / 30 when not whole numbers ≥ 1; over 100 is refused (validate_rest_api_page*)
    assert api.call("GET", path, params={"page": 0, "page_size": "x"})["data"]["total"] == 3
    assert len(api.call("GET", path, params={"page": -1, "page_size": 0})["data"]["docs"]) == 3
    assert api.call("GET", path, params={"page_size": 101}) == {
        "code": 100, "data": None, "message": "ValueError('page_size must be less than or equal to 100')"}
    assert api.call("GET", path, params={"orderby": "size"}) == {"code": 101, "data": None, "message": "invalid orderby field: size"}
    assert [d["name"] for d in api.call("GET", path, params={"orderby": "name", "desc": "false"})["data"]["docs"]] == [
        "a.txt", "b.txt", "c.txt"]
    # `ids` narrow the list (unknown ones simply match nothing); more than 100 are refused
    narrowed = api.client.get(f"{path}?ids={ids[0]}&ids={ids[2]}", headers=api.headers()).json()
    assert sorted(d["id"] for d in narrowed["data"]["docs"]) == sorted([ids[0], ids[2]])
    assert api.call("GET", path, params={"ids": uuid.uuid4().hex}) == {"code": 0, "message": "success", "data": {"total": 0, "docs": []}}
    many = "&".join(f"ids={uuid.uuid4().hex}" for _ in range(101))
    assert api.client.get(f"{path}?{many}", headers=api.headers()).json() == {
        "code": 101, "data": None, "message": "ids must contain at most 100 IDs"}


def test_document_parse_and_stop_answer_counts(api: Api) -> None:
    ds = _dataset(api, "parsed")["id"]
    (doc,) = _upload(api, ds, "a.txt")
    stop = api.call("POST", f"/api/v1/datasets/{ds}/documents/stop", json={"document_ids": [doc]})
    assert stop == {"code": 0, "data": {"success_count": 0, "errors": [
        "Can't stop parsing document that has not started or already completed"]}}
    ghost = uuid.uuid4().hex
    assert api.call("POST", f"/api/v1/datasets/{ds}/documents/stop", json={"document_ids": [ghost]}) == {
        "code": 102, "data": None, "message": f"Documents not found: ['{ghost}']"}
    legacy = api.call("DELETE", f"/api/v1/datasets/{ds}/chunks", json={"document_ids": [doc]})
    assert legacy == {"code": 102, "message": "Can't stop parsing document that has not started or already completed",
                      "data": {"error_code": "DOC_STOP_PARSING_INVALID_STATE"}}
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/chunks", json={"document_ids": [ghost]}) == {
        "code": 102, "data": None, "message": f"you don't own the document {ghost}"}
    assert api.call("POST", f"/api/v1/datasets/{ds}/documents/parse", json={"document_ids": [doc]}) == {
        "code": 0, "data": {"success_count": 1}}
    assert api.call("POST", f"/api/v1/datasets/{ds}/chunks", json={"document_ids": [doc]}) == {"code": 0}


# ---- chunk_api (+ retrieval) -------------------------------------------------------------------------------
def test_chunk_list_paging_and_chunk_ids(api: Api) -> None:
    ds = _dataset(api, "chunks")["id"]
    (doc,) = _upload(api, ds, "a.txt")
    base = f"/api/v1/datasets/{ds}/documents/{doc}/chunks"
    made = [api.call("POST", base, json={"content": f"chunk number {i}"})["data"]["chunk"]["id"] for i in range(3)]
    # not whole numbers ≥ 1: the defaults; over 100: refused
    assert api.call("GET", base, params={"page": "x", "page_size": "y"})["data"]["total"] == 3
    assert api.call("GET", base, params={"page_size": 101}) == {
        "code": 100, "data": None, "message": "ValueError('page_size must be less than or equal to 100')"}
    picked = api.client.get(f"{base}?chunk_ids={made[0]},{made[2]}&chunk_ids={made[0]}", headers=api.headers()).json()
    assert picked["data"]["total"] == 2 and [c["id"] for c in picked["data"]["chunks"]] == [made[0], made[2]]
    many = ",".join(uuid.uuid4().hex for _ in range(101))
    assert api.call("GET", base, params={"chunk_ids": many}) == {
        "code": 101, "data": None, "message": "chunk_ids must contain at most 100 IDs"}


def test_retrieval_checks_in_ragflows_order(api: Api) -> None:
    ds = _dataset(api, "searched")["id"]
    ghost = uuid.uuid4().hex
    cases = [
        ({"question": "x"}, 102, "`dataset_ids` is required."),
        ({"dataset_ids": ds, "question": "x"}, 102, "`dataset_ids` should be a list"),
        ({"dataset_ids": [ghost]}, 102, f"You don't own the dataset {ghost}."),
        ({"dataset_ids": [ds]}, 102, "`question` is required."),
        ({"dataset_ids": [ds], "question": "x", "page_size": 101}, 100, "ValueError('page_size must be less than or equal to 100')"),
        ({"dataset_ids": [ds], "question": "x", "document_ids": "d"}, 102, "`documents` should be a list"),
        ({"dataset_ids": [ds], "question": "x", "top_k": 0}, 102, "`top_k` must be greater than 0"),
    ]
    for body, code, message in cases:
        assert api.call("POST", "/api/v1/retrieval", json=body) == {"code": code, "data": None, "message": message}, body
    assert api.call("POST", "/api/v1/retrieval", json={"dataset_ids": [ds], "question": "  "}) == {
        "code": 0, "data": {"total": 0, "chunks": [], "doc_aggs": {}}}
    ok = api.call("POST", "/api/v1/retrieval", json={"dataset_ids": [ds], "question": "x", "page": 0, "page_size": "a"})
    assert ok["code"] == 0 and ok["data"]["total"] == 0


# ---- chat_api ----------------------------------------------------------------------------------------------
def test_chat_setting_objects_are_data_errors(api: Api) -> None:
    assert api.call("POST", "/api/v1/chats", json={"name": "c", "prompt_config": "x"}) == {
        "code": 102, "data": None, "message": "`prompt_config` should be an object."}
    chat = api.call("POST", "/api/v1/chats", json={"name": "c"})["data"]["id"]
    assert api.call("PATCH", f"/api/v1/chats/{chat}", json={"llm_setting": "x"}) == {
        "code": 102, "data": None, "message": "`llm_setting` should be an object."}


def test_message_delete_and_feedback_as_ragflow_answers(api: Api) -> None:
    chat = api.call("POST", "/api/v1/chats", json={"name": "c"})["data"]["id"]
    session = api.call("POST", f"/api/v1/chats/{chat}/sessions", json={"name": "s"})["data"]
    base = f"/api/v1/chats/{chat}/sessions/{session['id']}"
    reply = api.call("POST", "/api/v1/chat/completions", json={
        "chat_id": chat, "session_id": session["id"], "stream": False, "messages": [{"role": "user", "content": "hello"}]})
    assert reply["code"] == 0, reply
    stored = api.call("GET", base)["data"]
    assert len(stored["messages"]) == 3 and len(stored["reference"]) == 1
    answer_id = stored["messages"][-1]["id"]
    ghost = uuid.uuid4().hex
    # an id the session does not hold: the session, unchanged
    unchanged = api.call("PUT", f"{base}/messages/{ghost}/feedback", json={"thumbup": True})
    assert unchanged["code"] == 0 and unchanged["data"]["messages"] == stored["messages"]
    assert api.call("PUT", f"{base}/messages/{answer_id}/feedback", json={"thumbup": "yes"}) == {
        "code": 102, "data": None, "message": "thumbup must be a boolean"}
    liked = api.call("PUT", f"{base}/messages/{answer_id}/feedback", json={"thumbup": True})
    assert liked["code"] == 0 and liked["data"]["messages"][-1]["thumbup"] is True
    assert api.call("DELETE", f"{base}/messages/{ghost}")["data"]["messages"] == liked["data"]["messages"]
    # the question and its answer share the id: both go, with the turn's reference
    gone = api.call("DELETE", f"{base}/messages/{answer_id}")
    assert gone["code"] == 0 and len(gone["data"]["messages"]) == 1 and gone["data"]["reference"] == []
    assert api.call("GET", base)["data"]["messages"] == gone["data"]["messages"]


def test_completion_messages_checked_as_ragflow_does(api: Api) -> None:
    chat = api.call("POST", "/api/v1/chats", json={"name": "c"})["data"]["id"]
    user = {"role": "user", "content": "hi"}
    cases = [
        ({"chat_id": chat}, 101, "required argument are missing: messages"),
        ({"chat_id": chat, "messages": []}, 101, "`messages` must be a non-empty list."),
        ({"chat_id": chat, "messages": ["hi"]}, 101, "Every item in `messages` must be an object."),
        ({"chat_id": chat, "messages": [{"role": "user"}]}, 101, "Every item in `messages` must include `role` and `content`."),
        ({"chat_id": chat, "messages": [{"role": "system", "content": "s"}]}, 101, "`messages` must contain a user message."),
        ({"chat_id": chat, "messages": [user, {"role": "assistant", "content": "a"}]}, 101, "The last message must be from user."),
        ({"chat_id": chat, "messages": [user], "store_history_messages": False}, 102,
         "`pass_all_history_messages` must be true when `store_history_messages` is false."),
        ({"session_id": uuid.uuid4().hex, "messages": [user]}, 102, "`chat_id` is required when `session_id` is provided."),
    ]
    for body, code, message in cases:
        assert api.call("POST", "/api/v1/chat/completions", json={**body, "stream": False}) == {
            "code": code, "data": None, "message": message}, body
    assert api.call("GET", f"/api/v1/chats/{chat}/sessions")["data"] == []  # no refused request opened a session
    answered = api.call("POST", "/api/v1/chat/completions", json={"chat_id": chat, "question": "hi", "stream": False})
    assert answered["code"] == 0 and answered["data"]["answer"]


# ---- memory_api --------------------------------------------------------------------------------------------
def test_memory_paging_and_id_limits(api: Api) -> None:
    made = api.call("POST", "/api/v1/memories", json={"name": "m", "memory_type": ["raw"],
                                                      "embd_id": "all-MiniLM-L6-v2@Builtin", "llm_id": "extractive@Builtin"})
    assert made["code"] == 0, made
    mid = made["data"]["id"]
    many = ",".join(uuid.uuid4().hex for _ in range(101))
    too_big = {"code": 100, "data": None, "message": "ValueError('page_size must be less than or equal to 100')"}
    assert api.call("GET", "/api/v1/memories", params={"page_size": 101}) == too_big
    assert api.call("GET", f"/api/v1/memories/{mid}", params={"page_size": 101}) == too_big
    listed = api.call("GET", "/api/v1/memories", params={"page": "x", "page_size": "y"})
    assert listed["code"] == 0 and listed["data"]["total_count"] == 1
    assert api.call("GET", "/api/v1/memories", params={"ids": f"{mid},{uuid.uuid4().hex}"})["data"]["total_count"] == 1
    assert api.call("GET", "/api/v1/memories", params={"ids": uuid.uuid4().hex})["data"] == {"memory_list": [], "total_count": 0}
    for path, name in (("/api/v1/memories", "ids"), ("/api/v1/memories", "owner_ids"), (f"/api/v1/memories/{mid}", "agent_id"),
                       ("/api/v1/messages", "memory_id"), ("/api/v1/messages/search", "memory_id")):
        assert api.call("GET", path, params={name: many}) == {
            "code": 101, "data": None, "message": f"{name} must contain at most 100 IDs"}, (path, name)
    assert api.call("GET", "/api/v1/messages") == {"code": 101, "data": None, "message": "memory_ids is required."}
    assert api.call("GET", "/api/v1/messages", params={"memory_id": mid, "limit": 101}) == {
        "code": 101, "data": None, "message": "page_size must be less than or equal to 100"}
    assert api.call("GET", "/api/v1/messages/search", params={"memory_id": mid, "top_n": "x", "query": "q"}) == {
        "code": 101, "data": None, "message": "invalid literal for int() with base 10: 'x'"}


def test_message_status_is_checked_before_the_lookup(api: Api) -> None:
    ghost = f"/api/v1/messages/{uuid.uuid4().hex}:1"
    assert api.call("PUT", ghost, json={"status": "on"}) == {"code": 101, "data": None, "message": "Status must be a boolean."}
    assert api.call("PUT", ghost, json={}) == {"code": 101, "data": None, "message": "required argument are missing: status; "}


# ---- search_api --------------------------------------------------------------------------------------------
def test_search_app_list_pages_as_ragflow_does(api: Api) -> None:
    for i in range(31):
        assert api.call("POST", "/api/v1/searches", json={"name": f"s{i}"})["code"] == 0
    first = api.call("GET", "/api/v1/searches")
    assert first["code"] == 0 and first["data"]["total"] == 31 and len(first["data"]["search_apps"]) == 30
    assert len(api.call("GET", "/api/v1/searches", params={"page": 2, "page_size": "x"})["data"]["search_apps"]) == 1
    assert api.call("GET", "/api/v1/searches", params={"page_size": 101}) == {
        "code": 100, "data": None, "message": "ValueError('page_size must be less than or equal to 100')"}
    owners = "&".join(f"owner_ids={uuid.uuid4().hex}" for _ in range(101))
    assert api.client.get(f"/api/v1/searches?{owners}", headers=api.headers()).json() == {
        "code": 101, "data": None, "message": "owner_ids must contain at most 100 IDs"}


# ---- agent_api, file_api -----------------------------------------------------------------------------------
def test_agent_lists_page_and_check_owner_ids(api: Api) -> None:
    too_big = {"code": 100, "data": None, "message": "ValueError('page_size must be less than or equal to 100')"}
    assert api.call("GET", "/api/v1/agents", params={"page_size": 101}) == too_big
    assert api.call("GET", "/api/v1/agents", params={"page": "x", "page_size": "y"}) == {"code": 0, "data": {"canvas": [], "total": 0}}
    many = ",".join(uuid.uuid4().hex for _ in range(101))
    assert api.call("GET", "/api/v1/agents", params={"owner_ids": many}) == {
        "code": 101, "data": None, "message": "owner_ids must contain at most 100 IDs"}
    assert api.call("GET", "/api/v1/agents", params={"owner_ids": uuid.uuid4().hex}) == {
        "code": 103, "data": False, "message": "Only authorized owner_ids can be queried."}
    assert api.call("GET", "/api/v1/agents", params={"owner_ids": api.tenant})["code"] == 0


def test_file_list_is_validated_as_list_file_req(api: Api) -> None:
    assert api.call("GET", "/api/v1/files", params={"page_size": 101}) == {
        "code": 101, "data": None,
        "message": "Field: <page_size> - Message: <Value error, page_size must be less than or equal to 100> - Value: <101>"}
    assert api.call("GET", "/api/v1/files", params={"page": 0}) == {
        "code": 101, "data": None, "message": "Field: <page> - Message: <Input should be greater than or equal to 1> - Value: <0>"}
    assert api.call("GET", "/api/v1/files", params={"folder": "x"}) == {
        "code": 101, "data": None, "message": "Field: <folder> - Message: <Extra inputs are not permitted> - Value: <x>"}
    assert api.call("GET", "/api/v1/files", params={"page": 1, "page_size": 100, "desc": "false"})["code"] == 0


# ---- openai_api --------------------------------------------------------------------------------------------
def test_openai_route_refuses_a_model_the_tenant_cannot_use(api: Api) -> None:
    chat = api.call("POST", "/api/v1/chats", json={"name": "c"})["data"]["id"]
    path = f"/api/v1/openai/{chat}/chat/completions"
    user = [{"role": "user", "content": "hi"}]
    assert api.call("POST", path, json={"model": "nope@Nowhere", "messages": user}) == {
        "code": 101, "data": None, "message": "`llm_id` nope@Nowhere doesn't exist"}
    # the chat's ownership is checked first, as RAGFlow does
    ghost = uuid.uuid4().hex
    assert api.call("POST", f"/api/v1/openai/{ghost}/chat/completions", json={"model": "nope@Nowhere", "messages": user}) == {
        "code": 102, "data": None, "message": f"You don't own the chat {ghost}"}
    assert api.client.post(path, json={"model": "model", "messages": user}, headers=api.headers()).json()["object"] == "chat.completion"


def test_file_writes_answer_file_api_services_words(api: Api) -> None:
    folder = api.call("POST", "/api/v1/files", json={"name": "docs", "type": "folder"})["data"]
    ghost = uuid.uuid4().hex
    cases = [
        ("POST", "/api/v1/files", {"name": "", "type": "folder"}, 101,
         "Field: <name> - Message: <String should have at least 1 character> - Value: <>"),
        ("POST", "/api/v1/files", {"name": "x", "parent_id": ghost}, 102, "Parent Folder Doesn't Exist!"),
        ("POST", "/api/v1/files", {"name": "docs", "type": "folder"}, 102, "Duplicated folder name in the same folder."),
        ("POST", "/api/v1/files", {"name": "a/b", "type": "folder"}, 102, 'Folder name cannot contain "/"'),
        ("DELETE", "/api/v1/files", {"ids": []}, 101,
         "Field: <ids> - Message: <List should have at least 1 item after validation, not 0> - Value: <[]>"),
        ("POST", "/api/v1/files/move", {"src_file_ids": [folder["id"]]}, 101,
         "Field: <> - Message: <Value error, At least one of dest_file_id or new_name must be provided> - Value: "
         f"<{{'src_file_ids': ['{folder['id']}']}}>"),
        ("POST", "/api/v1/files/move", {"src_file_ids": [folder["id"]], "dest_file_id": folder["id"]}, 102,
         "Cannot move a folder to itself."),
        ("POST", "/api/v1/files/link-to-datasets", {"file_ids": [folder["id"]]}, 101, "required argument are missing: kb_ids; "),
        ("POST", "/api/v1/files/link-to-datasets", {"file_ids": [ghost], "kb_ids": [ghost]}, 102, "File not found!"),
        ("POST", "/api/v1/files/link-to-datasets", {"file_ids": [folder["id"]], "kb_ids": [ghost]}, 102, "Can't find this dataset!"),
    ]
    for method, path, body, code, message in cases:
        assert api.call(method, path, json=body) == {"code": code, "data": None, "message": message}, body
    assert api.call("GET", f"/api/v1/files/{ghost}/ancestors") == {"code": 102, "data": None, "message": "Folder not found!"}
    # a delete naming a file it cannot delete changes nothing, answered as RAGFlow answers a delete where all failed
    assert api.call("DELETE", "/api/v1/files", json={"ids": [folder["id"], ghost]}) == {
        "code": 102, "message": "Deleted files failed with 1 errors",
        "data": {"success_count": 0, "errors": [f"File or Folder not found: {ghost}"]}}
    assert api.call("GET", "/api/v1/files")["data"]["total"] == 1


def test_document_update_refuses_unknown_fields(api: Api) -> None:
    ds = _dataset(api, "upd")["id"]
    (doc,) = _upload(api, ds, "a.txt")
    assert api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{doc}", json={"size": 1}) == {
        "code": 102, "data": None, "message": "Field: <size> - Message: <Extra inputs are not permitted> - Value: <1>"}
    assert api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{doc}", json={"chunk_count": 0})["code"] == 0


def test_chat_successes_carry_get_json_results_message(api: Api) -> None:
    made = api.call("POST", "/api/v1/chats", json={"name": "c"})
    assert made["code"] == 0 and made["message"] == "success"
    chat = made["data"]["id"]
    assert api.call("GET", "/api/v1/chats")["message"] == "success"
    assert api.call("GET", f"/api/v1/chats/{chat}/sessions") == {"code": 0, "message": "success", "data": []}
    assert api.call("DELETE", f"/api/v1/chats/{chat}") == {"code": 0, "message": "success", "data": True}


def test_dataset_ids_are_checked_as_uuids_in_pydantics_words(api: Api) -> None:
    assert api.call("PUT", "/api/v1/datasets/not-a-uuid", json={"name": "x"}) == {
        "code": 101, "data": None, "message": "Field: <dataset_id> - Message: <Invalid UUID format> - Value: <not-a-uuid>"}
    assert api.call("DELETE", "/api/v1/datasets", json={"ids": ["bad"]}) == {
        "code": 101, "data": None, "message": "Field: <ids> - Message: <Invalid UUID format> - Value: <['bad']>"}
    ds = _dataset(api, "hyphens")["id"]
    # any UUID spelling names the dataset, as validate_uuid1_hex normalises it
    assert api.call("PUT", f"/api/v1/datasets/{uuid.UUID(ds)}", json={"description": "d"})["data"]["description"] == "d"
    assert api.call("DELETE", "/api/v1/datasets", json={"ids": [str(uuid.UUID(ds))]}) == {"code": 0, "data": {"success_count": 1}}


def test_multi_dataset_search_needs_dataset_ids(api: Api) -> None:
    assert api.call("POST", "/api/v1/datasets/search", json={"question": "x"}) == {
        "code": 101, "data": None, "message": "Field: <dataset_ids> - Message: <Field required> - Value: <{'question': 'x'}>"}
    assert api.call("POST", "/api/v1/datasets/search", json={"question": "x", "dataset_ids": []}) == {
        "code": 101, "data": None,
        "message": "Field: <dataset_ids> - Message: <List should have at least 1 item after validation, not 0> - Value: <[]>"}


def test_agent_session_delete_answers_get_result(api: Api) -> None:
    dsl = {"components": {"begin": {"obj": {"component_name": "Begin", "params": {}}, "downstream": [], "upstream": []}},
           "history": [], "path": [], "retrieval": [], "globals": {}}
    agent = api.call("POST", "/api/v1/agents", json={"title": "a", "dsl": dsl})["data"]["id"]
    base = f"/api/v1/agents/{agent}/sessions"
    first = api.call("POST", base, json={})["data"]["id"]
    second = api.call("POST", base, json={})["data"]["id"]
    assert api.call("DELETE", base, json={}) == {"code": 0}
    ghost = uuid.uuid4().hex
    assert api.call("DELETE", base, json={"ids": [first, ghost]}) == {
        "code": 0, "data": {"success_count": 1, "errors": [f"The agent doesn't own the session {ghost}"]}}
    assert api.call("DELETE", base, json={"ids": [second]}) == {"code": 0}


def test_chunk_update_answers_what_ragflows_handler_raises(api: Api) -> None:
    ds = _dataset(api, "upd-chunks")["id"]
    (doc,) = _upload(api, ds, "a.txt")
    base = f"/api/v1/datasets/{ds}/documents/{doc}/chunks"
    cid = api.call("POST", base, json={"content": "some content"})["data"]["chunk"]["id"]
    # adding checks the lists; updating joins them, so RAGFlow answers the TypeError (code 100)
    assert api.call("POST", base, json={"content": "x", "questions": ["a", 1]}) == {
        "code": 102, "data": None, "message": "`questions` must be a list of strings"}
    cases = [
        ({"important_keywords": ["a", 1]}, "TypeError('sequence item 1: expected str instance, int found')"),
        ({"questions": [None]}, "TypeError('sequence item 0: expected str instance, NoneType found')"),
        ({"available": "x"}, "ValueError(\"invalid literal for int() with base 10: 'x'\")"),
    ]
    for body, message in cases:
        assert api.call("PATCH", f"{base}/{cid}", json=body) == {"code": 100, "data": None, "message": message}, body
    assert api.call("PATCH", f"{base}/{cid}", json={"available": "0"}) == {"code": 0}
    listed = api.call("GET", base)["data"]["chunks"]
    assert [(c["id"], c["available"], c["content"]) for c in listed] == [(cid, False, "some content")]


def test_chunk_switch_checks_in_ragflows_order(api: Api) -> None:
    ds = _dataset(api, "switch")["id"]
    (doc,) = _upload(api, ds, "a.txt")
    base = f"/api/v1/datasets/{ds}/documents/{doc}/chunks"
    cid = api.call("POST", base, json={"content": "switch me"})["data"]["chunk"]["id"]
    assert api.call("PATCH", base, json={"chunk_ids": [cid]}) == {
        "code": 102, "data": None, "message": "`available_int` or `available` is required."}
    ghost_doc = f"/api/v1/datasets/{ds}/documents/{uuid.uuid4().hex}/chunks"
    assert api.call("PATCH", ghost_doc, json={"chunk_ids": [cid], "available": False}) == {
        "code": 102, "data": None, "message": "document not found"}
    assert api.call("PATCH", base, json={"chunk_ids": [cid], "available_int": "no"}) == {
        "code": 100, "data": None, "message": "ValueError(\"invalid literal for int() with base 10: 'no'\")"}
    assert api.call("PATCH", base, json={"chunk_ids": [cid], "available": None}) == {"code": 0, "data": True}
    assert api.call("GET", base)["data"]["chunks"][0]["available"] is False


def test_document_upload_types_as_ragflow_answers(api: Api) -> None:
    ds = _dataset(api, "typed")["id"]
    path = f"/api/v1/datasets/{ds}/documents"
    assert api.client.post(f"{path}?type=zzz", headers=api.headers(), files=[("file", ("a.txt", b"x", "text/plain"))]).json() == {
        "code": 101, "data": None, "message": '`type` must be one of "local", "web", or "empty".'}
    made = api.call("POST", f"{path}?type=empty", json={"name": "e.txt"})
    assert made["code"] == 0 and made["data"]["name"] == "e.txt" and made["data"]["size"] == 0
    assert api.call("POST", f"{path}?type=empty", json={"name": "e.txt"}) == {
        "code": 102, "data": None, "message": "Duplicated document name in the same dataset."}
    assert api.call("POST", f"{path}?type=empty", json={"name": " "}) == {
        "code": 101, "data": None, "message": "File name can't be empty."}
    ghost = uuid.uuid4().hex
    assert api.call("POST", f"/api/v1/datasets/{ghost}/documents?type=zzz", json={}) == {
        "code": 102, "data": None, "message": f"Can't find the dataset with ID {ghost}!"}


def test_dataset_list_filter_counts_by_owner(api: Api) -> None:
    res = api.client.post("/api/v1/users", json={"email": "owner@example.com", "nickname": "Owner", "password": "pw-123456"})
    auth = {"Authorization": res.headers["Authorization"]}
    user_id = res.json()["data"]["id"]
    assert api.client.get("/api/v1/datasets?type=filter", headers=auth).json() == {
        "code": 0, "data": {"filter": {"owner": []}, "total": 0}}
    for name in ("one", "two"):
        assert api.client.post("/api/v1/datasets", json={"name": name}, headers=auth).json()["code"] == 0
    assert api.client.get("/api/v1/datasets?type=filter", headers=auth).json() == {
        "code": 0, "data": {"filter": {"owner": [{"id": user_id, "label": "Owner", "count": 2}]}, "total": 2}}
