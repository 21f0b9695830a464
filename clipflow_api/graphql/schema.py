"""The schema: root Query/Mutation/Subscription and the protective extensions.

``build_schema(settings)`` picks the extensions from settings (limits, input checks,
error masking, introspection). ``schema`` is the development build, used to export
the SDL (extensions do not change it).
"""

from __future__ import annotations

import base64
import functools
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
    get_named_type,
    parse,
    validate,
)
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryOptional

from ..config import Settings, get_settings
from . import nodes
from .auth.mutations import AccountMutations
from .auth.queries import AccountQueries
from .billing.queries import BillingQueries
from .context import RequestSessionScope
from .errors import MaskInternalErrors
from .feature_flags.mutations import FeatureFlagMutations
from .feature_flags.queries import FeatureFlagQueries
from .inputcheck import InputCheck
from .limits import QueryCostLimiter
from .media.mutations import MediaMutations
from .projects.mutations import ProjectMutations
from .publishing.accounts import SocialAccountMutations
from .publishing.mutations import PostMutations
from .publishing.queries import PostQueries
from .publishing.subscriptions import PostSubscriptions
from .subscriptions import SharedEventExecution
from .subscriptions import Subscription as ProgressSubscriptions
from .templates.mutations import TemplateMutations
from .templates.queries import CatalogueQueries
from .webhooks.mutations import WebhookMutations
from .workspaces.mutations import WorkspaceMutations
from .workspaces.queries import WorkspaceQueries


@strawberry.type(description="Read the graph: start at `viewer`, `workspace` or `node`.")
class Query(nodes.NodeQueries, AccountQueries, WorkspaceQueries, CatalogueQueries, BillingQueries, FeatureFlagQueries, PostQueries):
    pass


@strawberry.type(description="Change the graph. Expected failures come back in each payload's `errors`.")
class Mutation(AccountMutations, WorkspaceMutations, MediaMutations, TemplateMutations, ProjectMutations, WebhookMutations, FeatureFlagMutations, SocialAccountMutations, PostMutations):
    pass


@strawberry.type(name="Subscription", description="Live updates.")
class Subscription(ProgressSubscriptions, PostSubscriptions):
    pass


def introspection_enabled(settings: Settings) -> bool:
    if settings.graphql_introspection is not None:
        return settings.graphql_introspection
    return not settings.is_production


# --- parse and validate once per document -------------------------------------------------

_DOCUMENTS_CACHED = 256  # distinct documents kept (parsed, and their validation outcome)


@functools.lru_cache(maxsize=_DOCUMENTS_CACHED)
def _parse(query: str, options: tuple[tuple[str, Any], ...]) -> DocumentNode:
    return parse(query, **dict(options))


_VALIDATED: OrderedDict[tuple[Any, ...], tuple[GraphQLError, ...]] = OrderedDict()


def _document_errors(schema: Any, query: str, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]) -> tuple[GraphQLError, ...]:
    """The per-document rules' errors, computed once per (schema, query, rules).

    The rule classes of the depth and alias limiters are made per request (an extension instance
    each): they are told apart by name, their limits being the schema's settings."""
    key = (schema, query, tuple(r.__qualname__ for r in rules))
    found = _VALIDATED.get(key)
    if found is None:
        found = _VALIDATED[key] = tuple(validate_document(schema._schema, document, rules))
        if len(_VALIDATED) > _DOCUMENTS_CACHED:
            _VALIDATED.popitem(last=False)
    else:
        _VALIDATED.move_to_end(key)
    return found


class CachedDocuments(SchemaExtension):
    """Parse a document once, and run the validation rules whose outcome depends only on the
    document (graphql-core's, depth, aliases, introspection) once per document; the rules that
    read the request's variables (``per_request = True``: the cost rule, the input check) run on
    every request. Unparsable documents are left to strawberry, which reports them as always.

    The per-document rules are keyed by the schema and the query text: the extensions that add
    them are the same for every request of a schema (limits come from its settings)."""

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.graphql_document is None and ec.query:
            try:
                ec.graphql_document = _parse(ec.query, tuple(sorted(ec.parse_options.items())))
            except GraphQLError:
                pass  # strawberry parses it again and answers with the syntax error
        yield

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        document = ec.graphql_document
        if ec.query and document is not None and ec.pre_execution_errors is None:
            rules = ec.validation_rules
            per_request = [r for r in rules if getattr(r, "per_request", False)]
            static = tuple(r for r in rules if not getattr(r, "per_request", False))
            errors = list(_document_errors(ec.schema, ec.query, document, static))
            if per_request:
                errors += validate(ec.schema._schema, document, per_request)
            ec.pre_execution_errors = errors
        yield


