"""Relay plumbing: global ids, ``node``/``nodes`` lookups, and cursor connections.

Connections page in SQL, not in Python: one statement per connection level serves every
parent in a dataloader batch, so ``videos { clips(first: 10) }`` costs one statement for
all videos. Cursors are keyset cursors: the cursor row's sort-key values (the id always
last, so the order is total), signed with the secret key and bound to the connection and
its sort order, so a row inserted or deleted between two fetches never shifts a page and
a deep page costs no OFFSET. NULLs sort last in both directions; the cursor comparison
(``SortKey.past``) follows the same rule. ``first``/``last`` above ``MAX_PAGE_SIZE`` are
refused (by the cost rule before execution, and here for values passed as variables),
never silently clamped.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    false,
    func,
    literal,
    null,
    or_,
    select,
    tuple_,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from .errors import BadRequestError

if TYPE_CHECKING:
    from .context import Context

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

T = TypeVar("T")
Node = relay.Node
GlobalID = relay.GlobalID
PageInfo = relay.PageInfo


# --- sort keys and keyset cursors --------------------------------------------------------

@dataclass(frozen=True)
class SortKey:
    """One column of a connection's order; NULLs come last whichever the direction."""

    column: Any  # a mapped attribute of the connection's model
    descending: bool = False

    @property
    def nullable(self) -> bool:
        return bool(self.column.expression.nullable)

    def window(self, forward: bool) -> Any:
        """ORDER BY term: the order itself when paging forward, its mirror image backward."""
        up = forward != self.descending
        term = self.column.asc() if up else self.column.desc()
        if self.nullable:  # only where it matters: NOT NULL keys keep their index order
            term = term.nulls_last() if forward else term.nulls_first()
        return term

    def past(self, value: Any, forward: bool) -> ColumnElement[bool]:
        """Rows whose key lies strictly after (``forward``) or before ``value`` in this order."""
        up = forward != self.descending
        if value is None:  # NULLs are last: nothing follows them, every non-NULL precedes them
            return false() if forward else self.column.is_not(None)
        beyond = self.column > value if up else self.column < value
        return or_(beyond, self.column.is_(None)) if forward and self.nullable else beyond

    def same(self, value: Any) -> ColumnElement[bool]:
        return self.column.is_(None) if value is None else self.column == value


def ascending(column: Any) -> SortKey:
    """Smallest first (NULLs last)."""
    return SortKey(column)


def descending(column: Any) -> SortKey:
    """Largest first (NULLs last)."""
    return SortKey(column, descending=True)


def beyond_cursor(keys: Sequence[SortKey], values: Sequence[Any], forward: bool) -> ColumnElement[bool]:
    """Rows strictly after (``forward``) or before the cursor row, in the order of ``keys``."""
    if len({k.descending for k in keys}) == 1 and not any(k.nullable or v is None for k, v in zip(keys, values)):
        # one direction, no NULLs: a row-value comparison, which a (key, id) index serves
        row = tuple_(*(k.column for k in keys))
        cursor = tuple_(*(v if isinstance(v, BindParameter) else literal(v, k.column.type) for k, v in zip(keys, values)))
        return row > cursor if forward != keys[0].descending else row < cursor
    terms: list[ColumnElement[bool]] = []
    equal: list[ColumnElement[bool]] = []
    for key, value in zip(keys, values):
        terms.append(and_(*equal, key.past(value, forward)))
        equal.append(key.same(value))
    return or_(*terms)


