"""Dataloader bases. Every relation resolves through a per-request loader named
``<Entity>By<Key>Loader``; each batch opens its own short-lived session (``ctx.session()``),
so concurrent sibling resolvers never share one.

Loaders hand out plain rows (``relay.row_select``: the model's columns under their attribute
names, read like the ORM object), not ORM objects: reads need no identity map or instance
state, and a type's ``from_row`` reads the same names either way.

- ``ByIdLoader``: one row per id (None when missing, soft-deleted or not visible).
- ``ListByKeyLoader``: every row per foreign key (small, bounded child lists).
- ``ConnectionByKeyLoader``: one page per (parent id, filter, order, page args); keys that
  share filter/order/page go into a single statement (``relay.fetch_pages``), paged by
  keyset cursors over ``sort_keys`` (the ``order`` a loader declares, ending with the id).
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import ColumnElement, Select, select
from strawberry.dataloader import DataLoader

from .relay import (
    NODE_TYPES,
    Connection,
    Cursors,
    NodeRule,
    Page,
    PageArgs,
    RowMatch,
    SortKey,
    descending,
    empty_page,
    fetch_pages,
    read_rows,
    row_select,
    to_connection,
)

if TYPE_CHECKING:
    from .context import Context


class Loader(DataLoader):
    """A dataloader bound to the request's context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        super().__init__(load_fn=self.batch_load)
        # The class's ``load_fn`` below serves instead: a bound method kept on the instance is a
        # reference cycle (loader -> method -> loader) that leaves every page and row this loader
        # handed out to the cyclic garbage collector instead of freeing it as the request ends.
        del self.load_fn

    def load_fn(self, keys: list[Any]) -> Any:
        return self.batch_load(keys)

    async def batch_load(self, keys: list[Any]) -> Sequence[Any]:
        raise NotImplementedError


def _not_deleted(model: Any) -> list[ColumnElement[bool]]:
    deleted = getattr(model, "deleted_at", None)
    return [deleted.is_(None)] if deleted is not None else []


class ByIdLoader(Loader):
    model: ClassVar[Any]
    include_deleted: ClassVar[bool] = False

    def visible(self) -> list[ColumnElement[bool]]:
        """Extra visibility rules for tables without Row-Level Security."""
        return []

    async def batch_load(self, keys: list[uuid.UUID]) -> Sequence[Any]:
        where = [self.model.id.in_(keys), *self.visible()]
        if not self.include_deleted:
            where += _not_deleted(self.model)
        async with self.ctx.session() as session:
            rows = await read_rows(session, row_select(self.model).where(*where))
        by_id = {r.id: r for r in rows}
        return [by_id.get(k) for k in keys]


class ListByKeyLoader(Loader):
    model: ClassVar[Any]
    key: ClassVar[Any]  # the column the keys match
    order_by: ClassVar[tuple[Any, ...]] = ()

    def visible(self) -> list[ColumnElement[bool]]:
        return []

    async def batch_load(self, keys: list[Any]) -> Sequence[list[Any]]:
        key = type(self).key
        stmt = row_select(self.model).where(key.in_(keys), *_not_deleted(self.model), *self.visible())
        stmt = stmt.order_by(*(self.order_by or (self.model.id,)))
        async with self.ctx.session() as session:
            rows = await read_rows(session, stmt)
        grouped: dict[Any, list[Any]] = defaultdict(list)
        attr = key.key
        for r in rows:
            grouped[getattr(r, attr)].append(r)
        return [grouped.get(k, []) for k in keys]


@dataclass(frozen=True)
class ListQuery:
    """What a connection asks for, besides its parent: hashable, so it can key a loader."""

    page: PageArgs
    filter: Hashable = None
    sort: Hashable = None
    only: RowMatch | None = None  # the rows a row-dependent read rule lets through, applied in SQL


@functools.lru_cache(maxsize=8)
def _cursor_secret(secret_key: str) -> bytes:
    # a key of its own, derived from the secret key, so a cursor MAC can never stand for another signature
    return hashlib.sha256(b"clipflow connection cursor\0" + secret_key.encode()).digest()


_NO_PAGE = PageArgs()


