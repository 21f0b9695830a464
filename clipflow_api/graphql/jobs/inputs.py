"""Filters for jobs."""

from __future__ import annotations

import strawberry

from ..enums import JobStatus


@strawberry.input(description="Narrow a list of jobs.")
class JobFilterInput:
    status: list[JobStatus] | None = strawberry.field(default=None, description="Only jobs in one of these states.")
    type: list[str] | None = strawberry.field(default=None, description="Only jobs of these types, e.g. video_process.")