def _dump(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    raise TypeError(f"cannot put a {type(value).__name__} in a cursor")


_LOADS: dict[str, Callable[[str], Any]] = {"t": datetime.fromisoformat, "d": date.fromisoformat, "n": Decimal, "u": uuid.UUID}


def _load(value: Any) -> Any:
    if isinstance(value, dict):
        [(kind, text)] = value.items()
        return _LOADS[kind](text)
    return value


@dataclass(frozen=True)
class Cursors:
    """Cursors of one connection and sort order (``scope``): the row's sort-key values, with
    an HMAC over scope and values, so an edited cursor or one from another list is refused."""

    keys: tuple[SortKey, ...]
    scope: str
    secret: bytes = field(repr=False)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self.secret, self.scope.encode() + b"\0" + payload, hashlib.sha256).digest()[:16]

    def encode(self, row: Any) -> str:
        values = [_dump(getattr(row, k.column.key)) for k in self.keys]
        payload = json.dumps(values, separators=(",", ":")).encode()
        mac = self._mac(payload)
        return base64.urlsafe_b64encode(payload).decode() + "." + base64.urlsafe_b64encode(mac).decode()

    def decode(self, cursor: str | None) -> tuple[Any, ...] | None:
        if cursor is None:
            return None
        try:
            payload_text, mac_text = cursor.split(".")
            payload = base64.urlsafe_b64decode(payload_text.encode())
            mac = base64.urlsafe_b64decode(mac_text.encode())
        except (ValueError, binascii.Error):
            raise BadRequestError("Invalid cursor: not a cursor this API issued.") from None
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise BadRequestError("Invalid cursor: it was altered, or belongs to another list or sort order.")
        values = tuple(_load(v) for v in json.loads(payload))
        if len(values) != len(self.keys):
            raise BadRequestError("Invalid cursor: it belongs to another list or sort order.")
        return values


# --- page arguments ----------------------------------------------------------------------

@dataclass(frozen=True)
class PageArgs:
    """Validated connection arguments; ``after``/``before`` are the cursor rows' sort-key values."""

    first: int | None = None
    after: tuple[Any, ...] | None = None
    last: int | None = None
    before: tuple[Any, ...] | None = None

    @classmethod
    def of(
        cls, *, first: int | None, after: str | None, last: int | None, before: str | None, cursors: Cursors
    ) -> PageArgs:
        for name, value in (("first", first), ("last", last)):
            if value is not None and value < 0:
                raise BadRequestError(f"`{name}` must not be negative.")
            if value is not None and value > MAX_PAGE_SIZE:
                raise BadRequestError(f"`{name}` must be at most {MAX_PAGE_SIZE} (got {value}).")
        if first is not None and last is not None:
            raise BadRequestError("Pass either `first` or `last`, not both.")
        if first is None and last is None:
            first = DEFAULT_PAGE_SIZE
        return cls(first=first, after=cursors.decode(after), last=last, before=cursors.decode(before))


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
    # A plain field (no resolver): read straight off the object, like the three above.
    nodes: list[T] = strawberry.field(description="The items of this page without cursors.")


@dataclass
class Page:
    """One parent's page: its rows in list order, the list's total, and whether rows lie beyond."""

    rows: list[Any] = field(default_factory=list)
    total: int = 0
    has_previous: bool = False
    has_next: bool = False


def empty_page() -> Page:
    return Page()


class PageConnection(Connection[Any]):
    """A ``Connection`` built lazily from a ``Page``: the nodes, the edges and their signed
    cursors, and the page info are made on first read, so a query that asks only for
    ``nodes`` (or only ``totalCount``) pays for no cursor, and one that asks for nothing
    converts no row. Not a GraphQL type of its own: it is served as the field's ``Connection[T]``."""

    def __init__(self, page: Page, convert: Callable[[Any], Any], cursors: Cursors) -> None:
        self._page = page
        self._convert = convert
        self._cursors = cursors

    @functools.cached_property
    def nodes(self) -> list[Any]:  # type: ignore[override]
        return [self._convert(row) for row in self._page.rows]

    @functools.cached_property
    def edges(self) -> list[Edge[Any]]:  # type: ignore[override]
        encode = self._cursors.encode
        return [Edge(cursor=encode(row), node=node) for row, node in zip(self._page.rows, self.nodes)]

    @functools.cached_property
    def page_info(self) -> PageInfo:  # type: ignore[override]
        rows, encode = self._page.rows, self._cursors.encode
        return PageInfo(
            has_next_page=self._page.has_next,
            has_previous_page=self._page.has_previous,
            start_cursor=encode(rows[0]) if rows else None,
            end_cursor=encode(rows[-1]) if rows else None,
        )

    @property
    def total_count(self) -> int:  # type: ignore[override]
        return self._page.total


