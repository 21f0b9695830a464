"""The post state machine: the one place that says which status may follow which.

Services (posts) and the worker (delivery) both move posts through ``require`` so a
transition the table does not list is refused the same way everywhere.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import Conflict, ErrorCode
from ..models.enums import PostStatus

S = PostStatus

TRANSITIONS: dict[PostStatus, frozenset[PostStatus]] = {
    # scheduled straight away when the workspace needs no approval, else sent for approval
    S.DRAFT: frozenset({S.PENDING_APPROVAL, S.SCHEDULED, S.CANCELLED}),
    S.PENDING_APPROVAL: frozenset({S.SCHEDULED, S.REJECTED, S.CANCELLED}),
    # an edit of a rejected post makes it a draft again (or asks for approval again)
    S.REJECTED: frozenset({S.DRAFT, S.PENDING_APPROVAL, S.CANCELLED}),
    # back to draft/pending_approval: an edit after approval when the workspace needs approval;
    # back to scheduled from publishing: a retryable error (429/5xx) before the creating call,
    # to be tried again at next_attempt_at
    S.SCHEDULED: frozenset({S.PUBLISHING, S.DRAFT, S.PENDING_APPROVAL, S.CANCELLED}),
    S.PUBLISHING: frozenset({S.PUBLISHED, S.FAILED, S.UNCONFIRMED, S.SCHEDULED}),
    # reconciliation: found on the platform -> published; proved absent -> publish again
    S.UNCONFIRMED: frozenset({S.PUBLISHED, S.SCHEDULED}),
    # postRetry once the cause is fixed (for approval again when it was edited since its approval)
    S.FAILED: frozenset({S.SCHEDULED, S.PENDING_APPROVAL, S.CANCELLED}),
    S.PUBLISHED: frozenset(),
    S.CANCELLED: frozenset(),
}

# the states a user may still edit (caption, options, accounts' media)
EDITABLE: frozenset[PostStatus] = frozenset({S.DRAFT, S.PENDING_APPROVAL, S.REJECTED, S.SCHEDULED, S.FAILED})

# what a status is called in an error sentence
_WORDS: dict[PostStatus, str] = {
    S.DRAFT: "a draft",
    S.PENDING_APPROVAL: "waiting for approval",
    S.REJECTED: "rejected",
    S.SCHEDULED: "scheduled",
    S.PUBLISHING: "being published",
    S.UNCONFIRMED: "being checked on the platform",
    S.PUBLISHED: "published",
    S.FAILED: "failed",
    S.CANCELLED: "cancelled",
}

# what moving to a status is called in an error sentence
_ACTIONS: dict[PostStatus, str] = {
    S.DRAFT: "go back to draft",
    S.PENDING_APPROVAL: "be sent for approval",
    S.REJECTED: "be rejected",
    S.SCHEDULED: "be scheduled",
    S.PUBLISHING: "start publishing",
    S.UNCONFIRMED: "be marked unconfirmed",
    S.PUBLISHED: "be marked published",
    S.FAILED: "be marked failed",
    S.CANCELLED: "be cancelled",
}


class HasStatus(Protocol):
    status: str


def can(current: str, to: str) -> bool:
    """Whether a post in ``current`` may move to ``to``."""
    return PostStatus(to) in TRANSITIONS[PostStatus(current)]


def describe(status: str) -> str:
    """The status in words: 'a draft', 'scheduled', 'being published'..."""
    return _WORDS[PostStatus(status)]


def require(post: HasStatus, to: str) -> None:
    """Refuse (Conflict) unless ``post`` may move to ``to``; the caller then sets the status."""
    if not can(post.status, to):
        raise Conflict(
            ErrorCode.CONFLICT,
            f"This post is {describe(post.status)}; it cannot {_ACTIONS[PostStatus(to)]}.",
            "status",
        )


def move(post: HasStatus, to: str) -> None:
    """``require`` then set ``post.status`` to ``to``."""
    require(post, to)
    post.status = PostStatus(to)