def _node_id_resolver(type_name: str, attr: str) -> Callable[..., str]:
    prefix = type_name + ":"

    def resolve(root: Any, info: Any) -> str:
        value = getattr(root, attr)
        if value is None:
            raise GraphQLError(f"{type_name} has no id.")
        return base64.b64encode((prefix + str(value)).encode()).decode()

    return resolve


def fast_node_ids(schema: strawberry.Schema) -> None:
    """Serve ``id`` of every Node type with a plain function: the same global id as strawberry's
    ``Node._id`` (base64 of ``Type:id``), without its per-field resolver wrapping (argument
    conversion, an ``Info`` object, a ``GlobalID`` and an ``isinstance`` on a protocol per
    object), which measured a tenth of a list query's CPU. Types that override ``resolve_id``
    or ``resolve_typename`` keep strawberry's resolver. Schema extensions still wrap the field
    (graphql-core applies them as middleware over whatever resolves it)."""
    default_id = relay.Node.resolve_id.__func__  # type: ignore[attr-defined]
    default_typename = relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]
    for gql_type in schema._schema.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType) or "id" not in gql_type.fields:
            continue
        definition = (gql_type.extensions or {}).get("strawberry-definition")
        origin = getattr(definition, "origin", None)
        if not (isinstance(origin, type) and issubclass(origin, relay.Node)):
            continue
        if origin.resolve_id.__func__ is not default_id or origin.resolve_typename.__func__ is not default_typename:  # type: ignore[attr-defined]
            continue
        gql_type.fields["id"].resolve = _node_id_resolver(gql_type.name, origin.resolve_id_attr())


_PLAIN_ARGUMENT_TYPES = (int, str, float, bool)  # passed to resolvers exactly as graphql-core coerced them


def _plain(type_: Any) -> bool:
    if type(type_) is StrawberryOptional:  # not Maybe: Some(...) wraps those
        type_ = type_.of_type
    return type_ in _PLAIN_ARGUMENT_TYPES


def _lean_resolver(field: Any, schema: strawberry.Schema) -> Callable[..., Any]:
    """What strawberry's resolver wrapper does for a field without field extensions (no
    permission classes) or exception handlers: convert the arguments, add ``self``/``root``/
    ``info``, call the resolver. Scalar arguments (Int, String, Float, Boolean) are passed as
    graphql-core coerced them, which is what strawberry's conversion returns for them; any
    other argument (inputs, enums, lists, IDs) goes through strawberry's own conversion."""
    config, registry = schema.config, schema.schema_converter.scalar_registry
    resolver = field.base_resolver
    call = resolver.__call__
    arguments = [
        (config.name_converter.from_argument(a), a.python_name, a.type, _plain(a.type)) for a in field.arguments
    ]
    pass_self = resolver.self_parameter is not None
    source_names = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None]
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    info_class = config.info_class

    def resolve(source: Any, info: Any, **raw: Any) -> Any:
        strawberry_info = info_class(_raw_info=info, _field=field)
        kwargs: dict[str, Any] = {}
        for name, python_name, type_, plain in arguments:
            if name in raw:
                value = raw[name]
                kwargs[python_name] = value if plain else convert_argument(
                    value, type_, registry, config, strawberry_info, path=(name,)
                )
        for name in source_names:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = strawberry_info
        return call(source, **kwargs) if pass_self else call(**kwargs)

    return resolve