def to_connection(page: Page, convert: Callable[[Any], Any], cursors: Cursors) -> Connection:
    return PageConnection(page, convert, cursors)


# --- the keyset statement ------------------------------------------------------------------
#
# A connection level is one statement: per parent, an aggregate (the list's total and the rows
# each cursor lets through) outer-joined to the rows ranked past the cursors. Building it costs
# far more than running it (subqueries over every column of the model), so each shape is
# built once per process and reused with bind parameters: the parents, the page size and the
# cursor values are named parameters, and the values bound in the loader's ``base`` (tenant,
# filters, the caller's own rows) are passed by the keys of the cached statement's parameters,
# matched position by position through SQLAlchemy's cache key, which lists a statement's bound
# parameters in a fixed order for a given structure. The shape's key is that cache key's
# structure (values left out) plus what this module adds (model, partition, order, direction,
# which cursor values are NULL), so two requests share a statement exactly when SQLAlchemy
# would share its compiled form. Read paths get plain rows (the model's columns under their
# attribute names), not ORM objects: no identity map, no instance state.


@functools.cache
def row_columns(model: Any) -> tuple[tuple[str, Any], ...]:
    """(attribute name, table column) of every column a plain-row read returns (deferred ones left out)."""
    out = []
    for attr in sa_inspect(model).column_attrs:
        if attr.deferred or len(attr.columns) != 1:
            continue
        out.append((attr.key, attr.columns[0]))
    return tuple(out)


@functools.cache
def row_select(model: Any) -> Select:
    """``SELECT`` of the model's columns, labelled by attribute name: rows read like the ORM object."""
    return select(*(col.label(key) if col.key != key else col for key, col in row_columns(model)))


async def read_rows(session: AsyncSession, stmt: Select, params: dict[str, Any] | None = None) -> Sequence[Any]:
    """The plain rows of a column ``SELECT`` (``row_select``, a keyset page), run on the session's
    connection: its transaction (the tenant set at BEGIN, as for ``session.execute``), without the
    ORM's result processing around rows that hold no entity (a quarter of a 200-row read: measured)."""
    connection = await session.connection()
    return (await connection.execute(stmt, params or {})).all()


@dataclass(frozen=True)
class _Keyset:
    stmt: Select
    base_keys: tuple[str, ...]  # keys of the template base's bound parameters, in cache-key order


_KEYSETS: dict[Any, _Keyset | None] = {}
# Shapes are bounded by the code (filters, orders, cursor NULL patterns); past this many, a
# new shape is built per request rather than cached, and a cached one is never evicted (an
# evicted statement's compiled form could outlive it under other parameter keys).
_MAX_KEYSETS = 2000


def _keyset_statement(
    base: Select, model: Any, partition: Any, keys: Sequence[SortKey], forward: bool,
    after: Sequence[bool] | None, before: Sequence[bool] | None,
) -> Select:
    """The page statement of ``base``; ``after``/``before``: which cursor values are NULL (None: no cursor)."""

    def cursor_values(prefix: str, nulls: Sequence[bool]) -> list[Any]:
        return [None if null_ else bindparam(f"{prefix}_{i}", type_=k.column.type) for i, (k, null_) in enumerate(zip(keys, nulls))]

    if partition is not None:  # None: a root list (global catalogues), one page keyed None
        base = base.where(partition.in_(bindparam("page_parents", expanding=True)))
    after_cond = beyond_cursor(keys, cursor_values("page_after", after), forward=True) if after is not None else None
    before_cond = beyond_cursor(keys, cursor_values("page_before", before), forward=False) if before is not None else None
    window = [c for c in (after_cond, before_cond) if c is not None]

    def passing(cond: ColumnElement[bool] | None) -> Any:
        return func.count().filter(cond) if cond is not None else func.count()

    counts = base.with_only_columns(
        (partition if partition is not None else null()).label("page_parent"),
        func.count().label("page_total"),
        passing(and_(*window) if window else None).label("page_window"),
        passing(after_cond).label("page_after"),  # rows past the `after` cursor
        passing(before_cond).label("page_before"),  # rows short of the `before` cursor
        maintain_column_froms=True,
    )
    if partition is not None:
        counts = counts.group_by(partition)
    counts_sq = counts.subquery()
    rank = func.row_number().over(partition_by=partition, order_by=[k.window(forward) for k in keys])
    ranked = base.where(*window).add_columns(rank.label("page_rank")).subquery()
    within = ranked.c.page_rank <= bindparam("page_limit", type_=Integer())
    on = and_(ranked.c[partition.property.columns[0].key] == counts_sq.c.page_parent, within) if partition is not None else within
    return (
        select(
            counts_sq.c.page_parent, counts_sq.c.page_total, counts_sq.c.page_window, counts_sq.c.page_after,
            counts_sq.c.page_before, ranked.c.page_rank,
            *(ranked.c[col.key].label(key) for key, col in row_columns(model)),
        )
        .select_from(counts_sq)
        .outerjoin(ranked, on)
        .order_by(ranked.c.page_rank)
    )


