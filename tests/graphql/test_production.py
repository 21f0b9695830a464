"""Outside development: an unexpected exception's message is masked (coded errors are not),
introspection is off in production unless a setting turns it on, and GraphiQL is not served."""

from __future__ import annotations

import pytest

from clipflow_api.config import get_settings
from tests.fixtures import builders
from tests.graphql.conftest import open_api

SECRET = "could not connect to 10.0.0.5: password=hunter2"
INTROSPECT = "{ __schema { queryType { name } } }"


# Production refuses to start with the repository's public secrets (tests/security/test_edge.py).
PRODUCTION_SECRETS = {
    "secret_key": "p" * 48, "token_encryption_keys": "2:" + "A" * 43 + "=",
    "db_app_password": "not-the-public-default", "db_worker_password": "not-the-public-default-either",
}


def _settings(**changes):  # noqa: ANN003, ANN202
    if changes.get("environment") == "production":
        changes = {**PRODUCTION_SECRETS, **changes}
    return get_settings().model_copy(update=changes)


@pytest.fixture
async def caller(committed):  # noqa: ANN001, ANN201
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    token = await builders.token(committed, owner)
    _, viewer_token = await builders.member(committed, ws, "viewer")
    await committed.commit()
    return ws, token, viewer_token


def _explode(monkeypatch: pytest.MonkeyPatch) -> None:
    from clipflow_api.media.service import processing
    from clipflow_api.graphql.workspaces.loaders import WorkspaceByIdLoader

    async def broken_load(self, keys):  # noqa: ANN001, ANN202
        raise RuntimeError(SECRET)

    async def broken_import(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError(SECRET)

    monkeypatch.setattr(WorkspaceByIdLoader, "batch_load", broken_load)
    monkeypatch.setattr(processing, "create_video_from_url", broken_import)


@pytest.mark.parametrize("environment", ["production", "test"])
async def test_unexpected_errors_are_masked_outside_development(migrated_database, committed, caller, monkeypatch, environment) -> None:  # noqa: ANN001
    ws, token, viewer_token = caller
    _explode(monkeypatch)
    async with open_api(_settings(environment=environment)) as api:
        query = await api.client.post("/graphql", json={"query": "{ workspace { name } }"},
                                      headers={"authorization": f"Bearer {token}", "x-workspace-id": str(ws.id)})
        mutation = await api.client.post("/graphql", json={"query": 'mutation { r: videoImport(input: {url: "https://example.com/a.mp4"}) { errors { code } } }'},
                                         headers={"authorization": f"Bearer {token}", "x-workspace-id": str(ws.id)})
        # a refusal with a code keeps its message
        refused = await api.gql('mutation { r: videoImport(input: {url: "https://example.com/a.mp4"}) { errors { code } } }',
                                token=viewer_token, workspace=ws)
    for response in (query, mutation):
        assert SECRET not in response.text and "hunter2" not in response.text
        assert [e["message"] for e in response.json()["errors"]] == ["Unexpected error."]
    assert query.json()["data"] == {"workspace": None}
    assert refused["errors"][0]["message"] == "You need the video:write permission to do this."


async def test_development_shows_the_message(migrated_database, committed, caller, monkeypatch) -> None:  # noqa: ANN001
    ws, token, _ = caller
    _explode(monkeypatch)
    async with open_api(_settings(environment="development")) as api:
        body = await api.gql("{ workspace { name } }", token=token, workspace=ws)
    assert [e["message"] for e in body["errors"]] == [SECRET]


@pytest.mark.parametrize(
    ("changes", "allowed"),
    [
        ({"environment": "production"}, False),
        ({"environment": "production", "graphql_introspection": True}, True),
        ({"environment": "development"}, True),
        ({"environment": "development", "graphql_introspection": False}, False),
        ({"environment": "test"}, True),
    ],
    ids=["production", "production-opted-in", "development", "development-opted-out", "test"],
)
async def test_introspection_follows_the_setting(migrated_database, changes, allowed) -> None:  # noqa: ANN001
    async with open_api(_settings(**changes)) as api:
        body = await api.gql(INTROSPECT)
        typed = await api.gql('{ __type(name: "Video") { name } }')
        typename = await api.gql("{ __typename }")
    if allowed:
        assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}, "_status": 200}
        assert typed["data"] == {"__type": {"name": "Video"}}
    else:
        assert body["data"] is None
        assert [e["message"] for e in body["errors"]] == [
            "GraphQL introspection has been disabled, but the requested query contained the field '__schema'.",
            "GraphQL introspection has been disabled, but the requested query contained the field 'queryType'.",
        ]
        assert [e["message"] for e in typed["errors"]] == [
            "GraphQL introspection has been disabled, but the requested query contained the field '__type'."
        ]
    assert typename["data"] == {"__typename": "Query"}  # not introspection: always answered


async def test_graphiql_is_served_in_development_only(migrated_database) -> None:  # noqa: ANN001
    for environment, status in (("development", 200), ("production", 404)):
        async with open_api(_settings(environment=environment)) as api:
            page = await api.client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == status, environment
