"""The audit trail: ``audit.record(session, principal, action, ...)`` from any service or job."""

from .service import record, valid_ip

__all__ = ["record", "valid_ip"]
