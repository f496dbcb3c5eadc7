"""Members' accounts once joined: roles, deactivation, blocks, profiles, API tokens,
language, and erasure; and the retention purge of sign-ups never verified.

Joining itself (signing up, verification, approvals, invitations, the welcome gift) is
core.joining's, above the ledger; the models stay here. A sign-up never verified within
UNVERIFIED_GRACE_DAYS is deleted (`members_unverified_purge`), freeing the address.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import uuid
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from core.audit.services import audit_record
from kernel.db import durable_service
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.text import markup_refuse, markup_strip, plain_text

from .models import (
    BIO_MAX,
    FORMER_MEMBER_NAME,
    ApiToken,
    Block,
    ContactFormat,
    Member,
    MemberState,
    Profession,
    ProfileVisibility,
    Role,
)

VERIFY_MAX_AGE = 7 * 24 * 3600  # seconds a verification link stays valid
# Days a sign-up may stay unverified before the retention purge deletes it: twice the
# life of a verification link, so nobody holding a valid link finds their account gone.
UNVERIFIED_GRACE_DAYS = 14


class JoinRefused(ApplicationError):
    pass


def access_member(member_id: int, *, member: Member) -> Member:
    """A member of the current network, or NotFound: ids from another network's schema
    do not exist here, nor do closed accounts. (`member` is the viewer; every member may
    see that another exists.)"""
    found = (
        Member.objects.filter(pk=member_id, is_staff=False)
        .exclude(state=MemberState.CLOSED)
        .first()
    )
    if found is None:
        raise NotFound(_("No such member."))
    return found


@durable_service
def member_set_role(*, actor: Member, member: Member, role: str) -> Member:
    """An organiser changes a member's role. Audited. A network always keeps at least
    one organiser."""
    if not actor.has_perm("members.change_role"):
        raise PermissionDenied(_("Only organisers can change roles."))
    if role not in Role.values:
        raise JoinRefused(_("Choose member, QI lead or organiser."), field="role")
    # Lock every organiser (in id order) so two demotions cannot both pass the check.
    organisers = list(
        Member.objects.select_for_update()
        .filter(role=Role.ORGANISER, state=MemberState.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    member = Member.objects.select_for_update().get(pk=member.pk)
    before = member.role
    if before == role:
        return member
    if before == Role.ORGANISER and organisers == [member.pk]:
        raise JoinRefused(_("Name another organiser first: a network needs at least one."))
    member.role = role
    member.save(update_fields=["role"])
    audit_record(
        actor=actor,
        verb="member.role_change",
        target=member,
        before={"role": before},
        after={"role": role},
    )
    return member


@durable_service
def member_deactivate(*, actor: Member, member: Member, reason: str = "") -> Member:
    """An organiser stops an active member's account: sign-in is refused (the sign-in page
    says the account is deactivated) and their sessions and API tokens stop working, while
    their profile, listings, exchanges and ledger stay as they are. Audited. Organisers
    cannot deactivate themselves, so a network always keeps an organiser."""
    return member_deactivate_step(actor=actor, member=member, reason=reason)


def member_deactivate_step(*, actor: Member, member: Member, reason: str = "") -> Member:
    """`member_deactivate` inside the caller's transaction (an organiser acting on a
    report suspends the member and closes the report in one)."""
    if not actor.has_perm("members.approve_member"):
        raise PermissionDenied(_("Only organisers can deactivate members."))
    if member.pk == actor.pk:
        raise JoinRefused(_("You cannot deactivate yourself."))
    reason = plain_text(reason, name="reason", limit=500, missing=None, refusal=JoinRefused)
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.state != MemberState.ACTIVE:
        raise JoinRefused(
            _("Only active members can be deactivated; %(member)s is %(state)s.")
            % {"member": member, "state": member.get_state_display().lower()}
        )
    member.state, member.is_active = MemberState.DEACTIVATED, False
    member.save(update_fields=["state", "is_active"])
    audit_record(
        actor=actor,
        verb="member.deactivate",
        target=member,
        before={"state": MemberState.ACTIVE},
        after={"state": member.state},
        reason=reason,
    )
    return member


@durable_service
def member_reactivate(*, actor: Member, member: Member) -> Member:
    """An organiser lets a deactivated member back in, with everything they had (no second
    welcome gift). Audited."""
    if not actor.has_perm("members.approve_member"):
        raise PermissionDenied(_("Only organisers can reactivate members."))
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.state != MemberState.DEACTIVATED:
        raise JoinRefused(_("%(member)s is not deactivated.") % {"member": member})
    member.state, member.is_active = MemberState.ACTIVE, True
    member.save(update_fields=["state", "is_active"])
    audit_record(
        actor=actor,
        verb="member.reactivate",
        target=member,
        before={"state": MemberState.DEACTIVATED},
        after={"state": member.state},
    )
    return member


class BlockRefused(ApplicationError):
    pass


@durable_service
def member_block(*, actor: Member, member: Member) -> Block:
    """`actor` blocks `member`: from now on neither responds to the other's listings,
    messages the other or books the other's sessions, and their listings are hidden
    from each other. Blocking again changes nothing. The blocked member is not told:
    nothing is sent to them and what they are refused reads as anything not available.
    Not audited (a member's private choice), but the blocker sees their blocks."""
    member_require_joined(actor, before=_("blocking anyone"))
    if member.pk == actor.pk:
        raise BlockRefused(_("You cannot block yourself."))
    if member.is_staff or member.state == MemberState.CLOSED:
        raise NotFound(_("No such member."))
    try:
        with transaction.atomic():
            return Block.objects.get_or_create(blocker=actor, blocked=member)[0]
    except IntegrityError:  # the same block, made a moment ago by another request
        return Block.objects.get(blocker=actor, blocked=member)


@durable_service
def member_unblock(*, actor: Member, member: Member) -> int:
    """`actor` lifts their block of `member` (a block `member` made stays). Returns how
    many blocks went (0 or 1)."""
    deleted, _by_model = Block.objects.filter(blocker=actor, blocked=member).delete()
    return deleted


def member_blocks_erase(*, member: Member) -> int:
    """Delete every block made by or against a leaving member (inside the caller's
    transaction): nobody can meet a closed account anyway. Returns how many went."""
    deleted, _by_model = Block.objects.filter(Q(blocker=member) | Q(blocked=member)).delete()
    return deleted


PROFILE_FIELDS = (
    "full_name",
    "profession",
    "job_title",
    "organisation",
    "skills",
    "bio",
    "availability",
    "preferred_formats",
    "location",
    "profile_visibility",
    "show_on_map",
    "photo",
    "remove_photo",
)
_TEXT_LIMITS = {
    "full_name": 150,
    "job_title": 120,
    "organisation": 150,
    "availability": 200,
    "location": 120,
    "bio": BIO_MAX,
}
MAX_SKILLS = 20


@durable_service
def member_profile_update(*, actor: Member, **fields: Any) -> Member:
    """A member edits their own profile. Every field is checked before anything is saved:
    one refusal (`JoinRefused` naming the field) changes nothing. Text is plain text;
    markup is refused, not silently stripped, so the member knows what will show."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise JoinRefused(_("Profiles have no field %(field)s.") % {"field": sorted(unknown)[0]})
    changes: dict[str, Any] = {}
    for name, value in fields.items():
        if name in _TEXT_LIMITS:
            text = markup_refuse(value, name=name, refusal=JoinRefused, required=False)
            if len(text) > _TEXT_LIMITS[name]:
                raise JoinRefused(
                    _("Keep this under %(limit)s characters.") % {"limit": _TEXT_LIMITS[name]},
                    field=name,
                )
            if name == "full_name" and not text:
                raise JoinRefused(_("Enter your name."), field=name)
            changes[name] = text
        elif name == "profession":
            if value and value not in Profession.values:
                raise JoinRefused(_("Choose a profession from the list."), field=name)
            changes[name] = value or ""
        elif name == "profile_visibility":
            if value not in ProfileVisibility.values:
                raise JoinRefused(_("Choose who can see your profile."), field=name)
            changes[name] = value
        elif name == "show_on_map":
            changes[name] = bool(value)
        elif name == "preferred_formats":
            formats = list(dict.fromkeys(value or []))
            if any(f not in ContactFormat.values for f in formats):
                raise JoinRefused(_("Choose in person, video call or phone."), field=name)
            changes[name] = formats
        elif name == "skills":
            changes[name] = skills_clean(value or [])
    photo, remove_photo = fields.get("photo"), bool(fields.get("remove_photo"))
    extension = photo_check(photo) if photo else ""
    member = Member.objects.select_for_update().get(pk=actor.pk)
    for name, value in changes.items():
        setattr(member, name, value)
    old_photo = member.photo.name if (photo or remove_photo) else ""
    if photo:
        # A random name: the old URL stops working and nothing guessable is exposed.
        member.photo.save(f"{uuid.uuid4().hex}.{extension}", photo, save=False)
        changes["photo"] = member.photo
    elif remove_photo:
        member.photo = ""
        changes["photo"] = ""
    member.save(update_fields=list(changes))
    if old_photo:
        storage = member.photo.storage
        transaction.on_commit(lambda: storage.delete(old_photo), robust=True)
    return member


PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTO_MAX_SIDE = 4000
PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def photo_check(photo: UploadedFile[bytes]) -> str:
    """Refuse anything but a real JPEG, PNG or WebP image of at most 2 MB and 4000 pixels a
    side (the content is read, not the name or the browser's content type); return the
    extension to store it under."""
    if photo.size is None or photo.size > PHOTO_MAX_BYTES:
        raise JoinRefused(_("The photo must be 2 MB or smaller."), field="photo")
    try:
        with Image.open(photo) as image:
            image_format, (width, height) = image.format or "", image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise JoinRefused(
            _("The photo could not be read. Upload a JPEG, PNG or WebP image."), field="photo"
        ) from None
    finally:
        photo.seek(0)
    if image_format not in PHOTO_FORMATS:
        raise JoinRefused(_("Upload a JPEG, PNG or WebP image."), field="photo")
    if max(width, height) > PHOTO_MAX_SIDE:
        raise JoinRefused(_("The photo is too large: at most 4000 pixels a side."), field="photo")
    return PHOTO_FORMATS[image_format]


def skills_clean(tags: list[str]) -> list[str]:
    """Lower-case, de-duplicated skill tags, each plain text of 1-50 characters."""
    cleaned: list[str] = []
    for tag in tags:
        tag = " ".join(str(tag).lower().split())
        if not tag:
            continue
        if markup_strip(tag) != tag or len(tag) > 50:
            raise JoinRefused(
                _("“%(tag)s” is not a skill tag: plain words, up to 50 characters.")
                % {"tag": tag[:50]},
                field="skills",
            )
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_SKILLS:
        raise JoinRefused(_("Choose up to %(most)s skills.") % {"most": MAX_SKILLS}, field="skills")
    return cleaned


class TokenRefused(ApplicationError):
    pass


API_TOKENS_PER_MEMBER = 10
API_TOKEN_PREFIX = "hxt_"  # noqa: S105 (a marker that tells a token apart, not a secret)


def api_token_digest(secret: str) -> str:
    """What is stored of a token. A token is 32 random bytes, so a plain SHA-256 is enough:
    there is nothing to guess that a slow hash would protect."""
    return hashlib.sha256(secret.encode()).hexdigest()


@durable_service
def api_token_create(*, actor: Member, name: str) -> tuple[ApiToken, str]:
    """Make a personal API token; returns it with its secret, which is never stored and
    cannot be shown again."""
    member_require_joined(actor, before=_("making API tokens"))
    name = plain_text(
        name,
        name="name",
        limit=80,
        refusal=TokenRefused,
        missing=_("Give the token a name, e.g. the script that will use it."),
    )
    Member.objects.select_for_update().filter(pk=actor.pk).first()  # one count at a time
    if ApiToken.objects.filter(member=actor).count() >= API_TOKENS_PER_MEMBER:
        raise TokenRefused(
            _("You have %(most)s tokens, the most allowed. Revoke one you no longer use first.")
            % {"most": API_TOKENS_PER_MEMBER}
        )
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        member=actor,
        name=name,
        digest=api_token_digest(secret),
        hint=secret[: len(API_TOKEN_PREFIX) + 4],
    )
    audit_record(actor=actor, verb="api_token.create", target=token, after={"name": name})
    return token, secret


@durable_service
def api_token_revoke(*, actor: Member, token_id: int) -> None:
    """Revoke one of the member's own tokens: it stops working at once."""
    token = ApiToken.objects.select_for_update().filter(pk=token_id, member=actor).first()
    if token is None:
        raise NotFound(_("No such token."))
    audit_record(actor=actor, verb="api_token.revoke", target=token, before={"name": token.name})
    token.delete()


def api_token_used(token: ApiToken) -> None:
    """Note that `token` was used, at most once a minute (a write per request would be a
    write per API call)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > datetime.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


def member_require_staff(actor: Member) -> None:
    """Refuse anyone but active platform staff (the console's reads and moves across
    networks)."""
    if not (actor.is_active and actor.is_staff):
        raise PermissionDenied(_("Only platform staff may do this."))


def member_require_joined(member: Member, *, before: str) -> None:
    """Refuse a member who has not finished joining (email unverified, or awaiting an
    organiser's approval) the step named by `before`, e.g. "posting"."""
    if not member.can_transact:
        raise PermissionDenied(
            _(
                "Confirm your email address (and wait for approval, if your network asks for it) "
                "before %(before)s."
            )
            % {"before": before}
        )


def member_erase(member: Member) -> dict[str, Any]:
    """Erase a closing member's personal data from their row (inside the caller's
    transaction, the row locked): name, address, profile and photo go, the password
    becomes unusable and the account inactive, so sign-in is refused and every session
    ends. The row stays so exchanges, projects and the ledger still have their other
    side, named `FORMER_MEMBER_NAME`. The photo file is deleted after commit.

    Returns the state before, free of personal data, for the audit record."""
    before = {"state": member.state, "role": member.role}
    photo = member.photo.name
    if photo:
        storage = member.photo.storage
        transaction.on_commit(lambda: storage.delete(photo))
    member.email = f"former-member-{member.pk}@closed.invalid"
    member.full_name = FORMER_MEMBER_NAME
    member.profession = member.organisation = member.job_title = ""
    member.bio = member.availability = member.location = member.declined_reason = ""
    member.skills, member.preferred_formats = [], []
    member.photo = ""
    member.profile_visibility, member.show_on_map = ProfileVisibility.NAME_ONLY, False
    member.role, member.state = Role.MEMBER, MemberState.CLOSED
    member.is_active, member.is_superuser = False, False
    member.closed_at = timezone.now()
    member.set_unusable_password()
    member.save()
    member.user_permissions.clear()
    member.groups.clear()
    return before


def members_unverified_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete sign-ups whose email was never verified within `UNVERIFIED_GRACE_DAYS`
    (retention: nothing is kept about people who never joined). Each deletion is
    audited by id only, and any photo is deleted after commit. Run by beat in every
    network; returns how many went."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=UNVERIFIED_GRACE_DAYS)
    with transaction.atomic(durable=True):
        stale = list(
            Member.objects.select_for_update(skip_locked=True)
            .filter(state=MemberState.UNVERIFIED, is_staff=False, date_joined__lt=cutoff)
            .order_by("pk")
        )
        for member in stale:
            audit_record(
                actor=None,
                verb="member.purge_unverified",
                target=member,
                before={"state": member.state},
                reason=f"Email not verified in {UNVERIFIED_GRACE_DAYS} days",
            )
        Member.objects.filter(pk__in=[m.pk for m in stale]).delete()
        photos = [(m.photo.storage, m.photo.name) for m in stale if m.photo.name]

        def delete_photos() -> None:
            for storage, name in photos:
                storage.delete(name)

        transaction.on_commit(delete_photos)
    return len(stale)


class LanguageRefused(ApplicationError):
    """The language is not one the platform offers."""


@durable_service
def member_language_set(*, actor: Member, language: str) -> Member:
    """A member saves the language they chose with the switcher; pages and emails to them
    use it from then on, on any device. "" goes back to the network's default."""
    if language and language not in dict(settings.LANGUAGES):
        raise LanguageRefused(_("Choose a language from the list."))
    member = Member.objects.select_for_update().get(pk=actor.pk)
    if member.language != language:
        member.language = language
        member.save(update_fields=["language"])
    return member
