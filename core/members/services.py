"""Joining a network, verifying an address, approvals and roles."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit.services import audit_record
from hexitime.db import connection
from hexitime.errors import ApplicationError, PermissionDenied
from ledger.services import gift_grant

from .models import JoinPolicy, Member

VERIFY_SALT = "hexitime.members.verify-email"
VERIFY_MAX_AGE = 7 * 24 * 3600
# What each role may do beyond a member, as Django permissions (checked with has_perm).
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Member.Role.MEMBER: (),
    Member.Role.QI_LEAD: (),
    Member.Role.ORGANISER: ("view_network_totals", "change_theme", "moderate_listing"),
}


class JoinRefused(ApplicationError):
    pass


def join_policy() -> JoinPolicy:
    return JoinPolicy.objects.first() or JoinPolicy()


def join_policy_set(*, actor: Member, policy: str, allowed_domains: list[str]) -> JoinPolicy:
    """An organiser sets how people join (audited)."""
    _require_organiser(actor)
    if policy not in JoinPolicy.Policy.values:
        raise JoinRefused("Choose open, email domain or organiser approval.", field="policy")
    domains = sorted({d.strip().lower().lstrip("@") for d in allowed_domains if d.strip()})
    if policy == JoinPolicy.Policy.DOMAIN and not domains:
        raise JoinRefused(
            "List at least one email domain, such as nhs.net.", field="allowed_domains"
        )
    with transaction.atomic():
        current = JoinPolicy.objects.select_for_update().first() or JoinPolicy()
        before = {"policy": current.policy, "allowed_domains": current.allowed_domains}
        current.policy, current.allowed_domains = policy, domains
        current.save()
        audit_record(actor=actor, verb="join_policy.change", target=current, before=before,
                     after={"policy": policy, "allowed_domains": domains})  # fmt: skip
    return current


def member_join(
    *, email: str, full_name: str, password: str, profession: str = "", organisation: str = ""
) -> Member:
    """Sign up under the network's join policy. The member can browse at once; they can
    transact once their address is verified (and, under approval, an organiser agrees).
    The verification email is sent by Celery after the commit."""
    email = email.strip().lower()
    full_name = full_name.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise JoinRefused("Enter an email address like name@nhs.net.", field="email") from None
    if not full_name or len(full_name) > 150:
        raise JoinRefused("Enter your name (up to 150 characters).", field="full_name")
    policy = join_policy()
    domain = email.rsplit("@", 1)[1]
    if policy.policy == JoinPolicy.Policy.DOMAIN and not any(
        domain == allowed or domain.endswith("." + allowed) for allowed in policy.allowed_domains
    ):
        allowed = " or ".join(f"@{d}" for d in policy.allowed_domains)
        raise JoinRefused(f"This network is for addresses ending {allowed}.", field="email")
    candidate = Member(email=email, full_name=full_name)
    try:
        validate_password(password, candidate)
    except ValidationError as invalid:
        raise JoinRefused(" ".join(invalid.messages), field="password") from None
    approval = (
        Member.Approval.PENDING
        if policy.policy == JoinPolicy.Policy.APPROVAL
        else Member.Approval.APPROVED
    )
    try:
        with transaction.atomic():
            member = Member.objects.create_user(
                email, password, full_name=full_name, profession=profession,
                organisation=organisation[:150], approval=approval,
            )  # fmt: skip
    except IntegrityError:
        raise JoinRefused(
            "An account with this email address already exists. Sign in, or reset your password.",
            field="email",
        ) from None
    schema_name = connection.schema_name
    transaction.on_commit(lambda: _queue_verification(schema_name, member.pk))
    return member


def _queue_verification(schema_name: str, member_id: int) -> None:
    from .tasks import member_verification_email

    member_verification_email.delay(schema_name=schema_name, member_id=member_id)


def verification_token(member: Member) -> str:
    """A signed, expiring token naming the member, their address and their network."""
    return signing.dumps(
        {"m": member.pk, "e": member.email, "s": connection.schema_name}, salt=VERIFY_SALT
    )


def member_verify_email(*, token: str) -> Member:
    """Verify the address a token was sent to. Idempotent; a token from another network, an
    edited token or an expired one is refused."""
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    except signing.SignatureExpired:
        raise JoinRefused("This link has expired. Sign in to send a new one.") from None
    except signing.BadSignature:
        raise JoinRefused("This link is not valid. Check you copied all of it.") from None
    if data.get("s") != connection.schema_name:
        raise JoinRefused("This link is for a different network.")
    member = Member.objects.filter(pk=data.get("m"), email=data.get("e")).first()
    if member is None:
        raise JoinRefused("This link is not valid. Check you copied all of it.")
    with transaction.atomic():
        if member.email_verified_at is None:
            member.email_verified_at = timezone.now()
            member.save(update_fields=["email_verified_at"])
        _gift_when_ready(member)
    return member


def _gift_when_ready(member: Member) -> None:
    if member.can_transact:
        gift_grant(member=member)  # idempotent: once per member, ever


def _require_organiser(actor: Member) -> None:
    if actor.role != Member.Role.ORGANISER:
        raise PermissionDenied("Only the network's organisers can do that.")


def member_approve(*, actor: Member, member: Member) -> Member:
    _require_organiser(actor)
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        before = {"approval": member.approval}
        member.approval, member.decline_reason = Member.Approval.APPROVED, ""
        member.save(update_fields=["approval", "decline_reason"])
        audit_record(actor=actor, verb="member.approve", target=member, before=before,
                     after={"approval": member.approval})  # fmt: skip
        _gift_when_ready(member)
    return member


def member_decline(*, actor: Member, member: Member, reason: str) -> Member:
    _require_organiser(actor)
    reason = reason.strip()
    if not reason:
        raise JoinRefused("Please give a reason: the person will see it.", field="reason")
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        if member.approval != Member.Approval.PENDING:
            raise JoinRefused("Only requests still waiting can be declined.")
        member.approval, member.decline_reason = Member.Approval.DECLINED, reason[:500]
        member.save(update_fields=["approval", "decline_reason"])
        audit_record(
            actor=actor, verb="member.decline", target=member, reason=reason,
            before={"approval": "pending"}, after={"approval": "declined"},
        )  # fmt: skip
    return member


def member_make_first_organiser(*, member: Member) -> Member:
    """Make the person who started a network (or a demo's organiser) its organiser: verified,
    approved, with the organiser's permissions and the welcome gift. For provisioning only;
    later role changes go through member_role_set."""
    member.role, member.approval = Member.Role.ORGANISER, Member.Approval.APPROVED
    member.email_verified_at = member.email_verified_at or timezone.now()
    member.save(update_fields=["role", "approval", "email_verified_at"])
    member.user_permissions.add(
        *Permission.objects.filter(codename__in=ROLE_PERMISSIONS[Member.Role.ORGANISER])
    )
    _gift_when_ready(member)
    return member


def member_role_set(*, actor: Member, member: Member, role: str) -> Member:
    """An organiser changes a member's role; the role's permissions follow (audited). The
    last organiser cannot step down, or the network would have none."""
    _require_organiser(actor)
    if role not in Member.Role.values:
        raise JoinRefused("Choose member, QI lead or organiser.", field="role")
    if (member.role == Member.Role.ORGANISER and role != Member.Role.ORGANISER
            and Member.objects.filter(role=Member.Role.ORGANISER).count() == 1):  # fmt: skip
        raise JoinRefused("A network needs at least one organiser.", field="role")
    with transaction.atomic():
        before = {"role": member.role}
        member.role = role
        member.save(update_fields=["role"])
        all_role_codenames = {c for codes in ROLE_PERMISSIONS.values() for c in codes}
        member.user_permissions.remove(*Permission.objects.filter(codename__in=all_role_codenames))
        member.user_permissions.add(*Permission.objects.filter(codename__in=ROLE_PERMISSIONS[role]))
        audit_record(actor=actor, verb="member.role_change", target=member, before=before,
                     after={"role": role})  # fmt: skip
    return member
