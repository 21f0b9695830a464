"""The schema: root Query/Mutation/Subscription and the protective extensions.

``build_schema(settings)`` picks the extensions from settings (limits, input checks,
error masking, introspection). ``schema`` is the development build, used to export
the SDL (extensions do not change it).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLObjectType
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig

from ..config import Settings, get_settings
from . import nodes
from .context import RequestSessionScope
from .auth.mutations import AccountMutations
from .auth.queries import AccountQueries
from .billing.queries import BillingQueries
from .errors import MaskInternalErrors
from .inputcheck import InputCheck
from .limits import QueryCostLimiter
from .media.mutations import MediaMutations
from .projects.mutations import ProjectMutations
from .subscriptions import SharedEventExecution, Subscription
from .feature_flags.mutations import FeatureFlagMutations
from .feature_flags.queries import FeatureFlagQueries
from .webhooks.mutations import WebhookMutations
from .templates.mutations import TemplateMutations
from .templates.queries import CatalogueQueries
from .workspaces.mutations import WorkspaceMutations
from .workspaces.queries import WorkspaceQueries


@strawberry.type(description="Read the graph: start at `viewer`, `workspace` or `node`.")
class Query(nodes.NodeQueries, AccountQueries, WorkspaceQueries, CatalogueQueries, BillingQueries, FeatureFlagQueries):
    pass


@strawberry.type(description="Change the graph. Expected failures come back in each payload's `errors`.")
class Mutation(AccountMutations, WorkspaceMutations, MediaMutations, TemplateMutations, ProjectMutations, WebhookMutations, FeatureFlagMutations):
    pass


def introspection_enabled(settings: Settings) -> bool:
    if settings.graphql_introspection is not None:
        return settings.graphql_introspection
    return not settings.is_production


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
        execution_context_class=SharedEventExecution,
        config=StrawberryConfig(
            disable_field_suggestions=True,
            batching_config={"max_operations": settings.graphql_max_batch},
        ),
    )
    fast_node_ids(schema)
    return schema


def export_sdl() -> str:
    return build_schema(Settings(environment="development")).as_str() + "\n"
