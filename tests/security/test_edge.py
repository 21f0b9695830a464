"""The GraphQL edge, attacked over HTTP (issue 7, findings 4, 8, 11 and 17).

Cost is priced on the values the resolvers get; text a database cannot store and numbers
out of range are refused before execution; deep JSON bodies are a 400; no database error
reaches a client in any environment; production refuses to start with public secrets.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import text

from clipflow_api.config import Settings, UnsafeProductionSettings, check_production_settings
from tests.fixtures import builders
from tests.graphql.test_production import _settings
from tests.graphql.conftest import (  # noqa: F401 - fixtures
    Api,
    api,
    cheap_password_hashing,
    gid,
    open_api,
)

# --- finding 4: cost on coerced variables ---------------------------------------------------

NESTED = "workspace {{ videos(first: {n}) {{ nodes {{ clips(first: {n}) {{ nodes {{ posts(first: {n}) {{ nodes {{ id }} }} }} }} }} }} }}"
# workspace 1 + videos(1 + 100 x (nodes 1 + clips(1 + 100 x (nodes 1 + posts(1 + 100 x nodes 1)))))
COST_100 = 1 + 1 + 100 * (1 + 1 + 100 * (1 + 1 + 100 * 1))


@pytest.fixture
async def owner(committed):  # noqa: ANN001, ANN201
    user = await builders.user(committed, email_verified=True)
    ws = await builders.workspace(committed, user)
    token = await builders.token(committed, user)
    await committed.commit()
    return user, ws, token


def _cost_refusals(body: dict) -> list[tuple[str, int]]:
    return [(e["extensions"]["code"], e["extensions"]["cost"]) for e in body["errors"]]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($n: Int) { " + NESTED.format(n="$n") + " }", {"n": 100.0}),
        ("query($n: Int = 100) { " + NESTED.format(n="$n") + " }", {}),
        ("query($n: Int! = 1) { " + NESTED.format(n="$n") + " }", {"n": 100.0}),
    ],
    ids=["float-variable", "variable-default", "float-over-default"],
)
async def test_cost_is_priced_on_coerced_variables(api: Api, owner, query: str, variables: dict) -> None:  # noqa: ANN001
    _, ws, token = owner
    # when a page size arrives as 100.0 or as a variable's default
    body, statements = await api.count(query, variables, token=token, workspace=ws)
    # then it is priced as the 100 the resolver gets, and refused before any SQL
    assert body["data"] is None
    assert _cost_refusals(body) == [("QUERY_TOO_COMPLEX", COST_100)]
    assert statements == 0


async def test_a_small_page_as_float_variable_is_priced_by_its_value(api: Api, owner) -> None:  # noqa: ANN001
    _, ws, token = owner
    body = await api.gql("query($n: Int) { " + NESTED.format(n="$n") + " }", {"n": 5.0}, token=token, workspace=ws)
    assert body == {"data": {"workspace": {"videos": {"nodes": []}}}, "_status": 200}


# --- finding 17: invalid text is refused at the edge -------------------------------------------

BAD_TEXT = "is not allowed"
SQL_WORDS = re.compile(r"INSERT|SELECT|UPDATE|\$argon2|asyncpg|sqlalchemy|parameters", re.IGNORECASE)


def _refusals(body: dict) -> list[tuple[str, str, str]]:
    return [(e["extensions"]["code"], e["extensions"]["field"], e["message"]) for e in body["errors"]]


def _bad_text(path: str, char: str = "U+0000") -> tuple[str, str, str]:
    return ("BAD_REQUEST", path, f"`{path}` contains a character that is not allowed ({char}): text may not hold NUL, "
            "control characters other than tab and line breaks, or unpaired surrogates.")


async def _count(committed, sql: str, **params) -> int:  # noqa: ANN001, ANN003
    await committed.rollback()
    return (await committed.execute(text(sql), params)).scalar_one()


async def test_nul_through_sign_up_is_refused_and_writes_nothing(api: Api, committed, cheap_password_hashing) -> None:  # noqa: ANN001
    email = f"nul-{uuid.uuid4().hex[:8]}@example.com"
    mutation = "mutation($i: SignUpInput!) { signUp(input: $i) { token errors { code } } }"
    # a NUL in the name, and a literal one in the document
    body = await api.gql(mutation, {"i": {"email": email, "password": "a long enough password", "name": "a\x00b"}})
    literal = await api.gql('mutation { signUp(input: {email: "%s", password: "a long enough password", name: "a\\u0000b"}) '
                            "{ token } }" % email)
    for response in (body, literal):
        assert response["data"] is None
        assert _refusals(response) == [_bad_text("input.name")]
        assert not SQL_WORDS.search(str(response))
    assert await _count(committed, "SELECT count(*) FROM users WHERE email = :e", e=email) == 0


async def test_nul_through_api_key_create_is_refused_and_writes_nothing(api: Api, committed, owner) -> None:  # noqa: ANN001
    user, ws, token = owner
    body = await api.gql("mutation($i: ApiKeyCreateInput!) { apiKeyCreate(input: $i) { secret errors { code } } }",
                         {"i": {"name": "ci\x00", "scopes": ["video:read"]}}, token=token, workspace=ws)
    assert body["data"] is None
    assert _refusals(body) == [_bad_text("input.name")]
    assert "cf_live_" not in str(body) and not SQL_WORDS.search(str(body))
    assert await _count(committed, "SELECT count(*) FROM api_keys WHERE user_id = :u", u=user.id) == 0


@pytest.mark.parametrize(
    ("inp", "expected"),
    [
        ('{name: "a\\u0000b"}', [_bad_text("input.name")]),
        ('{name: "ok", defaultHashtags: ["fine", "x\\u0000y"]}', [_bad_text("input.defaultHashtags[1]")]),
        ('{name: "bell\\u0007"}', [_bad_text("input.name", "U+0007")]),
    ],
    ids=["nul-literal", "nul-in-list", "control-character"],
)
async def test_bad_text_in_brand_kit_create_is_refused(api: Api, committed, owner, inp: str, expected: list) -> None:  # noqa: ANN001
    _, ws, token = owner
    body = await api.gql(f"mutation {{ brandKitCreate(input: {inp}) {{ brandKit {{ id }} errors {{ code }} }} }}",
                         token=token, workspace=ws)
    assert body["data"] is None
    assert _refusals(body) == expected
    assert not SQL_WORDS.search(str(body))
    assert await _count(committed, "SELECT count(*) FROM brand_kits WHERE workspace_id = :w", w=ws.id) == 0


async def test_bad_text_in_variables_nested_and_in_json_is_refused(api: Api, committed, owner) -> None:  # noqa: ANN001
    _, ws, token = owner
    # nested in a list of input objects, inside a JSON scalar (value and key), as an unpaired surrogate
    caption = await api.gql("mutation($i: BrandKitInput!) { brandKitCreate(input: $i) { errors { code } } }",
                            {"i": {"name": "kit", "defaultHashtags": ["#a", "#b\x00"]}}, token=token, workspace=ws)
    template = await api.gql(
        "mutation($i: TemplateCreateInput!) { templateCreate(input: $i) { errors { code } } }",
        {"i": {"name": "t", "type": "VIDEO", "templateData": {"layers": [{"text": "a\x00"}], "k\x01": 1}}},
        token=token, workspace=ws,
    )
    # (a document cannot hold one: graphql-core's lexer refuses it; JSON can, escaped)
    raw = json.dumps({"query": "mutation($n: String!) { brandKitCreate(input: {name: $n}) { errors { code } } }",
                      "variables": {"n": "\ud83d"}})
    response = await api.client.post("/graphql", content=raw, headers={"content-type": "application/json",
                                     "authorization": f"Bearer {token}", "x-workspace-id": str(ws.id)})
    surrogate = response.json()
    assert _refusals(caption) == [_bad_text("input.defaultHashtags[1]")]
    assert sorted(_refusals(template)) == sorted([_bad_text("input.templateData.layers[0].text"),
                                                  _bad_text("input.templateData (a key)", "U+0001")])
    assert _refusals(surrogate) == [_bad_text("input.name", "U+D83D")]
    for body in (caption, template, surrogate):
        assert body["data"] is None and not SQL_WORDS.search(str(body))
    assert await _count(committed, "SELECT count(*) FROM brand_kits WHERE workspace_id = :w", w=ws.id) == 0
    assert await _count(committed, "SELECT count(*) FROM templates WHERE workspace_id = :w", w=ws.id) == 0


async def test_bad_text_on_read_paths_is_refused(api: Api, owner) -> None:  # noqa: ANN001
    _, ws, token = owner
    templates = await api.gql('{ templates(type: VIDEO, after: "c\\u0000") { nodes { id } } }', token=token, workspace=ws)
    search = await api.gql("query($s: String) { workspace { videos(filter: {search: $s}) { nodes { id } } } }",
                           {"s": "talk\x00"}, token=token, workspace=ws)
    assert _refusals(templates) == [_bad_text("after")]
    assert _refusals(search) == [_bad_text("filter.search")]
    for body in (templates, search):
        assert body["data"] is None and not SQL_WORDS.search(str(body))


async def test_nul_in_tus_upload_metadata_is_refused(api: Api, committed, owner) -> None:  # noqa: ANN001
    import base64

    _, ws, token = owner
    name = base64.b64encode("talk\x00.mp4".encode()).decode()
    response = await api.client.post("/uploads", headers={
        "authorization": f"Bearer {token}", "x-workspace-id": str(ws.id), "Tus-Resumable": "1.0.0",
        "Upload-Length": "10", "Upload-Metadata": f"filename {name}"})
    assert (response.status_code, response.text) == (
        400, "Bad upload request: Upload-Metadata 'filename' contains a character that is not allowed (U+0000)")
    assert "Location" not in response.headers
    assert await _count(committed, "SELECT count(*) FROM videos WHERE workspace_id = :w", w=ws.id) == 0


async def test_tabs_and_line_breaks_are_ordinary_text(api: Api, owner) -> None:  # noqa: ANN001
    _, ws, token = owner
    body = await api.gql("query($s: String) { workspace { videos(filter: {search: $s}) { nodes { id } } } }",
                         {"s": "a\tb\r\nc é 🎬"}, token=token, workspace=ws)
    assert body == {"data": {"workspace": {"videos": {"nodes": []}}}, "_status": 200}


# --- finding 11: numbers in range, deep bodies --------------------------------------------------

async def test_a_start_time_out_of_range_is_refused_and_changes_nothing(api: Api, committed, owner) -> None:  # noqa: ANN001
    _, ws, token = owner
    video = await builders.video(committed, ws)
    clip = await builders.clip(committed, video)
    await committed.commit()
    mutation = "mutation($id: ID!, $t: Float) { clipUpdate(id: $id, input: {startTime: $t}) { clip { startTime } errors { code } } }"
    body = await api.gql(mutation, {"id": gid("Clip", clip.id), "t": 1e15}, token=token, workspace=ws)
    literal = await api.gql('mutation { clipUpdate(id: "%s", input: {endTime: -1}) { clip { id } } }' % gid("Clip", clip.id),
                            token=token, workspace=ws)
    assert body["data"] is None
    assert _refusals(body) == [("BAD_REQUEST", "input.startTime", "`input.startTime` must be between 0 and 604800 (got 1000000000000000).")]
    assert _refusals(literal) == [("BAD_REQUEST", "input.endTime", "`input.endTime` must be between 0 and 604800 (got -1).")]
    await committed.refresh(clip)
    assert (str(clip.start_time), str(clip.end_time)) == ("0.000", "8.000")


async def test_a_negative_caption_word_time_is_refused_and_changes_nothing(api: Api, committed, owner) -> None:  # noqa: ANN001
    _, ws, token = owner
    caption = await builders.caption(committed, await builders.clip(committed, await builders.video(committed, ws)))
    await committed.commit()
    mutation = "mutation($id: ID!, $w: [CaptionWordInput!]) { captionUpdate(id: $id, input: {words: $w}) { errors { code } } }"
    words = [{"word": "one", "start": 0.0, "end": 0.5}, {"word": "two", "start": -0.1, "end": 0.9}]
    body = await api.gql(mutation, {"id": gid("Caption", caption.id), "w": words}, token=token, workspace=ws)
    assert body["data"] is None
    assert _refusals(body) == [("BAD_REQUEST", "input.words[1].start", "`input.words[1].start` must be between 0 and 604800 (got -0.1).")]
    await committed.refresh(caption)
    assert caption.words == [{"word": "hello", "start": 0.0, "end": 0.4}, {"word": "world", "start": 0.4, "end": 0.9}]


def test_every_numeric_input_declares_its_range() -> None:
    from graphql import GraphQLInputObjectType, GraphQLObjectType, get_named_type

    from clipflow_api.graphql.inputcheck import declared_bounds
    from clipflow_api.graphql.schema import build_schema

    schema = build_schema(Settings(environment="test"))._schema
    missing = []
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLInputObjectType):
            for name, field in type_.fields.items():
                if get_named_type(field.type).name in ("Int", "Float") and declared_bounds(field) is None:
                    missing.append(f"{type_.name}.{name}")
        elif isinstance(type_, GraphQLObjectType):
            for field_name, field in type_.fields.items():
                for name, arg in field.args.items():
                    # first/last: bounded by the cost rule before execution and by PageArgs
                    if get_named_type(arg.type).name in ("Int", "Float") and name not in ("first", "last") \
                            and declared_bounds(arg) is None:
                        missing.append(f"{type_.name}.{field_name}({name})")
    assert missing == []


async def test_a_deeply_nested_json_body_is_a_400(api: Api) -> None:
    deep = b'{"query": "{ __typename }", "variables": {"x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}}"
    response = await api.client.post("/graphql", content=deep, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"data": None, "errors": [{
        "message": "The JSON body is nested deeper than 64 levels.", "extensions": {"code": "INVALID", "reason": "INVALID"}}]}
    # a body nested 60 levels is an ordinary request
    fine = b'{"query": "{ __typename }", "variables": {"x": ' + b"[" * 58 + b"]" * 58 + b"}}"
    ok = await api.client.post("/graphql", content=fine, headers={"content-type": "application/json"})
    assert (ok.status_code, ok.json()) == (200, {"data": {"__typename": "Query"}})


# --- finding 17: database errors never reach a client ------------------------------------------

LEAK = "hunter2-from-the-database"


def _failing_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the workspace loader run a statement PostgreSQL refuses (its error text holds SQL and the parameter)."""
    from clipflow_api.graphql.workspaces.loaders import WorkspaceByIdLoader

    async def batch_load(self, keys):  # noqa: ANN001, ANN202
        async with self.ctx.session() as session:
            await session.execute(text("SELECT CAST(:secret AS integer)"), {"secret": LEAK})
        return [None for _ in keys]

    monkeypatch.setattr(WorkspaceByIdLoader, "batch_load", batch_load)


