"""Joining a network, verifying an address, approvals and roles."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.html import strip_tags
from PIL import Image, UnidentifiedImageError

from core.audit.services import audit_record
from hexitime.db import connection
from hexitime.errors import ApplicationError, PermissionDenied
from ledger.services import gift_grant

from .models import (
    CURATED_SKILLS,
    OPTIONAL_PROFILE_FIELDS,
    ContactFormat,
    JoinPolicy,
    Member,
    Profession,
)

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


class ProfileRefused(ApplicationError):
    pass


PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTO_MAX_PIXELS = 4000 * 4000
PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_SKILLS = 20
PROFILE_TEXT_LIMITS = {"full_name": 150, "role_grade": 120, "organisation": 150,
                       "bio": 2000, "availability": 200, "location": 120}  # fmt: skip
PROFILE_EDITABLE = (*PROFILE_TEXT_LIMITS, "profession", "skills", "preferred_formats",
                    "visible_fields", "photo", "remove_photo")  # fmt: skip


def _plain_text(name: str, value: Any) -> str:
    text = str(value).strip()
    if strip_tags(text) != text or ("<" in text and ">" in text):
        raise ProfileRefused(
            "Please use plain text: HTML such as <script> or <b> is not allowed.", field=name
        )
    limit = PROFILE_TEXT_LIMITS[name]
    if len(text) > limit:
        raise ProfileRefused(
            f"This is {len(text):,} characters long; the limit is {limit:,}.", field=name
        )
    return text


def _skills(values: list[Any]) -> list[str]:
    """Curated tags and free tags alike, lower-cased and de-duplicated in order."""
    tags: list[str] = []
    for value in values:
        tag = " ".join(str(value).split()).lower()
        if not tag or tag in tags:
            continue
        if len(tag) > 50 or strip_tags(tag) != tag:
            raise ProfileRefused(
                "Each skill is a short plain-text tag of up to 50 characters.", field="skills"
            )
        tags.append(tag)
    if len(tags) > MAX_SKILLS:
        raise ProfileRefused(f"Choose up to {MAX_SKILLS} skills.", field="skills")
    return tags


def _photo_checked(photo: UploadedFile) -> str:
    """Check an upload is a real, modest image; return the file extension to store it as."""
    if photo.size is None or photo.size > PHOTO_MAX_BYTES:
        raise ProfileRefused("The photo must be 2 MB or smaller.", field="photo")
    try:
        with Image.open(photo) as image:
            image_format = image.format or ""
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ProfileRefused(
            "The photo could not be read. Upload a JPEG, PNG or WebP image.", field="photo"
        ) from None
    finally:
        photo.seek(0)
    if image_format not in PHOTO_FORMATS:
        raise ProfileRefused("Upload a JPEG, PNG or WebP image.", field="photo")
    if width * height > PHOTO_MAX_PIXELS:
        raise ProfileRefused("The photo is too large: at most 4000 by 4000 pixels.", field="photo")
    return PHOTO_FORMATS[image_format]


def profile_update(*, actor: Member, **fields: Any) -> Member:
    """A member edits their own profile. Every field is checked before anything is saved, so
    a refusal changes nothing; a new photo is written to the network's media storage."""
    unknown = set(fields) - set(PROFILE_EDITABLE)
    if unknown:
        raise ProfileRefused(f"Unknown field: {', '.join(sorted(unknown))}.")
    changes: dict[str, Any] = {}
    for name in PROFILE_TEXT_LIMITS:
        if name in fields:
            changes[name] = _plain_text(name, fields[name])
    if "full_name" in changes and not changes["full_name"]:
        raise ProfileRefused("Enter your name.", field="full_name")
    if "profession" in fields:
        if fields["profession"] not in ("", *Profession.values):
            raise ProfileRefused("Choose a profession from the list.", field="profession")
        changes["profession"] = fields["profession"]
    if "skills" in fields:
        changes["skills"] = _skills(list(fields["skills"]))
    if "preferred_formats" in fields:
        formats = list(dict.fromkeys(fields["preferred_formats"]))
        if not set(formats) <= set(ContactFormat.values):
            raise ProfileRefused(
                "Choose formats from: in person, video, phone.", field="preferred_formats"
            )
        changes["preferred_formats"] = formats
    if "visible_fields" in fields:
        visible = list(dict.fromkeys(fields["visible_fields"]))
        if not set(visible) <= set(OPTIONAL_PROFILE_FIELDS):
            raise ProfileRefused("Unknown profile field to show.", field="visible_fields")
        changes["visible_fields"] = visible
    photo = fields.get("photo")
    extension = _photo_checked(photo) if photo else None
    with transaction.atomic(durable=True):
        member = Member.objects.select_for_update().get(pk=actor.pk)
        old_photo = member.photo.name if (photo or fields.get("remove_photo")) else ""
        for name, value in changes.items():
            setattr(member, name, value)
        if photo:
            member.photo.save(f"{uuid.uuid4().hex}.{extension}", photo, save=False)
        elif fields.get("remove_photo"):
            member.photo = None
        member.save()
        if old_photo:
            storage = member.photo.storage
            transaction.on_commit(lambda: storage.delete(old_photo))
    return member


def curated_skills() -> tuple[str, ...]:
    return CURATED_SKILLS
