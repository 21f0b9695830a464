"""Inputs of the account mutations."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ..inputcheck import bounds


@strawberry.input(description="A new account.")
class SignUpInput:
    email: str = strawberry.field(description="Email address (sign-in name).")
    password: str = strawberry.field(description="Password (at least 10 characters).")
    name: str = strawberry.field(description="Display name.")


@strawberry.input(description="Credentials to sign in with.")
class LogInInput:
    email: str = strawberry.field(description="Email address.")
    password: str = strawberry.field(description="Password.")


@strawberry.input(description="A new API key.")
class ApiKeyCreateInput:
    name: str = strawberry.field(description="A label to recognise the key.")
    scopes: list[str] = strawberry.field(description="Permissions the key may use, e.g. clip:read (at most 50).")
    expires_at: datetime | None = strawberry.field(default=None, description="When the key stops working (null: never).")
    rate_limit: int | None = strawberry.field(default=None, description="Requests per day (default 1000).", metadata=bounds(1, 1_000_000))
    personal: bool = strawberry.field(
        default=False, description="A personal key acting in any of your workspaces, instead of one for the current workspace."
    )
