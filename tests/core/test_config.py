"""Settings read standard URLs and derive the app role's URL from the owner's."""

from __future__ import annotations

import pytest

from clipflow_api.config import Settings


def test_standard_postgres_url_becomes_asyncpg() -> None:
    s = Settings(database_url="postgresql://owner:pw@db.internal:6543/clipflow")
    assert s.async_database_url == "postgresql+asyncpg://owner:pw@db.internal:6543/clipflow"
    assert s.app_database_url == "postgresql+asyncpg://clipflow_app:clipflow_app@db.internal:6543/clipflow"


def test_socket_urls_keep_their_host_parameter() -> None:
    s = Settings(database_url="postgresql://postgres@/clipflow?host=/tmp/pg", db_app_password="s3cret/+")
    assert s.app_database_url == "postgresql+asyncpg://clipflow_app:s3cret/%2B@/clipflow?host=/tmp/pg"


def test_other_databases_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="DATABASE_URL must be a postgresql:// URL, got mysql://"):
        _ = Settings(database_url="mysql://root@localhost/x").async_database_url
