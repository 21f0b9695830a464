"""The post state machine: exactly the transitions of the design, and the refusal's words."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from clipflow_api.errors import Conflict
from clipflow_api.models.enums import PostStatus as S
from clipflow_api.publishing import states

ALLOWED = {
    (S.DRAFT, S.PENDING_APPROVAL), (S.DRAFT, S.SCHEDULED), (S.DRAFT, S.CANCELLED),
    (S.PENDING_APPROVAL, S.SCHEDULED), (S.PENDING_APPROVAL, S.REJECTED), (S.PENDING_APPROVAL, S.CANCELLED),
    (S.REJECTED, S.DRAFT), (S.REJECTED, S.PENDING_APPROVAL), (S.REJECTED, S.CANCELLED),
    (S.SCHEDULED, S.PUBLISHING), (S.SCHEDULED, S.DRAFT), (S.SCHEDULED, S.PENDING_APPROVAL), (S.SCHEDULED, S.CANCELLED),
    (S.PUBLISHING, S.PUBLISHED), (S.PUBLISHING, S.FAILED), (S.PUBLISHING, S.UNCONFIRMED), (S.PUBLISHING, S.SCHEDULED),
    (S.UNCONFIRMED, S.PUBLISHED), (S.UNCONFIRMED, S.SCHEDULED),
    (S.FAILED, S.SCHEDULED), (S.FAILED, S.PENDING_APPROVAL), (S.FAILED, S.CANCELLED),
}


@dataclass
class _Post:
    status: str


def test_the_table_is_exactly_the_designed_transitions() -> None:
    every = {(a, b) for a in S for b in S if states.can(a, b)}
    assert every == ALLOWED


def test_every_status_has_a_row_and_words() -> None:
    assert set(states.TRANSITIONS) == set(S)
    assert all(states.describe(s) for s in S)


@pytest.mark.parametrize("status", [S.PUBLISHED, S.CANCELLED])
def test_finished_posts_go_nowhere(status: S) -> None:
    assert not any(states.can(status, to) for to in S)


def test_nothing_moves_to_itself() -> None:
    assert not any(states.can(s, s) for s in S)


def test_can_takes_the_stored_strings() -> None:
    assert states.can("draft", "scheduled") is True
    assert states.can("published", "scheduled") is False


def test_move_sets_the_status() -> None:
    post = _Post("failed")
    states.move(post, S.SCHEDULED)
    assert post.status == "scheduled"


@pytest.mark.parametrize(
    ("current", "to", "message"),
    [
        (S.PUBLISHED, S.CANCELLED, "This post is published; it cannot be cancelled."),
        (S.PUBLISHING, S.CANCELLED, "This post is being published; it cannot be cancelled."),
        (S.DRAFT, S.PUBLISHED, "This post is a draft; it cannot be marked published."),
        (S.CANCELLED, S.SCHEDULED, "This post is cancelled; it cannot be scheduled."),
        (S.PENDING_APPROVAL, S.PUBLISHING, "This post is waiting for approval; it cannot start publishing."),
    ],
)
def test_refused_transitions_say_why_and_change_nothing(current: S, to: S, message: str) -> None:
    post = _Post(current.value)
    with pytest.raises(Conflict) as err:
        states.move(post, to)
    assert (err.value.code, err.value.message, err.value.field) == ("CONFLICT", message, "status")
    assert post.status == current.value
