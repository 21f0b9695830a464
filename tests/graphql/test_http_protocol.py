"""GraphQL over HTTP as stock clients speak it (the graphql-over-http spec): media types and
status codes, JSON errors for malformed requests, no operation over GET, CORS for browser apps
on configured origins, the one kind of id (global ids, raw UUIDs still accepted), create inputs
that declare what they require, uploads sniffed at the edge, and GraphiQL without a CDN."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select, text
from strawberry.relay import GlobalID

from clipflow_api.config import get_settings
from clipflow_api.models import User
from clipflow_api.processing.sniff import REFUSED_MESSAGE as REFUSED
from tests.fixtures import builders
from tests.graphql.conftest import open_api

GRAPHQL_RESPONSE = "application/graphql-response+json"
SIGN_UP = 'mutation { signUp(input: {email: "%s", password: "a long enough password 1", name: "Get"}) { token } }'
VIEWER_WORKSPACE = "{ viewer { currentWorkspace { id } } }"


async def _post(api, body, *, accept=None, content_type="application/json", headers=None):  # noqa: ANN001, ANN003, ANN202
    h = {"content-type": content_type, **(headers or {})}
    if accept:
        h["accept"] = accept
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return await api.client.post("/graphql", content=raw, headers=h)


# --- media type and status ----------------------------------------------------------------

async def test_graphql_response_json_is_negotiated_and_request_errors_are_400(api) -> None:
    # given a client that accepts application/graphql-response+json
    ok = await _post(api, {"query": "{ __typename }"}, accept=f"{GRAPHQL_RESPONSE}, application/json;q=0.9")
    # then a successful query comes back in that media type, 200
    assert (ok.status_code, ok.headers["content-type"], ok.json()) == (200, GRAPHQL_RESPONSE, {"data": {"__typename": "Query"}})
    # and a document that does not parse, or does not validate, is a request error: 400, no data entry
    unparsed = await _post(api, {"query": "{ __typename "}, accept=GRAPHQL_RESPONSE)
    invalid = await _post(api, {"query": "{ noSuchField }"}, accept=GRAPHQL_RESPONSE)
    for response in (unparsed, invalid):
        assert (response.status_code, response.headers["content-type"]) == (400, GRAPHQL_RESPONSE)
        assert "data" not in response.json() and len(response.json()["errors"]) == 1
    assert invalid.json()["errors"][0]["message"] == "Cannot query field 'noSuchField' on type 'Query'."


async def test_application_json_keeps_200_for_request_errors(api) -> None:
    response = await _post(api, {"query": "{ noSuchField }"}, accept="application/json")
    assert (response.status_code, response.headers["content-type"]) == (200, "application/json")
    assert response.json()["data"] is None
    assert [e["message"] for e in response.json()["errors"]] == ["Cannot query field 'noSuchField' on type 'Query'."]


async def test_a_field_error_after_execution_is_not_a_request_error(api) -> None:
    # an anonymous caller reaching a field that needs sign-in: executed, so 200 with data
    response = await _post(api, {"query": "{ viewer { user { email } } }"}, accept=GRAPHQL_RESPONSE)
    assert (response.status_code, response.headers["content-type"]) == (200, GRAPHQL_RESPONSE)
    assert "data" in response.json()


async def test_an_unknown_enum_value_in_a_variable_is_named_not_masked(api) -> None:
    # given a client still sending a status the old way, as a lower-case string
    query = "query($s: [VideoStatus!]) { workspace { videos(filter: {status: $s}) { totalCount } } }"
    response = await _post(api, {"query": query, "variables": {"s": ["done"]}}, accept=GRAPHQL_RESPONSE)
    # then it is a request error that says which value is wrong (not a masked "Unexpected error.")
    assert (response.status_code, [e["message"] for e in response.json()["errors"]]) == (
        400, ["Variable '$s' has invalid value at [0]: Value 'done' does not exist in 'VideoStatus' enum."]
    )


# --- malformed requests -------------------------------------------------------------------

async def test_malformed_requests_are_answered_with_json_errors(api) -> None:
    cases = [
        (b"{not json", "Unable to parse request body as JSON"),
        ({"variables": {}}, "No GraphQL query found in the request"),
        ('"just a string"', "Expected a JSON object (a batch: a list of objects), got a string."),
        ("42", "Expected a JSON object (a batch: a list of objects), got a number."),
        ("[1, 2]", "Expected a JSON object (a batch: a list of objects), got a list with a non-object item."),
        ({"query": "{ __typename }", "variables": [1]},
         "The GraphQL operation's `variables` must be an object or null, if provided."),
    ]
    for body, message in cases:
        for accept, media_type in ((None, "application/json"), (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE)):
            response = await _post(api, body, accept=accept)
            assert (response.status_code, response.headers["content-type"]) == (400, media_type), body
            assert response.json() == {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}, body


async def test_several_operations_without_an_operation_name_are_refused(api, committed) -> None:
    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    document = "mutation A " + SIGN_UP.removeprefix("mutation ") % email + " query B { __typename }"
    # when a document holds a mutation and a query, and no operationName says which to run
    refused = await _post(api, {"query": document})
    # then it is refused (strawberry alone would run the first one), and the mutation did not run
    assert refused.status_code == 400
    assert refused.json() == {"errors": [{"message": (
        "The document holds several operations (A, B): name the one to run in `operationName`."),
        "extensions": {"code": "BAD_REQUEST"}}]}
    assert await committed.scalar(select(func.count()).select_from(User).where(User.email == email)) == 0
    chosen = await _post(api, {"query": document, "operationName": "B"})
    assert (chosen.status_code, chosen.json()) == (200, {"data": {"__typename": "Query"}})
    # (the same mutation, chosen by name, does create the account: the refusal is what stopped it)
    ran = await _post(api, {"query": document, "operationName": "A"})
    assert ran.status_code == 200 and ran.json()["data"]["signUp"]["token"]
    assert await committed.scalar(select(func.count()).select_from(User).where(User.email == email)) == 1
    user_id = await committed.scalar(select(User.id).where(User.email == email))
    await committed.execute(text("DELETE FROM workspaces WHERE owner_id = :u"), {"u": user_id})
    await committed.execute(text("DELETE FROM users WHERE id = :u"), {"u": user_id})
    await committed.commit()


async def test_get_never_runs_an_operation(api, committed) -> None:
    email = f"get-{uuid.uuid4().hex[:8]}@example.com"
    for query in (SIGN_UP % email, "{ __typename }"):
        # when a mutation (or a query) arrives over GET, as a link or an <img> would send it
        response = await api.client.get("/graphql", params={"query": query}, headers={"accept": GRAPHQL_RESPONSE})
        # then 405, told to POST, as JSON
        assert (response.status_code, response.headers["allow"], response.headers["content-type"]) == (
            405, "POST", GRAPHQL_RESPONSE)
        assert response.json()["errors"][0]["extensions"] == {"code": "METHOD_NOT_ALLOWED"}
    # and the mutation did not run: no account was created
    assert await committed.scalar(select(func.count()).select_from(User).where(User.email == email)) == 0


# --- CORS ---------------------------------------------------------------------------------

async def test_cors_for_configured_origins_only() -> None:
    origin = "https://app.example.com"
    settings = get_settings().model_copy(update={"cors_origins": [origin]})
    async with open_api(settings) as api:
        # a browser's preflight for a GraphQL POST and for a tus PATCH
        for path, method, headers in (
            ("/graphql", "POST", "authorization, content-type, x-workspace-id, apollo-require-preflight"),
            ("/uploads/abc", "PATCH", "tus-resumable, upload-offset, content-type, authorization"),
        ):
            preflight = await api.client.options(path, headers={
                "origin": origin, "access-control-request-method": method, "access-control-request-headers": headers})
            assert preflight.status_code == 200, path
            assert preflight.headers["access-control-allow-origin"] == origin
            assert method in preflight.headers["access-control-allow-methods"].split(", ")
            allowed = {h.strip() for h in preflight.headers["access-control-allow-headers"].split(",")}
            assert {h.strip() for h in headers.split(",")} <= allowed
        # the actual request exposes the tus headers a browser script needs to resume
        created = await api.client.post("/uploads", headers={"origin": origin, "tus-resumable": "1.0.0"})
        assert created.status_code == 403 and created.headers["access-control-allow-origin"] == origin
        exposed = {h.strip().lower() for h in created.headers["access-control-expose-headers"].split(",")}
        assert {"upload-offset", "upload-length", "location", "tus-resumable", "clipflow-video-id"} <= exposed
        # another origin's preflight is refused, and gets no allow-origin
        other = await api.client.options("/graphql", headers={"origin": "https://evil.example",
                                                             "access-control-request-method": "POST"})
        assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
        # and paths outside /graphql and /uploads get no CORS headers
        health = await api.client.get("/healthz", headers={"origin": origin})
        assert "access-control-allow-origin" not in health.headers


async def test_no_cors_headers_by_default(api) -> None:
    assert get_settings().cors_origins == []
    preflight = await api.client.options("/graphql", headers={"origin": "https://app.example.com",
                                                             "access-control-request-method": "POST"})
    assert preflight.status_code == 405 and "access-control-allow-origin" not in preflight.headers
    answer = await _post(api, {"query": "{ __typename }"}, headers={"origin": "https://app.example.com"})
    assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers


# --- one kind of id -------------------------------------------------------------------------

async def test_x_workspace_id_takes_the_global_id_and_still_a_raw_uuid(api, committed) -> None:
    owner = await builders.user(committed)
    await builders.workspace(committed, owner)  # the default one (oldest)
    second = await builders.workspace(committed, owner)
    token = await builders.token(committed, owner)
    await committed.commit()
    workspace_gid = str(GlobalID("Workspace", str(second.id)))
    by_gid = await api.gql(VIEWER_WORKSPACE, token=token, headers={"x-workspace-id": workspace_gid})
    by_uuid = await api.gql(VIEWER_WORKSPACE, token=token, headers={"x-workspace-id": str(second.id)})
    assert by_gid["data"] == by_uuid["data"] == {"viewer": {"currentWorkspace": {"id": workspace_gid}}}
    # an id of another type, or garbage, is refused before any GraphQL runs
    for value in (str(GlobalID("Video", str(second.id))), "not-an-id"):
        refused = await api.gql(VIEWER_WORKSPACE, token=token, headers={"x-workspace-id": value})
        assert refused["_status"] == 400
        assert refused["errors"][0]["message"] == "X-Workspace-Id must be a workspace's id (the `id` of a Workspace)."


# --- the schema says what is required; uploads are sniffed at the edge -----------------------

async def test_create_inputs_declare_their_required_fields(api, committed) -> None:

    ws = await builders.workspace(committed)
    _, token = await builders.member(committed, ws, "editor")
    await committed.commit()
    # the create inputs mark what a new row needs as non-null; the update inputs keep every field optional
    required = {
        "ProjectCreateInput": ["name", "socialFormatId"], "TimelineElementCreateInput": ["canvasId", "type", "name"],
        "MediaFolderCreateInput": ["name"], "TemplateCreateInput": ["name", "templateData"],
        "UserMediaCreateInput": ["originalName", "mimeType", "fileSize", "storageKey", "mediaType"],
        "FeatureFlagCreateInput": ["name"],
    }
    # what describes the stored file is set once, at creation: an update cannot change it
    create_only = {"UserMediaCreateInput": {"mimeType", "fileSize", "storageKey", "mediaType"}}
    for create, fields in required.items():
        update = create.replace("Create", "")
        kinds = {}
        for name in (create, update):
            found = await api.gql('query($n: String!) { __type(name: $n) { inputFields { name type { kind } } } }', {"n": name})
            kinds[name] = {f["name"]: f["type"]["kind"] for f in found["data"]["__type"]["inputFields"]}
        assert sorted(f for f, kind in kinds[create].items() if kind == "NON_NULL") == sorted(fields), create
        assert all(kinds[update][f] != "NON_NULL" for f in fields if f in kinds[update]), update
        # the same fields, only stricter
        assert kinds[create].keys() - create_only.get(create, set()) == kinds[update].keys(), create
    # so a create without its format is refused by validation, before any resolver: nothing created
    body = await api.gql('mutation { projectCreate(input: {name: "P"}) { project { id } } }', token=token, workspace=ws)
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == [
        "Expected value of type 'ProjectCreateInput' to include required field 'socialFormatId', found: { name: \"P\" }."]
    from clipflow_api.models import Project

    assert await committed.scalar(select(func.count()).select_from(Project).where(Project.workspace_id == ws.id)) == 0


async def test_video_upload_refuses_what_is_not_a_video(api, committed) -> None:
    from tests.graphql.test_video_intake import UPLOAD, _counts, _stored_files

    ws = await builders.workspace(committed)
    _, token = await builders.member(committed, ws, "editor")
    await committed.commit()
    before = _stored_files(api)
    # when a PDF arrives named and typed as a video
    body = await api.upload(UPLOAD, {"file": None}, {"variables.file": ("talk.mp4", b"%PDF-1.7\n" + b"0" * 5000, "video/mp4")},
                            token=token, workspace=ws)
    # then it is refused in the payload, and nothing was stored or created
    assert body["_status"] == 200 and body["data"]["r"] == {"video": None, "job": None, "errors": [
        {"field": "file", "code": "INVALID", "message": REFUSED}]}
    assert _stored_files(api) == before
    assert await _counts(committed, ws) == {"videos": 0, "jobs": 0, "audit": 0}


# --- GraphiQL works offline -----------------------------------------------------------------

async def test_graphiql_loads_its_files_from_the_app_not_a_cdn() -> None:
    import base64
    import hashlib
    import re

    settings = get_settings().model_copy(update={"environment": "development"})
    async with open_api(settings) as api:
        page = (await api.client.get("/graphql", headers={"accept": "text/html"})).text
        # every script and stylesheet is the app's own, each pinned by its integrity hash
        assets = re.findall(r'(?:src|href)="([^"]+)"\s+integrity="sha384-([^"]+)"', page)
        assert "unpkg.com" not in page and "jsdelivr" not in page
        assert len(assets) == 7 and all(url.startswith("/graphiql/") for url, _ in assets), assets
        for url, digest in assets:
            response = await api.client.get(url)  # httpx decodes the gzip, as a browser does
            assert (response.status_code, response.headers["content-encoding"]) == (200, "gzip"), url
            assert base64.b64encode(hashlib.sha384(response.content).digest()).decode() == digest, url
        assert (await api.client.get("/graphiql/../app.py")).status_code == 404
    # and outside development the files are not served at all
    async with open_api() as api:
        assert (await api.client.get(assets[0][0])).status_code == 404


def test_cors_origins_may_open_subscription_sockets(migrated_database) -> None:  # noqa: ANN001
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from clipflow_api.app import create_app

    origin = "https://app.example.com"
    app = create_app(get_settings().model_copy(update={"cors_origins": [origin]}))
    with TestClient(app) as client:
        # a page on a configured origin opens a socket and is acknowledged
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"], headers={"origin": origin}) as ws:
            ws.send_json({"type": "connection_init", "payload": {}})
            assert ws.receive_json()["type"] == "connection_ack"
        # a page on any other origin is refused at the handshake
        try:
            with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"],
                                          headers={"origin": "https://evil.example"}):
                raise AssertionError("the handshake was accepted")
        except WebSocketDisconnect as exc:
            assert exc.code == 1008  # policy violation, before any GraphQL message