class ConnectionByKeyLoader(Loader):
    """Keys are ``(parent_id, ListQuery)``; values are ``relay.Page``."""

    model: ClassVar[Any]
    key: ClassVar[Any]  # the parent column; None for root lists (the parent key is then None)

    def base(self, query: ListQuery) -> Select:
        """``select(model)`` with the query's filters (override to add them)."""
        return select(self.model).where(*_not_deleted(self.model), *self.visible())

    def visible(self) -> list[ColumnElement[bool]]:
        return []

    def order(self, query: ListQuery) -> Sequence[SortKey]:
        """The list's order (newest first unless overridden); ``sort_keys`` adds the id tie-break."""
        created = getattr(self.model, "created_at", None)
        return (descending(created),) if created is not None else ()

    def sort_keys(self, query: ListQuery) -> tuple[SortKey, ...]:
        """``order`` made total: ending with the id, so a cursor names exactly one position."""
        keys = tuple(self.order(query))
        if keys and keys[-1].column is self.model.id:
            return keys
        return (*keys, SortKey(self.model.id, keys[-1].descending if keys else False))

    def cursors(self, query: ListQuery) -> Cursors:
        """The cursors of this list in ``query``'s order, bound to both (made once per order and request)."""
        made: dict[Any, Cursors] = self.__dict__.setdefault("_cursors", {})
        memo = (query.filter, query.sort, query.only)  # what ``order`` may read: everything but the page
        found = made.get(memo)
        if found is None:
            keys = self.sort_keys(query)
            scope = type(self).__name__ + ":" + ",".join(f"{k.column.key} {'desc' if k.descending else 'asc'}" for k in keys)
            found = made[memo] = Cursors(keys, scope, _cursor_secret(self.ctx.settings.secret_key))
        return found

    async def batch_load(self, keys: list[tuple[Any, ListQuery]]) -> Sequence[Page]:
        groups: dict[ListQuery, list[Any]] = defaultdict(list)
        for parent, query in keys:
            groups[query].append(parent)
        results: dict[tuple[Any, ListQuery], Page] = {}
        async with self.ctx.session() as session:
            for query, parents in groups.items():
                base = self.base(query)
                if query.only is not None:
                    base = base.where(query.only.where(self.ctx.principal, self.model))
                pages = await fetch_pages(
                    session, base, self.model, type(self).key, parents, self.sort_keys(query), query.page
                )
                for parent in parents:
                    results[(parent, query)] = pages.get(parent) or empty_page()
        return [results[k] for k in keys]


# --- resolver helpers ----------------------------------------------------------------------

def _rule(type_: Any) -> NodeRule | None:
    """The read rule of a Node type (the one ``node(id:)`` applies), or None."""
    spec = NODE_TYPES.get(type_.__strawberry_definition__.name)
    return spec.rule if spec else None


# Edges apply the same per-type read rule as node(id:): a caller who may not list webhooks
# (or an API key scoped to video:read) does not reach them through Job.post.social_account...
# either. A type the caller may not read at all costs no SQL.


async def load_one(info: Any, loader: type[Loader], type_: Any, key: Any) -> Any:
    """The related object of ``type_`` (None when the key is None, the row is invisible, or
    the caller may not read that type)."""
    rule, principal = _rule(type_), info.context.principal
    if key is None or (rule is not None and rule.allows_type(principal) is False):
        return None
    row = await info.context.loader(loader).load(key)
    if row is None or (rule is not None and not rule.allows(principal, row)):
        return None
    return type_.from_row(row)


async def load_list(info: Any, loader: type[Loader], type_: Any, key: Any) -> list[Any]:
    rule, principal = _rule(type_), info.context.principal
    if rule is not None and rule.allows_type(principal) is False:
        return []
    rows = await info.context.loader(loader).load(key)
    return [type_.from_row(r) for r in rows if rule is None or rule.allows(principal, r)]


async def load_connection(
    info: Any,
    loader: type[ConnectionByKeyLoader],
    type_: Any,
    parent: Any,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    filter: Hashable = None,
    sort: Hashable = None,
) -> Connection:
    rule, principal = _rule(type_), info.context.principal
    decided = rule.allows_type(principal) if rule is not None else True
    # row-dependent (your own rows): the rule filters in SQL, so pages are full and counts true
    only = rule.unless if decided is None and rule is not None else None
    instance = info.context.loader(loader)
    cursors = instance.cursors(ListQuery(page=_NO_PAGE, filter=filter, sort=sort, only=only))
    page_args = PageArgs.of(first=first, after=after, last=last, before=before, cursors=cursors)
    query = ListQuery(page=page_args, filter=filter, sort=sort, only=only)
    if decided is False:
        return to_connection(empty_page(), type_.from_row, cursors)
    page = await instance.load((parent, query))
    return to_connection(page, type_.from_row, cursors)