def lean_resolvers(schema: strawberry.Schema) -> None:
    """Serve the query and object fields that have a resolver but no field extension with
    ``_lean_resolver``: strawberry's generic wrapper (argument name conversion on every call, a
    chain of partials, a coroutine around each coroutine) measured a sixth of a list query's CPU.
    Fields with permission classes or other field extensions keep strawberry's wrapper, so
    their checks run as before; schema extensions wrap every field either way (middleware)."""
    subscription = schema._schema.subscription_type
    for gql_type in schema._schema.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType) or gql_type is subscription or gql_type.name.startswith("__"):
            continue
        for gql_field in gql_type.fields.values():
            field = (gql_field.extensions or {}).get("strawberry-definition")
            if field is None or field.base_resolver is None or field.extensions or gql_field.resolve is None:
                continue
            if getattr(gql_field.resolve, "__name__", "") not in ("_resolver", "_async_resolver"):
                continue  # not strawberry's wrapper (fast_node_ids, or something custom): leave it
            gql_field.resolve = _lean_resolver(field, schema)


_LEAF = "clipflow.leaf"  # GraphQLField.extensions key: (attribute, leaf type) of a plain leaf field


def mark_plain_leaves(schema: strawberry.Schema) -> None:
    """Mark the fields ``PlainLeafExecution`` may serve directly: a scalar or enum read straight
    off the object (strawberry's basic field: no resolver, no field extension, no argument)."""
    if schema.config.default_resolver is not getattr:
        return
    for gql_type in schema._schema.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType) or gql_type.name.startswith("__"):
            continue
        for gql_field in gql_type.fields.values():
            field = (gql_field.extensions or {}).get("strawberry-definition")
            named = get_named_type(gql_field.type)
            if (
                field is None or not field.is_basic_field or gql_field.args
                or not getattr(gql_field.resolve, "_is_default", False)
                or not isinstance(named, (GraphQLScalarType, GraphQLEnumType))
            ):
                continue
            gql_field.extensions = {**gql_field.extensions, _LEAF: (field.python_name, named)}


class PlainLeafExecution(SharedEventExecution):
    """graphql-core's field execution, with a shortcut for plain leaf fields (``mark_plain_leaves``):
    read the attribute and serialize it, without building a resolve info, a field-node list and
    two rounds of value completion per field (a list query's objects are mostly such fields).
    Anything else takes the full path: a null (the non-null check and its error), a value that
    does not serialize (the located error), a field wrapped by a schema extension (middleware)."""

    def execute_field(self, parent_type: Any, source: Any, field_details_list: Any, path: Any, position_context: Any) -> Any:
        node = field_details_list[0].node
        field_def = parent_type.fields.get(node.name.value)
        leaf = field_def.extensions.get(_LEAF) if field_def is not None and field_def.extensions else None
        if leaf is not None and not node.arguments and (
            self.middleware_manager is None or self.middleware_manager.get_field_resolver(field_def.resolve) is field_def.resolve
        ):
            try:
                value = getattr(source, leaf[0])
                if value is not None and not self.is_awaitable(value):
                    coerced = leaf[1].coerce_output_value(value)  # as graphql-core's complete_leaf_value
                    if coerced is not None and coerced is not Undefined:
                        return coerced
            except Exception:  # noqa: BLE001, S110 - the full path below raises it where it belongs
                pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or get_settings()
    # Factories, not instances: an extension holds its request's execution context.
    s = settings
    extensions: list = [
        lambda: MaxTokensLimiter(max_token_count=s.graphql_max_tokens),
        lambda: QueryDepthLimiter(max_depth=s.graphql_max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=s.graphql_max_aliases),
        lambda: QueryCostLimiter(max_cost=s.graphql_max_cost, max_mutations=s.graphql_max_mutations),
        InputCheck,
        RequestSessionScope,
        CachedDocuments,
    ]
    if not introspection_enabled(settings):
        from graphql.validation import NoSchemaIntrospectionCustomRule

        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    # database errors are masked everywhere: their text carries SQL and bound parameters
    extensions.append(lambda: MaskInternalErrors(development=s.environment == "development"))
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=nodes.NODE_CLASSES,
        extensions=extensions,
        # a progress event reaching many subscribers executes once per distinct operation (graphql.subscriptions)
        execution_context_class=PlainLeafExecution,
        config=StrawberryConfig(
            disable_field_suggestions=True,
            batching_config={"max_operations": settings.graphql_max_batch},
        ),
    )
    fast_node_ids(schema)
    lean_resolvers(schema)
    mark_plain_leaves(schema)
    return schema


def export_sdl() -> str:
    return build_schema(Settings(environment="development")).as_str() + "\n"
