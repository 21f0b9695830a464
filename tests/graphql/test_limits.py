"""Hostile queries get a clear error before execution and run no SQL."""

from __future__ import annotations

import pytest

from tests.fixtures import builders
from tests.graphql.conftest import Api

DEEP = "{ workspace { videos { nodes { clips { nodes { video { clips { nodes { video { clips { nodes { video { clips { nodes { video { clips { nodes { id } } } } } } } } } } } } } } } } } }"
ALIASES = "{ " + " ".join(f"a{i}: workspace {{ name }}" for i in range(1000)) + " }"
SOME_ALIASES = "{ " + " ".join(f"a{i}: workspace {{ name }}" for i in range(100)) + " }"
HUGE_PAGE = "{ workspace { videos(first: 100000) { nodes { id } } } }"
COSTLY = "{ workspace { videos(first: 100) { nodes { clips(first: 100) { nodes { posts(first: 100) { nodes { id } } } } } } } }"


@pytest.fixture
async def caller(committed):  # noqa: ANN001, ANN201
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    token = await builders.token(committed, owner)
    await committed.commit()
    return ws, token


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (DEEP, "exceeds maximum operation depth"),
        (ALIASES, "Document contains more than 5000 tokens"),
        (SOME_ALIASES, "100 aliases found. Allowed: 30"),
        (HUGE_PAGE, "`first` on Workspace.videos must be at most 100 (got 100000)."),
        (COSTLY, "more than the limit of"),
    ],
    ids=["deep", "1000-aliases", "100-aliases", "first-100000", "cost"],
)
async def test_hostile_query_is_refused_without_sql(api: Api, caller, query: str, expected: str) -> None:  # noqa: ANN001
    ws, token = caller
    body, statements = await api.count(query, token=token, workspace=ws)
    assert body["data"] is None
    messages = [e["message"] for e in body["errors"]]
    assert any(expected in m for m in messages), messages
    assert statements == 0


async def test_first_as_variable_is_refused_too(api: Api, caller) -> None:  # noqa: ANN001
    ws, token = caller
    body, statements = await api.count(
        "query($n: Int) { workspace { videos(first: $n) { nodes { id } } } }", {"n": 101}, token=token, workspace=ws
    )
    assert [e["message"] for e in body["errors"]] == ["`first` on Workspace.videos must be at most 100 (got 101)."]
    assert statements == 0


async def test_too_many_mutations_in_one_request(api: Api, caller) -> None:  # noqa: ANN001
    ws, token = caller
    query = "mutation { " + " ".join(f'm{i}: logOut {{ errors {{ code }} }}' for i in range(6)) + " }"
    body, statements = await api.count(query, token=token, workspace=ws)
    assert [e["message"] for e in body["errors"]] == ["At most 5 mutations per request (got 6)."]
    assert statements == 0


async def test_batches_are_capped(api: Api) -> None:
    response = await api.client.post("/graphql", json=[{"query": "{ viewer { role } }"}] * 6)
    assert response.status_code == 400 and "Too many operations" in response.text


async def test_field_suggestions_are_disabled(api: Api) -> None:
    body = await api.gql("{ workspac { name } }")
    assert body["errors"][0]["message"] == "Cannot query field 'workspac' on type 'Query'."


async def test_json_bodies_are_capped(api: Api) -> None:
    from clipflow_api.graphql.uploads import MAX_JSON_BODY_BYTES

    big = ('{"query": "{ __typename }", "variables": {"pad": "' + "x" * MAX_JSON_BODY_BYTES + '"}}').encode()

    async def chunks():  # noqa: ANN202
        for i in range(0, len(big), 64 * 1024):
            yield big[i:i + 64 * 1024]

    declared = await api.client.post("/graphql", content=big, headers={"content-type": "application/json"})
    streamed = await api.client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["errors"] == [{"message": "The request body is larger than 2048 KB.", "extensions": {"code": "REQUEST_TOO_LARGE"}}]
    # a body under the cap is answered as usual
    ok = await api.client.post("/graphql", json={"query": "{ __typename }", "variables": {"pad": "x" * 1000}})
    assert ok.json() == {"data": {"__typename": "Query"}}
