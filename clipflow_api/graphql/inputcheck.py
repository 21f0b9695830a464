"""One check of every argument before execution: text a database can store, numbers in range.

PostgreSQL refuses NUL in text, and a refusal raised from inside a resolver carries the SQL
and its parameters (a password hash, a key hash) into the error. So every string that
reaches a resolver is checked here first, in one place: literals in the document and
variables, at any depth of input objects and lists, and every string (key or value) inside
a ``JSON`` scalar. Refused: NUL and the other C0 control characters except tab, newline and
carriage return, and unpaired surrogates (they cannot be encoded as UTF-8).

Numbers: an ``Int``/``Float`` input field or argument declares its range next to its type
with ``metadata=bounds(low, high)`` (a range that fits the column it lands in); a value
outside it is refused here, before any SQL runs. ``tests/security/test_edge.py`` holds
every numeric input of the schema to having one.

Both run as a validation rule over the *coerced* arguments (graphql-core's own variable
and argument coercion, defaults included), so the values checked are the values the
resolvers get. A refusal is a validation error with ``extensions.code = BAD_REQUEST`` and
``extensions.field`` naming the input (``input.words[2].word``); nothing executes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    OperationDefinitionNode,
    ValidationRule,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension

_BOUNDS_KEY = "clipflow.bounds"
# C0 controls but \t \n \r, and lone surrogates (Python keeps "\ud800" from JSON as one).
_INVALID_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_NUMBER_TYPES = frozenset({"Int", "Float"})
_TEXT_TYPES = frozenset({"String", "ID"})

SECONDS_PER_WEEK = 7 * 86400


def bounds(low: float, high: float) -> dict[str, tuple[float, float]]:
    """Field/argument metadata: the inclusive range an Int/Float input accepts."""
    return {_BOUNDS_KEY: (low, high)}


def declared_bounds(definition: Any) -> tuple[float, float] | None:
    """The range declared on a GraphQL input field or argument (via strawberry metadata)."""
    strawberry_def = (getattr(definition, "extensions", None) or {}).get("strawberry-definition")
    return (getattr(strawberry_def, "metadata", None) or {}).get(_BOUNDS_KEY)


def invalid_character(text: str) -> str | None:
    """The first character PostgreSQL text must not hold, as ``U+XXXX``; None when there is none."""
    match = _INVALID_TEXT.search(text)
    return f"U+{ord(match.group()):04X}" if match else None


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _problems(value: Any, type_: Any, path: str, limits: tuple[float, float] | None) -> Iterator[tuple[str, str]]:
    """(path, message) for each bad string or out-of-range number in a coerced argument value."""
    # explicit stack: a JSON scalar may be nested as deep as the request allows
    stack: list[tuple[Any, Any, str, tuple[float, float] | None]] = [(value, type_, path, limits)]
    while stack:
        value, type_, path, limits = stack.pop()
        if value is None:
            continue
        while isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(type_, GraphQLList):
            items = value if isinstance(value, (list, tuple)) else [value]
            stack.extend((item, type_.of_type, f"{path}[{i}]", limits) for i, item in reversed(list(enumerate(items))))
        elif isinstance(type_, GraphQLInputObjectType):
            if isinstance(value, Mapping):
                for name, field in reversed(list(type_.fields.items())):
                    key = field.out_name or name
                    if key in value:
                        stack.append((value[key], field.type, f"{path}.{name}", declared_bounds(field)))
        elif isinstance(type_, GraphQLScalarType) and type_.name in _NUMBER_TYPES:
            if limits is not None and isinstance(value, (int, float)) and not limits[0] <= value <= limits[1]:
                low, high = limits
                yield path, f"`{path}` must be between {_format_number(low)} and {_format_number(high)} (got {_format_number(value)})."
        else:  # String, ID, JSON and other scalars, enums: every string in the value
            stack.extend((item, None, item_path, None) for item, item_path in _json_children(value, path))
            if isinstance(value, str) and (bad := invalid_character(value)):
                yield path, (
                    f"`{path}` contains a character that is not allowed ({bad}): text may not hold NUL, "
                    "control characters other than tab and line breaks, or unpaired surrogates."
                )


def _json_children(value: Any, path: str) -> Iterator[tuple[Any, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield key, f"{path} (a key)"
            yield item, f"{path}.{key}" if isinstance(key, str) and not invalid_character(key) else path
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield item, f"{path}[{i}]"


def create_input_rule(variables: Mapping[str, Any] | None, operation_name: str | None) -> type[ValidationRule]:
    """A validation rule checking every coerced argument of the operation that will run."""

    class InputRule(ValidationRule):
        per_request = True  # reads this request's variables: never cached with the document (schema.CachedDocuments)
        coerced: VariableValues | None = None

        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            # before any field: fragments may come first and use the operation's variables
            operations = [d for d in node.definitions if isinstance(d, OperationDefinitionNode)]
            if operation_name is not None:
                operations = [d for d in operations if d.name and d.name.value == operation_name]
            if len(operations) != 1:
                return  # execution refuses a missing or ambiguous operation anyway
            result = get_variable_values(
                self.context.schema, operations[0].variable_definitions or (), dict(variables or {})
            )
            # variables that do not coerce are refused by execution with graphql-core's own error
            self.coerced = result if isinstance(result, VariableValues) else None

        def enter_field(self, node: FieldNode, *_: Any) -> None:
            field = self.context.get_field_def()
            if field is None or not node.arguments:
                return
            try:
                values = get_argument_values(field, node, self.coerced)
            except GraphQLError:
                return  # a missing or ill-typed argument: graphql-core reports it
            for name, arg in field.args.items():
                if name not in values:
                    continue
                for path, message in _problems(values[name], arg.type, name, declared_bounds(arg)):
                    self.report_error(
                        GraphQLError(message, node, extensions={"code": "BAD_REQUEST", "field": path})
                    )

    return InputRule


class InputCheck(SchemaExtension):
    """Adds the input rule, bound to this request's variables, to validation."""

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        rule = create_input_rule(ec.variables, ec.operation_name)
        ec.validation_rules = (*ec.validation_rules, rule)
        yield