def _nulls(values: Sequence[Any] | None) -> tuple[bool, ...] | None:
    return None if values is None else tuple(v is None for v in values)


def _cached_keyset(
    session: AsyncSession, base: Select, model: Any, partition: Any, keys: Sequence[SortKey], forward: bool,
    after: tuple[bool, ...] | None, before: tuple[bool, ...] | None,
) -> tuple[Select, dict[str, Any]]:
    """The statement for ``base``'s shape and the values of ``base``'s own bound parameters."""
    cache_key = base._generate_cache_key()
    if cache_key is None:  # not cacheable (SQLAlchemy says so): built for this request, values inline
        return _keyset_statement(base, model, partition, keys, forward, after, before), {}
    shape = (cache_key.key, model, partition, tuple(keys), forward, after, before)
    found = _KEYSETS.get(shape)
    if found is None and shape not in _KEYSETS and len(_KEYSETS) < _MAX_KEYSETS:
        stmt = _keyset_statement(base, model, partition, keys, forward, after, before)
        template = tuple(b.key for b in cache_key.bindparams)
        # Every parameter of the compiled statement must be one this module names (page_*) or one
        # of the template's, under its own key (a clone made while compiling would rename it, and
        # its first value would then stick): checked once, else the shape is never cached.
        compiled = stmt.compile(dialect=session.get_bind().dialect)
        compiled_keys = {b.key for b in compiled.binds.values()}
        ours = {k for k in compiled_keys if k.startswith("page_")}
        found = _Keyset(stmt, template) if compiled_keys - ours == set(template) else None
        _KEYSETS[shape] = found
    if found is None:
        return _keyset_statement(base, model, partition, keys, forward, after, before), {}
    values = {key: bind.effective_value for key, bind in zip(found.base_keys, cache_key.bindparams)}
    return found.stmt, values


