"""A workspace on the pro plan (brand kits), its owner, a stranger workspace and a local store,
acting as the app role with the workspace as tenant (RLS on)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from clipflow_api.auth.principal import Principal
from clipflow_api.config import get_settings
from clipflow_api.models import User, Workspace
from clipflow_api.storage import LocalStorage
from clipflow_api.storage import workspace_files as files
from tests.auth.helpers import principal
from tests.fixtures.builders import use_tenant
from tests.fixtures import builders


@dataclass
class World:
    db: AsyncSession
    ws: Workspace
    owner: User
    stranger: Workspace  # another tenant, on the free plan
    storage: LocalStorage

    def as_(self, role: str = "owner") -> Principal:
        return principal(self.owner.id, self.ws.id, role)

    def upload(self, name: str = "logo.png", body: bytes = b"\x89PNG....", workspace: Any = None) -> str:
        """A file stored under the workspace's upload prefix, as fileUploadCreate + PUT leave it."""
        key = files.new_upload_key((workspace or self.ws).id, name)
        path: Path = self.storage.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        return key


@pytest.fixture
async def world(connection: AsyncConnection, db: AsyncSession, tmp_path: Path) -> World:
    # rows every test needs are written as the owner, then the session becomes the app role
    # (as the app_db fixture does: on the outer transaction, so savepoint rollbacks keep it)
    owner = await builders.user(db)
    ws = await builders.workspace(db, owner)
    await builders.subscribe(db, ws, "pro")
    stranger = await builders.workspace(db)
    await connection.execute(text(f'SET LOCAL ROLE "{get_settings().db_app_role}"'))
    app_db = db
    await use_tenant(app_db, ws.id, owner.id)
    storage = LocalStorage(tmp_path / "files", secret="test-secret", base_url="http://files.test")
    return World(db=app_db, ws=ws, owner=owner, stranger=stranger, storage=storage)