@pytest.mark.parametrize("environment", ["development", "test", "production"])
async def test_a_database_error_shows_no_sql_in_any_environment(
    migrated_database, owner, monkeypatch, caplog, environment,  # noqa: ANN001
) -> None:
    _, ws, token = owner
    _failing_loader(monkeypatch)
    settings = _settings(environment=environment)
    caplog.set_level(logging.ERROR, logger="clipflow_api.graphql.errors")
    async with open_api(settings) as api:
        body = await api.gql("{ workspace { name } }", token=token, workspace=ws)
    assert LEAK not in str(body) and not SQL_WORDS.search(str(body))
    [error] = body["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL"
    assert re.fullmatch(r"[0-9a-f]{16}", error["extensions"]["reference"])
    # the server keeps what the client does not see, under the same reference
    logged = [r for r in caplog.records if error["extensions"]["reference"] in r.getMessage()]
    assert len(logged) == 1 and LEAK in str(logged[0].exc_info[1])


async def test_a_database_error_outside_graphql_shows_no_sql_in_development(migrated_database, monkeypatch, caplog) -> None:  # noqa: ANN001
    from clipflow_api.processing import uploads

    async def failing_principal(*, session_factory, **_):  # noqa: ANN001, ANN003, ANN202
        async with session_factory() as session:
            await session.execute(text("SELECT CAST(:secret AS integer)"), {"secret": LEAK})

    monkeypatch.setattr(uploads, "resolve_principal", failing_principal)
    caplog.set_level(logging.ERROR, logger="clipflow_api.app")
    async with open_api(_settings(environment="development")) as api:
        response = await api.client.post("/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "10"})
    assert response.status_code == 500
    assert LEAK not in response.text and not SQL_WORDS.search(response.text) and "Traceback" not in response.text
    [error] = response.json()["errors"]
    assert (error["message"], error["extensions"]["code"]) == ("Unexpected error.", "INTERNAL")
    logged = [r for r in caplog.records if error["extensions"]["reference"] in r.getMessage()]
    assert len(logged) == 1 and LEAK in str(logged[0].exc_info[1])


# --- finding 8: production refuses public secrets -----------------------------------------------

def test_production_refuses_each_public_secret_by_name() -> None:
    dev = Settings(environment="production", storage_backend="s3", _env_file=None,
                   aws_access_key_id="clipflow", aws_secret_access_key="clipflow-secret")
    with pytest.raises(UnsafeProductionSettings) as refused:
        check_production_settings(dev)
    message = str(refused.value)
    for name in ("SECRET_KEY", "TOKEN_ENCRYPTION_KEYS", "DB_APP_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert f"{name} holds a development or placeholder value" in message
    # placeholders from .env.example are refused too
    with pytest.raises(UnsafeProductionSettings, match="SECRET_KEY holds"):
        check_production_settings(dev.model_copy(update={"secret_key": "change-me-run-openssl-rand-hex-32"}))


def test_production_starts_with_its_own_secrets() -> None:
    from clipflow_api.app import create_app

    good = {
        "secret_key": "9f" * 32, "token_encryption_keys": "1:" + "Q" * 43 + "=", "db_app_password": "x7-app-password",
        "db_worker_password": "x7-worker-password", "storage_backend": "s3",
        "aws_access_key_id": "AKIAEXAMPLEPROD", "aws_secret_access_key": "s3-prod-secret-value",
    }
    settings = Settings(environment="production", _env_file=None, **good)
    check_production_settings(settings)  # no exception
    assert create_app(settings).routes  # builds
    # development and test run with the local defaults
    check_production_settings(Settings(environment="development", _env_file=None))
    with pytest.raises(UnsafeProductionSettings, match="DB_APP_PASSWORD holds"):
        create_app(settings.model_copy(update={"db_app_password": "clipflow_app"}))


def test_environment_defaults_to_production() -> None:
    saved = os.environ.pop("ENVIRONMENT")
    try:
        assert Settings(_env_file=None).environment == "production"
    finally:
        os.environ["ENVIRONMENT"] = saved


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker", "--burst"]])
def test_clipflow_refuses_to_start_production_with_development_secrets(tmp_path, command) -> None:  # noqa: ANN001
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "TOKEN_ENCRYPTION_KEYS", "DB_APP_PASSWORD")}
    env["ENVIRONMENT"] = "production"
    done = subprocess.run([sys.executable, "-m", "clipflow_api.cli", *command], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "Refusing to start with ENVIRONMENT=production: SECRET_KEY holds a development or placeholder value; " \
           "TOKEN_ENCRYPTION_KEYS holds a development or placeholder value; DB_APP_PASSWORD holds" in done.stderr


def test_docker_compose_takes_every_secret_from_env() -> None:
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[2]
    text_ = (root / "docker-compose.yml").read_text()
    compose = yaml.safe_load(text_)
    services = compose["services"]
    # no "${VAR:-default}" fallback anywhere: a missing secret stops compose
    assert ":-" not in text_
    required = set(re.findall(r"\$\{(\w+):\?", text_))
    assert required == {"POSTGRES_PASSWORD", "DB_APP_PASSWORD", "DB_WORKER_PASSWORD", "MINIO_ROOT_USER",
                        "MINIO_ROOT_PASSWORD", "SECRET_KEY", "TOKEN_ENCRYPTION_KEYS"}
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert env["ENVIRONMENT"] == "production"
        for key, var in (("SECRET_KEY", "SECRET_KEY"), ("TOKEN_ENCRYPTION_KEYS", "TOKEN_ENCRYPTION_KEYS"),
                         ("DB_APP_PASSWORD", "DB_APP_PASSWORD"), ("AWS_ACCESS_KEY_ID", "MINIO_ROOT_USER"),
                         ("AWS_SECRET_ACCESS_KEY", "MINIO_ROOT_PASSWORD")):
            assert env[key].startswith("${" + var + ":?"), key
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert services["minio"]["environment"]["MINIO_ROOT_PASSWORD"].startswith("${MINIO_ROOT_PASSWORD:?")
    # only the API is published: no object-store console, no database, no Redis
    assert {name for name, service in services.items() if service.get("ports")} == {"api"}
    assert "console" not in " ".join(services["minio"]["command"])
    # .env.example names every variable compose requires, with placeholders production refuses
    example = dict(line.split("=", 1) for line in (root / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    assert set(example) == required
    assert all("change-me" in value for value in example.values())
    assert ".env" in (root / ".gitignore").read_text().splitlines()
