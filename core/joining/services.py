"""Joining a network: signing up, verifying an email address, organisers' approval of
join requests, and invitations (one by one or from a CSV).

A person joins under the network's join policy and starts `unverified`: they can sign
in and browse but not transact, and take no place under the network's plan. The link
emailed to them (after commit, by Celery) makes them `active` — or, under the approval
policy, puts them in the organisers' queue — taking a place. Becoming active grants the
welcome gift through the ledger, exactly once; that is why joining sits above the ledger
(docs/architecture.md), while the models stay in core.members. A sign-up never verified
within UNVERIFIED_GRACE_DAYS is deleted (`core.members.services.members_unverified_purge`),
freeing the address.

Asking to join with an address already registered answers exactly as for a new one; the
address's owner is emailed instead, so joining never tells anyone who is registered.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import uuid
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit.services import audit_record
from core.members.models import (
    Invitation,
    JoinPolicy,
    JoinSettings,
    Member,
    MemberState,
    Profession,
    Role,
)
from core.members.places import plan_member_place_take
from core.members.selectors import members_with_permission
from core.members.services import VERIFY_MAX_AGE, JoinRefused
from core.notifications.models import Kind
from core.notifications.services import notification_send
from kernel.db import connection, durable_service, outbox_claim
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.text import markup_refuse, plain_text
from ledger.services import gift_grant
from tenants.selectors import network_current


def join_settings_get() -> JoinSettings:
    """The current network's join settings (open, until an organiser says otherwise)."""
    settings, _created = JoinSettings.objects.get_or_create(pk=1)
    return settings


def join_settings_start() -> JoinSettings:
    """A new network's join settings: an organiser approves each new member, until the
    organiser chooses otherwise. In the new network's schema, in the caller's transaction."""
    return JoinSettings.objects.get_or_create(pk=1, defaults={"policy": JoinPolicy.APPROVAL})[0]


@durable_service
def join_settings_set(
    *, actor: Member, policy: str, allowed_domains: list[str] | None = None
) -> JoinSettings:
    """An organiser sets how people join. Audited."""
    if not actor.has_perm("members.approve_member"):
        raise PermissionDenied(_("Only organisers can change how people join."))
    if policy not in JoinPolicy.values:
        raise JoinRefused(_("Choose open, email domain or organiser approval."), field="policy")
    domains = sorted({d.strip().lower().lstrip("@") for d in allowed_domains or [] if d.strip()})
    for domain in domains:
        if "." not in domain or not all(part.isascii() for part in domain.split(".")):
            raise JoinRefused(
                _("“%(domain)s” is not an email domain.") % {"domain": domain},
                field="allowed_domains",
            )
        if any(not part or len(part) > 63 for part in domain.split(".")) or len(domain) > 253:
            raise JoinRefused(
                _("“%(domain)s” is not an email domain.") % {"domain": domain},
                field="allowed_domains",
            )
    if policy == JoinPolicy.EMAIL_DOMAIN and not domains:
        raise JoinRefused(_("List at least one allowed email domain."), field="allowed_domains")
    settings = JoinSettings.objects.select_for_update().get_or_create(pk=1)[0]
    before = {"policy": settings.policy, "allowed_domains": settings.allowed_domains}
    settings.policy, settings.allowed_domains = policy, domains
    settings.save()
    audit_record(
        actor=actor,
        verb="join_settings.change",
        target=settings,
        before=before,
        after={"policy": policy, "allowed_domains": domains},
    )
    return settings


def email_domain_allowed(email: str, allowed_domains: list[str]) -> bool:
    domain = email.rsplit("@", 1)[-1].lower()
    return any(domain == allowed or domain.endswith("." + allowed) for allowed in allowed_domains)


