"""Loaders for jobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from ...models import Job
from ..loaders import ByIdLoader, ConnectionByKeyLoader, ListQuery


@dataclass(frozen=True)
class JobFilterKey:
    status: tuple[str, ...] | None = None
    type: tuple[str, ...] | None = None

    @classmethod
    def of(cls, f: Any) -> JobFilterKey | None:
        if f is None:
            return None
        return cls(
            status=tuple(s.value for s in f.status) if f.status else None,
            type=tuple(f.type[:20]) if f.type else None,
        )

    def where(self) -> list[Any]:
        out: list[Any] = []
        if self.status:
            out.append(Job.status.in_(self.status))
        if self.type:
            out.append(Job.type.in_(self.type))
        return out


class JobByIdLoader(ByIdLoader):
    model = Job


class _JobList(ConnectionByKeyLoader):
    model = Job

    def base(self, query: ListQuery) -> Select:
        f: JobFilterKey | None = query.filter  # type: ignore[assignment]
        return super().base(query).where(*(f.where() if f else []))


class JobsByWorkspaceIdLoader(_JobList):
    key = Job.workspace_id


class JobsByVideoIdLoader(_JobList):
    key = Job.video_id
