"""Relay plumbing: global ids, ``node``/``nodes`` lookups, and cursor connections.

Connections page in SQL, not in Python: one windowed query per connection level
(``row_number()``/``count()`` over the parent) serves every parent in a dataloader batch,
so ``videos { clips(first: 10) }`` costs one statement for all videos. Cursors are opaque
row positions within the filtered, sorted list. ``first``/``last`` above
``MAX_PAGE_SIZE`` are refused (by the cost rule before execution, and here for values
passed as variables), never silently clamped.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from strawberry import relay

from .errors import BadRequestError

if TYPE_CHECKING:
    from .context import Context

MAX_PAGE_SIZE = 100
_CURSOR_PREFIX = "cursor:"

T = TypeVar("T")
Node = relay.Node
GlobalID = relay.GlobalID
PageInfo = relay.PageInfo


# --- page arguments ----------------------------------------------------------------------

@dataclass(frozen=True)
class PageArgs:
    """Validated connection arguments; ``after``/``before`` are 1-based row positions."""

    first: int | None = None
    after: int | None = None
    last: int | None = None
    before: int | None = None

    @classmethod
    def of(cls, *, first: int | None, after: str | None, last: int | None, before: str | None) -> PageArgs:
        for name, value in (("first", first), ("last", last)):
            if value is not None and value < 0:
                raise BadRequestError(f"`{name}` must not be negative.")
            if value is not None and value > MAX_PAGE_SIZE:
                raise BadRequestError(f"`{name}` must be at most {MAX_PAGE_SIZE} (got {value}).")
        if first is not None and last is not None:
            raise BadRequestError("Pass either `first` or `last`, not both.")
        if first is None and last is None:
            first = DEFAULT_PAGE_SIZE
        return cls(first=first, after=decode_cursor(after), last=last, before=decode_cursor(before))


DEFAULT_PAGE_SIZE = 20


def encode_cursor(position: int) -> str:
    return base64.b64encode(f"{_CURSOR_PREFIX}{position}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        raw = base64.b64decode(cursor.encode(), validate=True).decode()
        if not raw.startswith(_CURSOR_PREFIX):
            raise ValueError
        value = int(raw[len(_CURSOR_PREFIX):])
        if value < 0:
            raise ValueError
        return value
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequestError("Invalid cursor.") from None


# Connection arguments, shared by every connection field.
FirstArg = Annotated[
    int | None, strawberry.argument(description=f"Return the first N items (at most {MAX_PAGE_SIZE}; default 20).")
]
AfterArg = Annotated[str | None, strawberry.argument(description="Return the items after this cursor.")]
LastArg = Annotated[int | None, strawberry.argument(description=f"Return the last N items (at most {MAX_PAGE_SIZE}).")]
BeforeArg = Annotated[str | None, strawberry.argument(description="Return the items before this cursor.")]


# --- connection types --------------------------------------------------------------------

@strawberry.type(description="An edge in a connection: one item and its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item, for `after`/`before`.")
    node: T = strawberry.field(description="The item at the end of the edge.")


@strawberry.type(description="A page of items with pagination data (Relay cursor connection).")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, with their cursors.")
    page_info: PageInfo = strawberry.field(description="Pagination data for this page.")
    total_count: int = strawberry.field(description="How many items match, across every page.")

    @strawberry.field(description="The items of this page without cursors.")
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


@dataclass
class Page:
    """One parent's slice of a windowed query: rows, their positions, and the total."""

    rows: list[Any]
    positions: list[int]
    total: int


def empty_page() -> Page:
    return Page([], [], 0)


def to_connection(page: Page, convert: Callable[[Any], Any], args: PageArgs) -> Connection:
    edges = [Edge(cursor=encode_cursor(pos), node=convert(row)) for row, pos in zip(page.rows, page.positions)]
    if page.positions:
        start, end = page.positions[0], page.positions[-1]
        has_prev, has_next = start > 1, end < page.total
    else:
        has_prev = bool(args.after)
        has_next = False
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=has_prev,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=page.total,
    )


