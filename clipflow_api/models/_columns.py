"""Column helpers shared by every model, so defaults read the same everywhere."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))


def fk(target: str, *, ondelete: str | None = None, nullable: bool = False, index: bool = False) -> Any:
    return mapped_column(UUID(as_uuid=True), ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


def workspace_fk(*, nullable: bool = False) -> Any:
    """The tenant column. Row-Level Security policies key on it."""
    return mapped_column(UUID(as_uuid=True), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=nullable)


def created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def updated_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False)


def ts(nullable: bool = True, *, default_now: bool = False) -> Any:
    return mapped_column(DateTime(timezone=True), nullable=nullable, server_default=func.now() if default_now else None)


def flag(default: bool) -> Any:
    return mapped_column(Boolean, nullable=False, server_default=text("true" if default else "false"))


def count(default: int = 0) -> Any:
    return mapped_column(Integer, nullable=False, server_default=text(str(default)))


def jsonb(default: str | None = None, *, nullable: bool = True) -> Any:
    """A JSONB column; ``default`` is a JSON literal such as '{}' or '[]'."""
    return mapped_column(
        JSONB, nullable=nullable, server_default=text(f"'{default}'::jsonb") if default is not None else None
    )
