"""Settings: every knob is an environment variable with a default that works locally."""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import Field, IPvAnyNetwork
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


def _async_url(url: str) -> str:
    """Accept a standard ``postgresql://`` URL and give SQLAlchemy its asyncpg form."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got {url.split(':', 1)[0]}://")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: str = Field("development", description="development | test | production")

    # The owner URL: migrations run with it. The app connects as DB_APP_ROLE (no BYPASSRLS,
    # owns nothing) on the same server and database, so Row-Level Security applies.
    database_url: str = "postgresql://postgres@127.0.0.1:5432/clipflow"
    db_app_role: str = "clipflow_app"
    db_app_password: str = "clipflow_app"
    db_pool_size: int = 10

    redis_url: str = "redis://127.0.0.1:6379/0"

    storage_backend: str = Field("local", description="local | s3")
    storage_dir: Path = ROOT / ".clipflow" / "storage"
    s3_bucket: str = "clipflow"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None

    secret_key: str = "dev-secret-key-change-me-0123456789abcdef"
    # AES-256-GCM keys for social tokens, "version:base64key" comma-separated; newest first.
    token_encryption_keys: str = "1:ZGV2LWtleS1kZXYta2V5LWRldi1rZXktZGV2LWtleSE="

    public_base_url: str = "http://127.0.0.1:8000"
    # Networks URL imports may reach although they are not public (tests, private mirrors).
    import_allow_networks: list[IPvAnyNetwork] = Field(default_factory=list)

    # Accounts: token lifetimes.
    session_ttl_days: int = 30  # sliding: refreshed once less than half is left
    email_verification_ttl_hours: int = 48
    password_reset_ttl_minutes: int = 60
    invitation_ttl_days: int = 7

    # OAuth sign-in. A provider is offered once its client id and secret are set; the
    # endpoints are settings so tests (and staging) can point them at a local server.
    # Callback: {public_base_url}/auth/oauth/{provider}/callback.
    oauth_google_client_id: str | None = None
    oauth_google_client_secret: str | None = None
    oauth_google_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    oauth_google_token_url: str = "https://oauth2.googleapis.com/token"
    oauth_google_userinfo_url: str = "https://openidconnect.googleapis.com/v1/userinfo"
    oauth_github_client_id: str | None = None
    oauth_github_client_secret: str | None = None
    oauth_github_authorize_url: str = "https://github.com/login/oauth/authorize"
    oauth_github_token_url: str = "https://github.com/login/oauth/access_token"
    oauth_github_user_url: str = "https://api.github.com/user"
    oauth_github_emails_url: str = "https://api.github.com/user/emails"
    # Where the browser lands after the callback, with "#token=..." (or "#error=CODE");
    # unset, the callback answers JSON instead.
    oauth_success_url: str | None = None

    # Emails of platform staff (feature flags); they must be verified and sign in with a session.
    platform_admins: list[str] = Field(default_factory=list)

    # The job sweeper: a pending job arq never got, and a processing job with no progress
    # (its worker died), are handed to arq again after these many seconds.
    job_stale_pending_s: int = 60
    job_stale_processing_s: int = 20 * 60

    asr_engine: str = "faster-whisper"
    asr_model: str = "tiny.en"
    asr_device: str = "auto"

    llm_provider: str | None = Field(None, description="openai | anthropic; unset = local scorer only")
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_model: str | None = None

    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None

    # GraphQL protection (see clipflow_api/graphql/schema.py). Introspection defaults to on
    # outside production; GraphiQL is served in development only.
    graphql_introspection: bool | None = Field(None, description="None: on unless production")
    graphql_max_depth: int = 15
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 5000
    graphql_max_cost: int = 50000
    graphql_max_mutations: int = 5
    graphql_max_batch: int = 5

    @property
    def async_database_url(self) -> str:
        return _async_url(self.database_url)

    @property
    def app_database_url(self) -> str:
        """The owner URL with the app role's credentials swapped in."""
        parts = urlsplit(_async_url(self.database_url))
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        netloc = f"{quote(self.db_app_role)}:{quote(self.db_app_password)}@{host}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
