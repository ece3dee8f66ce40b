"""Connects Django's authentication signals to the audit log: the auth framework
must not know about our audit model, so this is the one place they meet."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from portal.models import AuditAction
from portal.origins import RequestOrigin
from portal.services import audit_record


@receiver(user_logged_in)
def record_login(sender, request, user, **kwargs):
    audit_record(
        actor=user, action=AuditAction.LOGIN, target=user, origin=RequestOrigin.of(request)
    )


@receiver(user_logged_out)
def record_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(
            actor=user, action=AuditAction.LOGOUT, target=user, origin=RequestOrigin.of(request)
        )


@receiver(user_login_failed)
def record_login_failure(sender, credentials, request=None, **kwargs):
    # Never store the attempted password; the username helps spot brute force.
    audit_record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        origin=RequestOrigin.of(request),
        details={"username": str(credentials.get("username", ""))[:150]},
    )


@receiver(user_locked_out)
def record_lockout(sender, request, username, ip_address, **kwargs):
    """django-axes refused a login (page or token endpoint) for too many failures:
    sent when the limit is reached and again for each attempt while locked."""
    audit_record(
        actor=None,
        action=AuditAction.LOGIN_LOCKED_OUT,
        origin=RequestOrigin.of(request),
        details={"username": str(username or "")[:150], "path": getattr(request, "path", "")},
    )
