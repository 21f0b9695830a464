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


def _object(instance: Any, type_: Any, key: Any, row: Any, rule: NodeRule | None, principal: Any) -> Any:
    """The typed object of a loaded row, or None when invisible to the caller. Many parents share
    a related row (200 posts, 3 accounts): one object per row and type."""
    if row is None or (rule is not None and not rule.allows(principal, row)):
        return None
    made: dict[Any, Any] = instance.__dict__.setdefault("_objects", {})
    found = made.get((type_, key))
    if found is None:
        found = made[(type_, key)] = type_.from_row(row)
    return found


async def load_one(info: Any, loader: type[Loader], type_: Any, key: Any) -> Any:
    """The related object of ``type_`` (None when the key is None, the row is invisible, or
    the caller may not read that type)."""
    rule, principal = _rule(type_), info.context.principal
    if key is None or (rule is not None and rule.allows_type(principal) is False):
        return None
    instance = info.context.loader(loader)
    return _object(instance, type_, key, await instance.load(key), rule, principal)


# --- to-one relations of a connection's nodes, loaded with the page ------------------------
#
# graphql-core runs every async field as a task of its own: a page of 200 posts asking for
# each post's account is 200 tasks waiting on one batch. A node type lists the to-one fields
# a connection may load with its page (``ToOne``); when the query selects one under
# ``nodes`` or ``edges { node }``, the connection resolver loads it for the whole page with
# one ``load_many`` (batched across the level's parents, as before) and the field answers
# synchronously from the node (``related``).

_PREFETCHED = "_related"


@dataclass(frozen=True)
class ToOne:
    """A to-one field of a node type: the attribute holding the key, and the related node type's
    GraphQL name (loaded by its ``node(id:)`` loader; types import each other lazily)."""

    key: str
    type_name: str


def related(node: Any, info: Any, field: str, loader: type[Loader], type_: Any, key: Any) -> Any:
    """The object of a to-one field: the one loaded with the node's page, else a load (awaitable)."""
    found = node.__dict__.get(_PREFETCHED)
    if found is not None and field in found:
        return found[field]
    return load_one(info, loader, type_, key)


def _selected_node_fields(info: Any) -> set[str]:
    """The field names selected on a connection's nodes (``nodes`` and ``edges { node }``),
    through fragments too."""
    raw = info._raw_info
    # a level's parents share one field-node list: walk it once per request, not once per parent
    seen: dict[int, set[str]] = info.context.__dict__.setdefault("_selected_node_fields", {})
    key = id(raw.field_nodes)
    if key in seen:
        return seen[key]
    fragments = raw.fragments
    out: set[str] = set()
    seen[key] = out

    def walk(selection_set: Any, into: str | None) -> None:
        if selection_set is None:
            return
        for sel in selection_set.selections:
            kind = sel.kind
            if kind == "field":
                name = sel.name.value
                if into is None:
                    out.add(name)
                elif name == into:
                    walk(sel.selection_set, None if into in ("nodes", "node") else "node")
            elif kind == "inline_fragment":
                walk(sel.selection_set, into)
            elif kind == "fragment_spread":
                fragment = fragments.get(sel.name.value)
                if fragment is not None:
                    walk(fragment.selection_set, into)

    for field_node in raw.field_nodes:
        walk(field_node.selection_set, "nodes")
        walk(field_node.selection_set, "edges")
    return out


async def _prefetch_to_one(info: Any, type_: Any, nodes: Sequence[Any]) -> None:
    to_one: dict[str, ToOne] | None = getattr(type_, "_to_one", None)
    if not to_one or not nodes:
        return
    wanted = _selected_node_fields(info) & to_one.keys()
    for field in wanted:
        spec = to_one[field]
        node_spec = NODE_TYPES[spec.type_name]
        related_type = node_spec.type_
        rule, principal = _rule(related_type), info.context.principal
        keys = [getattr(n, spec.key) for n in nodes]
        if rule is not None and rule.allows_type(principal) is False:
            values: dict[Any, Any] = {}
        else:
            instance = info.context.loader(node_spec.loader)
            wanted_keys = list({k for k in keys if k is not None})
            rows = await instance.load_many(wanted_keys)
            values = {k: _object(instance, related_type, k, row, rule, principal) for k, row in zip(wanted_keys, rows, strict=True)}
        for node, key in zip(nodes, keys, strict=True):
            node.__dict__.setdefault(_PREFETCHED, {})[field] = values.get(key)


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
    connection = to_connection(page, type_.from_row, cursors)
    if getattr(type_, "_to_one", None):
        await _prefetch_to_one(info, type_, connection.nodes)
    return connection
