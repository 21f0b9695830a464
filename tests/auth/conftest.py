from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clipflow_api.db import session_factory


@pytest.fixture
def factory(app_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions as the app role with real commits, as a request gets them."""
    return session_factory(app_engine)
