"""Query cost limit, written as a GraphQL validation rule (Saleor-style).

Every object field costs 1 (scalars are free) unless ``COST_MAP`` says otherwise; a
connection's subtree is multiplied by its ``first``/``last`` (``DEFAULT_PAGE_SIZE`` when
absent) and a plain list's by ``LIST_MULTIPLIERS`` (or ``len(ids)`` for ``nodes``). The
same walk refuses ``first``/``last`` above ``MAX_PAGE_SIZE`` and more than
``max_mutations`` mutation fields per operation. Arguments are priced as graphql-core
coerces them for the resolvers (variables coerced, operation and argument defaults
applied), so ``first: $n`` is priced by the value the resolver gets (``100.0`` and
``$n: Int = 100`` are 100); variables that do not coerce price as absent and are refused
by execution. All of it happens before execution: a refused query runs no resolver and
no SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension

from .relay import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# (parent type, field) -> cost of the field itself; default 1 for object fields, 0 for scalars.
COST_MAP: dict[tuple[str, str], int] = {
    ("Query", "node"): 1,
    ("Query", "nodes"): 1,
    ("Video", "transcript"): 5,  # large JSON
}
# Plain (non-connection) lists and how many items to assume.
LIST_MULTIPLIERS: dict[tuple[str, str], int] = {
    ("Clip", "captions"): 3,
    ("Caption", "words"): 1,  # scalars below: free anyway
}
DEFAULT_LIST_MULTIPLIER = 10
_MAX_WALK_DEPTH = 40


def _is_list(t: Any) -> bool:
    while isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLList)


def _is_connection(named: Any) -> bool:
    return isinstance(named, GraphQLObjectType) and "edges" in named.fields and "pageInfo" in named.fields


class _Walker:
    def __init__(self, ctx: ValidationContext, variables: VariableValues | None) -> None:
        self.ctx = ctx
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in ctx.document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.errors: list[str] = []

    def args(self, field: Any, node: FieldNode) -> dict[str, Any]:
        """The field's arguments as the resolver will get them: variables coerced, defaults applied."""
        try:
            return get_argument_values(field, node, self.variables)
        except GraphQLError:
            return {}  # a missing or ill-typed argument: validation or execution refuses it

    def fields(self, selection_set: SelectionSetNode, parent: Any, seen: frozenset[str]) -> Iterator[tuple[FieldNode, Any]]:
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                yield sel, parent
            elif isinstance(sel, InlineFragmentNode):
                cond = self.ctx.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                yield from self.fields(sel.selection_set, cond or parent, seen)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                frag = self.fragments.get(name)
                if frag is None or name in seen:
                    continue
                cond = self.ctx.schema.get_type(frag.type_condition.name.value) or parent
                yield from self.fields(frag.selection_set, cond, seen | {name})

    def cost(self, selection_set: SelectionSetNode | None, parent: Any, depth: int = 0) -> int:
        if selection_set is None or depth > _MAX_WALK_DEPTH:
            return 0
        total = 0
        for node, owner in self.fields(selection_set, parent, frozenset()):
            name = node.name.value
            if name.startswith("__") or not isinstance(owner, (GraphQLObjectType, GraphQLInterfaceType)):
                continue
            field = owner.fields.get(name)
            if field is None:
                continue
            named = get_named_type(field.type)
            leaf = not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType))
            base = COST_MAP.get((owner.name, name), 0 if leaf else 1)
            args = self.args(field, node)
            first, last = args.get("first"), args.get("last")
            for label, value in (("first", first), ("last", last)):
                if isinstance(value, int) and value > MAX_PAGE_SIZE:
                    self.errors.append(
                        f"`{label}` on {owner.name}.{name} must be at most {MAX_PAGE_SIZE} (got {value})."
                    )
            if _is_connection(named):
                multiplier = next((v for v in (first, last) if isinstance(v, int)), DEFAULT_PAGE_SIZE)
                multiplier = max(0, min(multiplier, MAX_PAGE_SIZE))
            elif name == "nodes" and owner.name == "Query":
                ids = args.get("ids")
                multiplier = len(ids) if isinstance(ids, list) else DEFAULT_LIST_MULTIPLIER
            elif _is_connection(owner) and name in ("edges", "nodes"):
                multiplier = 1  # the connection field already multiplied by its page size
            elif _is_list(field.type) and not leaf:
                multiplier = LIST_MULTIPLIERS.get((owner.name, name), DEFAULT_LIST_MULTIPLIER)
            else:
                multiplier = 1
            total += base + multiplier * self.cost(node.selection_set, named, depth + 1)
        return total


def create_cost_rule(max_cost: int, max_mutations: int, variables: Mapping[str, Any] | None) -> type[ValidationRule]:
    class QueryCostRule(ValidationRule):
        per_request = True  # reads this request's variables: never cached with the document (schema.CachedDocuments)

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            schema = self.context.schema
            root = {
                OperationType.QUERY: schema.query_type,
                OperationType.MUTATION: schema.mutation_type,
                OperationType.SUBSCRIPTION: schema.subscription_type,
            }[node.operation]
            # price what the resolvers will get: `$n = 100.0` and `$n: Int = 100` are 100
            coerced = get_variable_values(schema, node.variable_definitions or (), dict(variables or {}))
            walker = _Walker(self.context, coerced if isinstance(coerced, VariableValues) else None)
            if node.operation == OperationType.MUTATION:
                count = sum(1 for _ in walker.fields(node.selection_set, root, frozenset()))
                if count > max_mutations:
                    self.report_error(
                        GraphQLError(
                            f"At most {max_mutations} mutations per request (got {count}).",
                            node,
                            extensions={"code": "QUERY_TOO_COMPLEX"},
                        )
                    )
            cost = walker.cost(node.selection_set, root)
            for message in dict.fromkeys(walker.errors):
                self.report_error(GraphQLError(message, node, extensions={"code": "BAD_REQUEST"}))
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"The query costs {cost}, more than the limit of {max_cost}. Ask for fewer items or fields.",
                        node,
                        extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "maxCost": max_cost},
                    )
                )

    return QueryCostRule


class QueryCostLimiter(SchemaExtension):
    """Adds the cost rule, bound to this request's variables, to validation."""

    def __init__(self, *, max_cost: int, max_mutations: int = 5) -> None:
        self.max_cost = max_cost
        self.max_mutations = max_mutations

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        rule = create_cost_rule(self.max_cost, self.max_mutations, ec.variables)
        ec.validation_rules = (*ec.validation_rules, rule)
        yield