async def fetch_pages(
    session: AsyncSession,
    base: Select,
    model: Any,
    partition: Any,
    parent_ids: Sequence[Any],
    order_by: Sequence[Any],
    args: PageArgs,
) -> dict[Any, Page]:
    """Page ``base`` (a ``select(model)`` with filters) per ``partition`` value, in one statement."""
    if partition is None:  # a root list (global catalogues): one partition, parent key None
        rn = func.row_number().over(order_by=list(order_by)).label("_rn")
        total = func.count().over().label("_total")
        inner = base.add_columns(rn, total).subquery()
    else:
        rn = func.row_number().over(partition_by=partition, order_by=list(order_by)).label("_rn")
        total = func.count().over(partition_by=partition).label("_total")
        inner = base.where(partition.in_(list(parent_ids))).add_columns(rn, total).subquery()
    entity = aliased(model, inner)
    conds = []
    if args.after is not None:
        conds.append(inner.c._rn > args.after)
    if args.before is not None:
        conds.append(inner.c._rn < args.before)
    if args.first is not None:
        conds.append(inner.c._rn <= (args.after or 0) + args.first)
    if args.last is not None:
        upper = (args.before - 1) if args.before is not None else inner.c._total
        conds.append(inner.c._rn > upper - args.last)
    parent_attr = partition.key if partition is not None else None
    stmt = select(entity, inner.c._rn, inner.c._total).where(*conds).order_by(inner.c._rn)
    pages: dict[Any, Page] = {}
    for row, position, count in (await session.execute(stmt)).all():
        parent = getattr(row, parent_attr) if parent_attr else None
        page = pages.setdefault(parent, Page([], [], count))
        page.rows.append(row)
        page.positions.append(position)
    return pages


# --- global ids and node lookup -----------------------------------------------------------

@dataclass(frozen=True)
class NodeRule:
    """Who may read a node by id: the permission its lists require (``None``: only what the
    loader shows), waived for rows ``unless(principal, row)`` accepts (your own, system rows)."""

    permission: str | None = None
    unless: Callable[[Any, Any], bool] | None = None

    def allows_type(self, principal: Any) -> bool | None:
        """True/False when the type alone decides; None when it depends on the row."""
        if self.permission is None or (principal.workspace_id is not None and self.permission in principal.permissions):
            return True
        return None if self.unless is not None else False

    def allows(self, principal: Any, row: Any) -> bool:
        decided = self.allows_type(principal)
        if decided is not None:
            return decided
        return bool(principal.is_authenticated and self.unless is not None and self.unless(principal, row))


@dataclass(frozen=True)
class NodeSpec:
    type_: type
    loader: type  # a ByIdLoader; returns the ORM row or None (RLS and visibility applied)
    rule: NodeRule


NODE_TYPES: dict[str, NodeSpec] = {}


def register_node(type_: type, loader: type, rule: NodeRule) -> None:
    name = type_.__strawberry_definition__.name
    NODE_TYPES[name] = NodeSpec(type_, loader, rule)


def parse_global_id(value: str | GlobalID, *, expected: type | Iterable[type] | None = None) -> tuple[str, uuid.UUID]:
    """(type name, uuid) from a global id; ``expected`` guards against ids of another type."""
    try:
        gid = value if isinstance(value, GlobalID) else GlobalID.from_id(str(value))
        node_id = uuid.UUID(gid.node_id)
    except (ValueError, TypeError):
        raise BadRequestError(f"Invalid ID: {value}.") from None
    if expected is not None:
        names = {t.__strawberry_definition__.name for t in ([expected] if isinstance(expected, type) else expected)}
        if gid.type_name not in names:
            raise BadRequestError(f"ID {value} is not of type {' or '.join(sorted(names))}.")
    return gid.type_name, node_id


def global_id(type_: type, node_id: Any) -> str:
    return str(GlobalID(type_.__strawberry_definition__.name, str(node_id)))


def try_parse_global_id(value: str) -> tuple[str, uuid.UUID] | None:
    try:
        return parse_global_id(value)
    except GraphQLError:
        return None


async def resolve_node(ctx: Context, value: str) -> Any:
    """The node of a global id, or None: malformed, unknown, invisible (RLS) or not permitted."""
    parsed = try_parse_global_id(value)
    if parsed is None:
        return None
    type_name, node_id = parsed
    spec = NODE_TYPES.get(type_name)
    if spec is None or spec.rule.allows_type(ctx.principal) is False:
        return None  # refused by type: no SQL, and the same null as a missing id
    row = await ctx.loader(spec.loader).load(node_id)
    if row is None or not spec.rule.allows(ctx.principal, row):
        return None
    return spec.type_.from_row(row)