def member_join(
    *, email: str, full_name: str, password: str, profession: str = "", organisation: str = ""
) -> Member | None:
    """Create an unverified member under the network's join policy and email them a
    verification link after commit; for an address already registered here create nothing
    and email its owner instead. Returns the new member, or None for an address already
    here: callers must answer both alike. Refuses (`JoinRefused`, nothing written) an
    invalid address, a weak password or a domain the policy excludes; and
    (`PlanLimitReached`, nothing written) a network whose plan has no place left."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise JoinRefused(_("Enter an email address like name@nhs.net."), field="email") from None
    full_name = markup_refuse(full_name, name="full_name", refusal=JoinRefused, required=True)
    if not full_name or len(full_name) > 150:
        raise JoinRefused(_("Enter your name (up to 150 characters)."), field="full_name")
    if profession and profession not in Profession.values:
        raise JoinRefused(_("Choose a profession from the list."), field="profession")
    organisation = plain_text(
        organisation, name="organisation", limit=150, missing=None, refusal=JoinRefused
    )
    settings = join_settings_get()
    if settings.policy == JoinPolicy.EMAIL_DOMAIN and not email_domain_allowed(
        email, settings.allowed_domains
    ):
        allowed = ", ".join(settings.allowed_domains)
        raise JoinRefused(
            _("This network is open to email addresses at %(allowed)s.") % {"allowed": allowed},
            field="email",
        )
    candidate = Member(
        email=email, full_name=full_name, profession=profession, organisation=organisation
    )
    try:
        validate_password(password, user=candidate)
    except ValidationError as error:
        raise JoinRefused(" ".join(error.messages), field="password") from None
    # Hashed for a known address too: both answers take as long.
    candidate.set_password(password)
    try:
        return _join(candidate)
    except IntegrityError:
        # A sign-up with this address committed first; that one has its link.
        return None


@durable_service
def _join(candidate: Member) -> Member | None:
    # A full network refuses every address alike, registered or not.
    plan_member_place_take()
    owner = Member.objects.filter(email__iexact=candidate.email).first()
    if owner is not None:
        # The owner hears of it through a notification, whose row is its email's outbox.
        notification_send(
            recipient=owner,
            kind=Kind.ACCOUNT,
            key=f"member:{owner.pk}:join-attempt:{uuid.uuid4().hex}",
            title="Someone asked to join with your email address",
            body=f"Someone asked to join {network_current().name} with this email address, "
            "which already has an account here. Nothing has changed. If it was you, sign in, "
            "or reset your password if you have forgotten it. If it was not you, ignore "
            "this: nobody can use your account without your password.",
            url="/accounts/login/",
        )
        return None
    return member_unverified_add(candidate)


def member_unverified_add(candidate: Member) -> Member:
    """Save a new, unverified member and email them a verification link after commit. In
    the caller's transaction, after `plan_member_place_take`: joining by password and by
    single sign-on (core.sso) when the provider has not confirmed the address."""
    schema_name = connection.schema_name
    candidate.state = MemberState.UNVERIFIED
    candidate.verification_pending = True
    candidate.verification_queued_at = timezone.now()
    candidate.save()
    transaction.on_commit(lambda: _queue_verification(schema_name, candidate.pk), robust=True)
    return candidate


def _queue_verification(schema_name: str, member_id: int) -> None:
    from .tasks import member_verification_email

    member_verification_email.delay(schema_name=schema_name, member_id=member_id)


def _verify_salt() -> str:
    # The schema is in the salt: a link made for one network verifies nobody in another.
    return f"members.verify:{connection.schema_name}"


def verification_token(member: Member) -> str:
    return signing.dumps({"m": member.pk, "e": member.email}, salt=_verify_salt())


@durable_service
def member_verify_email(*, token: str) -> Member:
    """Mark the address behind a verification link verified. Under the approval policy
    the member joins the organisers' queue; otherwise they become active and receive
    the welcome gift. Repeating a link is harmless."""
    try:
        data = signing.loads(token, salt=_verify_salt(), max_age=VERIFY_MAX_AGE)
    except signing.SignatureExpired:
        raise JoinRefused(_("This link has expired. Sign in to send a new one.")) from None
    except signing.BadSignature:
        raise JoinRefused(_("This link is not valid here. Check you copied all of it.")) from None
    member = Member.objects.select_for_update().filter(pk=data["m"], email=data["e"]).first()
    if member is None:
        raise JoinRefused(_("This link is not valid here. Check you copied all of it."))
    if member.state != MemberState.UNVERIFIED:
        return member
    member_email_confirmed(member)
    return member


def member_email_confirmed(member: Member) -> None:
    """An unverified member's address is confirmed (by their link, or by the network's
    single sign-on provider): under the approval policy they join the organisers' queue,
    otherwise they become active with the welcome gift (once: the gift's idempotency key
    is the member's). In the caller's transaction, the member's row locked."""
    plan_member_place_take()  # the place is taken now, not on joining
    member.email_verified_at = timezone.now()
    if join_settings_get().policy == JoinPolicy.APPROVAL:
        member.state = MemberState.AWAITING_APPROVAL
        _tell_organisers_of_request(member)
    else:
        _activate(member)
    member.save(update_fields=["email_verified_at", "state"])


def _tell_organisers_of_request(member: Member) -> None:
    network = network_current().name
    for organiser in members_with_permission("members.approve_member"):
        notification_send(
            recipient=organiser,
            kind=Kind.JOIN_REQUEST,
            key=f"member:{member.pk}:join-request:{organiser.pk}",
            title=f"{member.full_name} asked to join {network}"[:200],
            body=f"{member.full_name} ({member.email}) has confirmed their email address and "
            "is waiting for an organiser to approve or decline their request.",
            url="/members/approvals/",
        )


def _activate(member: Member) -> None:
    member.state = MemberState.ACTIVE
    gift_grant(member=member)


@durable_service
def verification_resend(*, actor: Member) -> None:
    """Email the actor a fresh verification link, if they still need one (after commit:
    while the queue is down the sweep sends it later)."""
    updated = Member.objects.filter(pk=actor.pk, state=MemberState.UNVERIFIED).update(
        verification_pending=True, verification_queued_at=timezone.now()
    )
    if updated:
        schema_name, member_id = connection.schema_name, actor.pk
        transaction.on_commit(lambda: _queue_verification(schema_name, member_id), robust=True)


@durable_service
def verifications_sweep(*, grace: datetime.timedelta) -> int:
    """Queue again every verification email still unsent `grace` after it was last queued
    (its message was lost, or every retry failed), while its link would still be valid;
    each is touched as it is queued. Returns how many. Runs in the current network."""
    pending = Member.objects.filter(
        state=MemberState.UNVERIFIED,
        verification_pending=True,
        date_joined__gte=timezone.now() - datetime.timedelta(seconds=VERIFY_MAX_AGE),
    )
    ids = outbox_claim(pending, queued_at="verification_queued_at", grace=grace)
    schema_name = connection.schema_name
    for member_id in ids:
        transaction.on_commit(
            functools.partial(_queue_verification, schema_name, member_id), robust=True
        )
    return len(ids)


@durable_service
def member_approve(*, actor: Member, member: Member) -> Member:
    """An organiser lets a verified member in: active, gifted, audited, and told (in the
    app and by email)."""
    if not actor.has_perm("members.approve_member"):
        raise PermissionDenied(_("Only organisers can approve members."))
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.state != MemberState.AWAITING_APPROVAL:
        raise JoinRefused(_("%(member)s is not waiting for approval.") % {"member": member})
    _activate(member)
    member.save(update_fields=["state"])
    audit_record(
        actor=actor,
        verb="member.approve",
        target=member,
        before={"state": MemberState.AWAITING_APPROVAL},
        after={"state": member.state},
    )
    notification_send(
        recipient=member,
        kind=Kind.ACCOUNT,
        key=f"member:{member.pk}:approved",
        title=f"Welcome to {network_current().name}: your request to join was approved",
        body="Two hours of credit are in your account to start exchanging.",
        url="/",
    )
    return member


@durable_service
def member_decline(*, actor: Member, member: Member, reason: str) -> Member:
    """An organiser turns a request to join down, saying why. The account can no longer
    sign in (the sign-in page tells them why instead); they are emailed the reason.
    Audited."""
    if not actor.has_perm("members.approve_member"):
        raise PermissionDenied(_("Only organisers can decline members."))
    reason = markup_refuse(reason, name="reason", refusal=JoinRefused, required=True)
    if not reason:
        raise JoinRefused(_("Please give a reason: the person will see it."), field="reason")
    if len(reason) > 500:
        raise JoinRefused(_("Keep the reason under 500 characters."), field="reason")
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.state != MemberState.AWAITING_APPROVAL:
        raise JoinRefused(_("%(member)s is not waiting for approval.") % {"member": member})
    member.state, member.is_active, member.declined_reason = (MemberState.DECLINED, False, reason)
    member.save(update_fields=["state", "is_active", "declined_reason"])
    audit_record(
        actor=actor,
        verb="member.decline",
        target=member,
        before={"state": MemberState.AWAITING_APPROVAL},
        after={"state": member.state},
        reason=reason,
    )
    notification_send(
        recipient=member,
        kind=Kind.ACCOUNT,
        key=f"member:{member.pk}:declined",
        title=f"Your request to join {network_current().name} was declined"[:200],
        body=f"The organiser said: “{reason}”",
    )
    return member


class InvitationRefused(ApplicationError):
    pass


INVITATION_DAYS = 14  # how long an invitation's link works


# Days an expired invitation stays (so an organiser can still send it again) before the
# retention purge deletes it.
INVITATION_KEEP_EXPIRED_DAYS = 14


INVITATIONS_MAX = 500  # people in one batch of invitations (addresses or a CSV)


INVITATIONS_CSV_MAX_BYTES = 1024 * 1024


_ROLE_NAMES = {
    **{value: value for value in Role.values},
    **{str(label).lower(): value for value, label in Role.choices},
    "organizer": Role.ORGANISER,
}


# (name, email, role) as an organiser gave them; the role may be a value, a label or "".
InvitedPerson = tuple[str, str, str]


@dataclass(frozen=True)
class InvitationsSent:
    """What one batch of invitations did."""

    invited: list[Invitation]
    resent: list[Invitation]
    already_members: list[str]


def _invited_person_clean(name: str, email: str, role: str) -> InvitedPerson:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvitationRefused(
            _("“%(email)s” is not an email address.") % {"email": email[:254]}, field="emails"
        ) from None
    name = plain_text(name, name="name", limit=150, missing=None, refusal=InvitationRefused)
    role_value = _ROLE_NAMES.get(" ".join(role.lower().split()) or Role.MEMBER)
    if role_value is None:
        raise InvitationRefused(
            _("“%(role)s” is not a role: use member, QI lead or organiser.") % {"role": role[:50]},
            field="role",
        )
    return name, email, role_value


def invitations_csv_read(file: UploadedFile[bytes]) -> list[InvitedPerson]:
    """The people in an uploaded CSV of name, email and an optional role (a header row is
    optional). Refuses (`InvitationRefused`, with every bad row in `rows`) a file over
    1 MB or 500 people, one that is not UTF-8 text, or any row without a valid address
    and role; nothing is read into the network until the whole file is good."""
    if file.size is None or file.size > INVITATIONS_CSV_MAX_BYTES:
        raise InvitationRefused(_("The file must be 1 MB or smaller."), field="file")
    try:
        text = file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvitationRefused(
            _("Save the file as CSV (UTF-8) and upload it again."), field="file"
        ) from None
    people: list[InvitedPerson] = []
    problems: list[str] = []
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise InvitationRefused(
            _("The file is not a CSV file we can read (%(error)s).") % {"error": error},
            field="file",
        ) from None
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if number == 1 and len(cells) > 1 and cells[1].lower() in {"email", "email address"}:
            continue  # the header row
        if len(people) + len(problems) >= INVITATIONS_MAX:
            raise InvitationRefused(
                _("Invite at most %(most)s people at a time.") % {"most": INVITATIONS_MAX},
                field="file",
            )
        if len(cells) < 2 or len(cells) > 3:
            problems.append(
                _("Row %(number)s: give a name, an email address and, if you like, a role.")
                % {"number": number}
            )
            continue
        try:
            people.append(
                _invited_person_clean(cells[0], cells[1], cells[2] if len(cells) > 2 else "")
            )
        except InvitationRefused as refused:
            problem = {"number": number, "problem": refused.message}
            problems.append(_("Row %(number)s: %(problem)s") % problem)
    if problems:
        raise InvitationRefused(
            _("Nothing was sent: correct these rows and upload the file again."),
            field="file",
            rows=problems,
        )
    if not people:
        raise InvitationRefused(_("The file has no one to invite."), field="file")
    return people


@durable_service
def invitations_send(*, actor: Member, people: list[InvitedPerson]) -> InvitationsSent:
    """An organiser invites people by email. Every entry is checked before anything is
    written (one bad address refuses the batch). An address already a member here is
    skipped and reported; one already invited gets a fresh invitation (new link, new
    expiry). Each invitation is audited and emailed after commit."""
    return _invitations_write(actor=actor, people=people)


def _invitations_write(*, actor: Member, people: list[InvitedPerson]) -> InvitationsSent:
    if not actor.has_perm("members.approve_member"):
        raise PermissionDenied(_("Only organisers can invite people."))
    if len(people) > INVITATIONS_MAX:
        raise InvitationRefused(
            _("Invite at most %(most)s people at a time.") % {"most": INVITATIONS_MAX},
            field="emails",
        )
    cleaned = {
        email: (name, role)
        for name, email, role in (_invited_person_clean(*person) for person in people)
    }
    if not cleaned:
        raise InvitationRefused(_("Give at least one email address."), field="emails")
    members = set(Member.objects.filter(email__in=list(cleaned)).values_list("email", flat=True))
    pending = {
        i.email: i for i in Invitation.objects.select_for_update().filter(email__in=list(cleaned))
    }
    now = timezone.now()
    expires = now + datetime.timedelta(days=INVITATION_DAYS)
    invited: list[Invitation] = []
    resent: list[Invitation] = []
    for email, (name, role) in cleaned.items():
        if email in members:
            continue
        invitation = pending.get(email) or Invitation(email=email)
        again = invitation.pk is not None
        invitation.full_name = name or invitation.full_name
        invitation.role, invitation.invited_by = role, actor
        invitation.sent_at, invitation.expires_at = now, expires
        invitation.email_pending, invitation.email_queued_at = True, now
        try:
            with transaction.atomic():
                invitation.save()
        except IntegrityError:  # another organiser invited the address a moment ago
            raise InvitationRefused(
                _(
                    "%(email)s was invited by someone else just now. Nothing was sent; please try "
                    "again."
                )
                % {"email": email}
            ) from None
        audit_record(
            actor=actor,
            verb="invitation.resend" if again else "invitation.send",
            target=invitation,
            after={"role": role},
        )
        (resent if again else invited).append(invitation)
    _queue_invitation_emails([i.pk for i in invited + resent])
    return InvitationsSent(invited=invited, resent=resent, already_members=sorted(members))


def _queue_invitation_emails(ids: list[int]) -> None:
    """After commit, queue each invitation's email. A failure to queue is logged, never
    raised into the committed change; `invitations_email_sweep` queues it again."""
    schema_name = connection.schema_name
    transaction.on_commit(
        lambda: invitation_emails_queue(schema_name=schema_name, ids=ids), robust=True
    )


def invitation_emails_queue(*, schema_name: str, ids: list[int]) -> None:
    from .tasks import member_invitation_email

    for invitation_id in ids:
        member_invitation_email.delay(schema_name=schema_name, invitation_id=invitation_id)


def invitations_email_sweep(*, grace: datetime.timedelta) -> int:
    """Queue again the email of every unexpired invitation still pending `grace` after it
    was last queued (its message was lost, or every retry failed); returns how many. Runs
    in the current network's schema."""
    pending = Invitation.objects.filter(email_pending=True, expires_at__gt=timezone.now())
    with transaction.atomic(durable=True):
        ids = outbox_claim(pending, queued_at="email_queued_at", grace=grace)
    invitation_emails_queue(schema_name=connection.schema_name, ids=ids)
    return len(ids)


def access_invitation(invitation_id: int, *, actor: Member) -> Invitation:
    """A pending invitation of this network, for its organisers; NotFound otherwise."""
    if not actor.has_perm("members.approve_member"):
        raise PermissionDenied(_("Only organisers manage invitations."))
    invitation = Invitation.objects.filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound(_("No such invitation."))
    return invitation


@durable_service
def invitation_resend(*, actor: Member, invitation_id: int) -> Invitation:
    """Send an invitation again with a fresh link and expiry; the old link stops working."""
    invitation = access_invitation(invitation_id, actor=actor)
    name, email, role = invitation.full_name, invitation.email, invitation.role
    sent = _invitations_write(actor=actor, people=[(name, email, role)])
    if not sent.resent:
        raise InvitationRefused(
            _(
                "%(email)s is a member here already: there is no need to invite them. Withdraw "
                "the invitation instead."
            )
            % {"email": email}
        )
    return sent.resent[0]


@durable_service
def invitation_revoke(*, actor: Member, invitation_id: int) -> None:
    """Withdraw an invitation: its link stops working at once. Audited."""
    invitation = access_invitation(invitation_id, actor=actor)
    audit_record(
        actor=actor, verb="invitation.revoke", target=invitation, before={"role": invitation.role}
    )
    Invitation.objects.filter(pk=invitation.pk).delete()


def _invitation_salt() -> str:
    # The schema is in the salt: an invitation to one network admits nobody to another.
    return f"members.invitation:{connection.schema_name}"


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(
        {"i": invitation.pk, "s": invitation.sent_at.isoformat()}, salt=_invitation_salt()
    )


_INVITATION_GONE = gettext_lazy(
    "This invitation is no longer valid: it was used, withdrawn or replaced by a newer one. "
    "Ask an organiser to invite you again."
)


def invitation_from_token(token: str, *, lock: bool = False) -> Invitation:
    """The pending invitation behind a link; `InvitationRefused` saying why not."""
    try:
        data = signing.loads(token, salt=_invitation_salt())
    except signing.BadSignature:
        raise InvitationRefused(
            _("This invitation link is not valid here. Check you copied all of it.")
        ) from None
    invitations = Invitation.objects.select_for_update() if lock else Invitation.objects.all()
    invitation = invitations.filter(pk=data.get("i")).first()
    if invitation is None or invitation.sent_at.isoformat() != data.get("s"):
        raise InvitationRefused(str(_INVITATION_GONE))
    if invitation.expired:
        raise InvitationRefused(
            _("This invitation has expired. Ask an organiser to send it again.")
        )
    return invitation


@durable_service
def invitation_accept(*, token: str, full_name: str, password: str) -> Member:
    """Join through an invitation in one step, whatever the join policy: the address is
    confirmed by the link, so the member is active at once, in the invited role, with the
    welcome gift; the invitation is used up. Refuses (`InvitationRefused`, nothing
    written) a bad or expired link, a missing name or a weak password; and
    (`PlanLimitReached`) a network with no place left."""
    invitation = invitation_from_token(token, lock=True)
    full_name = plain_text(
        full_name,
        name="full_name",
        limit=150,
        refusal=InvitationRefused,
        missing=_("Enter your name."),
    )
    member = Member(email=invitation.email, full_name=full_name, role=invitation.role)
    try:
        validate_password(password, user=member)
    except ValidationError as invalid:
        raise InvitationRefused(" ".join(invalid.messages), field="password") from None
    if Member.objects.filter(email=invitation.email).exists():
        raise InvitationRefused(_("You are already a member here: sign in instead."))
    plan_member_place_take()
    member.set_password(password)
    member.email_verified_at = timezone.now()
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:  # the address joined another way a moment ago
        raise InvitationRefused(_("You are already a member here: sign in instead.")) from None
    _activate(member)
    member.save(update_fields=["state"])
    audit_record(actor=member, verb="invitation.accept", target=member, after={"role": member.role})
    invitation.delete()
    return member


def invitations_expired_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete invitations expired more than `INVITATION_KEEP_EXPIRED_DAYS` ago (retention:
    an address nobody used is not kept). Audited by id only. Run by beat in every network,
    on the schedule of `members_unverified_purge`; returns how many went."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=INVITATION_KEEP_EXPIRED_DAYS)
    with transaction.atomic(durable=True):
        stale = list(
            Invitation.objects.select_for_update(skip_locked=True)
            .filter(expires_at__lt=cutoff)
            .order_by("pk")
        )
        for invitation in stale:
            reason = f"Expired over {INVITATION_KEEP_EXPIRED_DAYS} days ago"
            audit_record(
                actor=None, verb="invitation.purge_expired", target=invitation, reason=reason
            )
        Invitation.objects.filter(pk__in=[i.pk for i in stale]).delete()
    return len(stale)
