"""schema.graphql is generated from the code; every field and argument is described."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from clipflow_api.graphql.permissions import USED_PERMISSIONS
from clipflow_api.graphql.schema import build_schema, export_sdl
from clipflow_api.db import Base
import clipflow_api.models  # noqa: F401  (registers every table)
from clipflow_api.permissions import PERMISSIONS

ROOT = Path(__file__).resolve().parents[2]


def test_schema_graphql_is_up_to_date() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == export_sdl(), "schema.graphql is stale: run `clipflow export-schema -o schema.graphql`"


def test_every_field_and_argument_has_a_description() -> None:
    schema = build_schema()._schema
    missing = []
    for name, t in schema.type_map.items():
        if name.startswith("__") or not isinstance(t, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            continue
        for fname, f in t.fields.items():
            if not f.description:
                missing.append(f"{name}.{fname}")
            for aname, a in getattr(f, "args", {}).items():
                if not a.description:
                    missing.append(f"{name}.{fname}({aname})")
    assert missing == []


def test_every_table_has_a_node_type() -> None:
    from clipflow_api.graphql.relay import NODE_TYPES

    tables = set(Base.metadata.tables)
    assert len(tables) == 38
    assert len(NODE_TYPES) == 38


def test_permission_names_exist() -> None:
    build_schema()
    assert USED_PERMISSIONS and USED_PERMISSIONS <= PERMISSIONS


def test_no_secret_is_exposed() -> None:
    sdl = export_sdl()
    import re

    for secret in ("passwordHash", "tokenHash", "keyHash", "accessToken", "refreshToken", "idToken", "stripeCustomerId"):
        assert not re.search(rf"^\s+{secret}\b[(:]", sdl, re.M), secret
    # a secret is shown once, in the payload of the mutation that creates it, nowhere else
    schema = build_schema()._schema
    holders = sorted(n for n, t in schema.type_map.items() if isinstance(t, GraphQLObjectType) and "secret" in t.fields)
    assert holders == ["ApiKeyCreatePayload", "WebhookSecretPayload"]