async def fetch_pages(
    session: AsyncSession,
    base: Select,
    model: Any,
    partition: Any,
    parent_ids: Sequence[Any],
    keys: Sequence[SortKey],
    args: PageArgs,
) -> dict[Any, Page]:
    """Page ``base`` (a ``select(model)`` with filters) per ``partition`` value, in one statement.

    Per parent, an aggregate counts the list and the rows each cursor lets through (so
    ``totalCount`` and both ``has*Page`` hold for an empty page and for ``first: 0``), and
    is outer-joined to the ranked rows past the cursors, the first ``first`` (or, ranked in
    the mirrored order, the last ``last``) of them. Rows are plain rows (``row_columns``)."""
    forward = args.last is None
    limit = args.first if forward else args.last
    stmt, params = _cached_keyset(session, base, model, partition, keys, forward, _nulls(args.after), _nulls(args.before))
    params["page_limit"] = limit
    if partition is not None:
        params["page_parents"] = list(parent_ids)
    for prefix, values in (("page_after", args.after), ("page_before", args.before)):
        for i, value in enumerate(values or ()):
            if value is not None:
                params[f"{prefix}_{i}"] = value
    pages: dict[Any, Page] = {}
    sizes: dict[Any, tuple[int, int, int, int]] = {}
    for row in await read_rows(session, stmt, params):
        # by position (a Row's attribute lookup is slow): page_parent, page_total, page_window,
        # page_after, page_before, page_rank lead every row (``_keyset_statement``)
        parent = row[0]
        page = pages.get(parent)
        if page is None:
            page = pages[parent] = Page(total=row[1])
            sizes[parent] = (row[1], row[2], row[3], row[4])
        if row[5] is not None:
            page.rows.append(row)
    for parent, page in pages.items():
        total, in_window, n_after, n_before = sizes[parent]
        head, tail = total - n_after, total - n_before  # rows at/before `after`, at/after `before`
        cut = in_window > len(page.rows)  # the window holds rows this page left out
        if forward:
            page.has_previous, page.has_next = head > 0, cut or tail > 0
        else:
            page.rows.reverse()
            page.has_previous, page.has_next = cut or head > 0, tail > 0
    return pages


# --- global ids and node lookup -----------------------------------------------------------

@dataclass(frozen=True)
class RowMatch:
    """A row condition that reads the same on a loaded row and in SQL: ``column`` equals the
    principal's ``principal_attr`` (with ``principal_attr`` None: ``column`` is NULL)."""

    column: str
    principal_attr: str | None = None

    def __call__(self, principal: Any, row: Any) -> bool:
        value = getattr(row, self.column)
        if self.principal_attr is None:
            return value is None
        mine = getattr(principal, self.principal_attr)
        return mine is not None and value == mine

    def where(self, principal: Any, model: Any) -> ColumnElement[bool]:
        column = getattr(model, self.column)
        if self.principal_attr is None:
            return column.is_(None)
        mine = getattr(principal, self.principal_attr)
        return column == mine if mine is not None else false()


@dataclass(frozen=True)
class NodeRule:
    """Who may read a node by id: the permission its lists require (``None``: only what the
    loader shows), waived for rows ``unless`` matches (your own, system rows)."""

    permission: str | None = None
    unless: RowMatch | None = None

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
    type_: Any  # a strawberry type with ``from_row``
    loader: type  # a ByIdLoader; returns the row (a plain row, read like the ORM object) or None (RLS and visibility applied)
    rule: NodeRule


NODE_TYPES: dict[str, NodeSpec] = {}


def type_name(type_: Any) -> str:
    """The GraphQL name of a strawberry type."""
    return str(type_.__strawberry_definition__.name)


def register_node(type_: type, loader: type, rule: NodeRule) -> None:
    name = type_name(type_)
    NODE_TYPES[name] = NodeSpec(type_, loader, rule)


def parse_global_id(value: str | GlobalID, *, expected: type | Iterable[type] | None = None) -> tuple[str, uuid.UUID]:
    """(type name, uuid) from a global id; ``expected`` guards against ids of another type."""
    try:
        gid = value if isinstance(value, GlobalID) else GlobalID.from_id(str(value))
        node_id = uuid.UUID(gid.node_id)
    except (ValueError, TypeError):
        raise BadRequestError(f"Invalid ID: {value}.") from None
    if expected is not None:
        names = {type_name(t) for t in ([expected] if isinstance(expected, type) else expected)}
        if gid.type_name not in names:
            raise BadRequestError(f"ID {value} is not of type {' or '.join(sorted(names))}.")
    return gid.type_name, node_id


def global_id(type_: type, node_id: Any) -> str:
    return str(GlobalID(type_name(type_), str(node_id)))


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
    name, node_id = parsed
    spec = NODE_TYPES.get(name)
    if spec is None or spec.rule.allows_type(ctx.principal) is False:
        return None  # refused by type: no SQL, and the same null as a missing id
    row = await ctx.loader(spec.loader).load(node_id)
    if row is None or not spec.rule.allows(ctx.principal, row):
        return None
    return spec.type_.from_row(row)
