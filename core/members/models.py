"""Members: the user model. Each network's schema has its own table of members; the
public schema's table holds only platform staff accounts."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Length, Lower
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.silo import public_and_network_model


class MemberManager(BaseUserManager["Member"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> Member:
        if not email:
            raise ValueError("An email address is required.")
        member = self.model(email=self.normalize_email(email).lower(), **fields)
        member.set_password(password)
        member.save(using=self._db)
        return member

    def get_by_natural_key(self, username: str | None) -> Member:
        return self.get(email__iexact=username)

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> Member:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class Profession(models.TextChoices):
    NURSE = "nurse", _("Nurse")
    MIDWIFE = "midwife", _("Midwife")
    DOCTOR = "doctor", _("Doctor")
    AHP = "ahp", _("Allied health professional")
    PHARMACIST = "pharmacist", _("Pharmacist")
    SCIENTIST = "scientist", _("Healthcare scientist")
    MANAGER = "manager", _("Manager")
    SOCIAL_CARE = "social_care", _("Social care")
    STUDENT = "student", _("Student")
    OTHER = "other", _("Other")


class Role(models.TextChoices):
    MEMBER = "member", _("Member")
    QI_LEAD = "qi_lead", _("QI lead")
    ORGANISER = "organiser", _("Organiser")


class MemberState(models.TextChoices):
    """Where a member is in joining. Only `active` members may transact."""

    UNVERIFIED = "unverified", _("Email not yet verified")
    AWAITING_APPROVAL = "awaiting_approval", _("Waiting for an organiser's approval")
    ACTIVE = "active", _("Active")
    DECLINED = "declined", _("Declined")
    # An organiser stopped the account: it cannot sign in, and everything it holds (profile,
    # listings, credit, history) is kept until an organiser reactivates it.
    DEACTIVATED = "deactivated", _("Deactivated")
    # The member closed their account: personal data erased, the row kept (anonymised) so
    # exchanges, projects and the ledger still name "A former member".
    CLOSED = "closed", _("Account closed")


# The name a closed account shows everywhere it used to show the member's own.
FORMER_MEMBER_NAME = "A former member"
# Accounts that take no place under the plan and are not listed among the members.
NOT_MEMBERS = (MemberState.DECLINED, MemberState.CLOSED)


class ContactFormat(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    VIDEO = "video", _("Video call")
    PHONE = "phone", _("Phone")


class ProfileVisibility(models.TextChoices):
    NETWORK = "network", _("Everyone in this network sees my whole profile")
    NAME_ONLY = "name_only", _("Others see only my name, profession and organisation")


BIO_MAX = 2000


@public_and_network_model
class Member(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Platform staff (public schema only).")
    date_joined = models.DateTimeField(default=timezone.now)
    profession = models.CharField(max_length=16, choices=Profession.choices, blank=True)
    organisation = models.CharField(max_length=150, blank=True)
    # Lower-case skill tags ("qi methods", "teaching"): matched against listings.
    skills = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    job_title = models.CharField("role and grade", max_length=120, blank=True)
    bio = models.TextField(blank=True)  # plain text, escaped when shown
    availability = models.CharField(max_length=200, blank=True)
    preferred_formats = ArrayField(
        models.CharField(max_length=16, choices=ContactFormat.choices), default=list, blank=True
    )
    location = models.CharField(max_length=120, blank=True)
    # Stored through the default storage, which puts each network's uploads in its own folder.
    photo = models.ImageField(upload_to="profiles/", blank=True)
    profile_visibility = models.CharField(
        max_length=16, choices=ProfileVisibility.choices, default=ProfileVisibility.NETWORK
    )
    # Off: the network map shows this member as an anonymous node ("A member").
    show_on_map = models.BooleanField(default=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    # The language the member chose with the switcher ("" = the network's default), one of
    # settings.LANGUAGES (checked by member_language_set; no choices here, so adding a
    # language needs no migration).
    language = models.CharField(max_length=8, blank=True)
    # Accounts made by operators and the demo start active; `member_join` starts unverified.
    state = models.CharField(max_length=24, choices=MemberState.choices, default=MemberState.ACTIVE)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # The verification email's outbox: pending until sent (core.members.tasks), queued
    # again by a sweep if its message was lost (core.members.services).
    verification_pending = models.BooleanField(default=False)
    verification_queued_at = models.DateTimeField(null=True, blank=True)
    declined_reason = models.CharField(max_length=500, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[MemberManager] = MemberManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        constraints = [
            # Emails are stored lower-cased, so `unique=True` is case-insensitive.
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="member_email_lowercase"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="member_role_known"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=MemberState.values), name="member_state_known"
            ),
            models.CheckConstraint(
                condition=models.Q(profile_visibility__in=ProfileVisibility.values),
                name="member_profile_visibility_known",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("bio"), BIO_MAX), name="member_bio_length"
            ),
            models.CheckConstraint(
                condition=models.Q(state="closed", closed_at__isnull=False)
                | (~models.Q(state="closed") & models.Q(closed_at__isnull=True)),
                name="member_closed_at_when_closed",
            ),
        ]
        indexes = [
            models.Index(
                fields=["date_joined"],
                condition=models.Q(state="awaiting_approval"),
                name="member_approval_queue",
            ),
            # The retention purge's scan of sign-ups never verified.
            models.Index(
                fields=["date_joined"],
                condition=models.Q(state="unverified"),
                name="member_unverified_since",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def preferred_format_labels(self) -> list[str]:
        return [str(ContactFormat(value).label) for value in self.preferred_formats]

    @property
    def can_transact(self) -> bool:
        return self.state == MemberState.ACTIVE

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


@public_and_network_model
class ApiToken(models.Model):
    """A member's personal API token. Only its SHA-256 digest is stored: the token itself is
    shown once, when it is made (core.members.services.api_token_create)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)  # the token's first characters, to tell them apart
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"


@public_and_network_model
class Invitation(models.Model):
    """An organiser's invitation to one email address, pending until the person accepts
    (then it is deleted: the member row takes over), an organiser revokes it (deleted), or
    the retention purge removes it some time after it expired. Its link is signed with
    `sent_at`, so sending it again replaces the old link."""

    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    invited_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # The email's outbox, as for notifications: pending from the commit that (re)sends the
    # invitation until the email has left; the sweep queues again what is still pending
    # a grace period after it was queued (core.members.tasks).
    email_pending = models.BooleanField(default=False)
    email_queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="invitation_email_lowercase"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="invitation_role_known"
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="invitation_expires_idx"),
            models.Index(
                fields=["email_queued_at"],
                condition=models.Q(email_pending=True),
                name="invitation_email_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()


class JoinPolicy(models.TextChoices):
    OPEN = "open", _("Anyone may join")
    EMAIL_DOMAIN = "email_domain", _("Only people with an email address at an allowed domain")
    APPROVAL = "approval", _("An organiser approves each new member")


@public_and_network_model
class JoinSettings(models.Model):
    """How people join this network: one row per network schema (id is always 1)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    policy = models.CharField(max_length=16, choices=JoinPolicy.choices, default=JoinPolicy.OPEN)
    # Lower-case domains without "@", e.g. "nhs.net". Subdomains match too.
    allowed_domains = ArrayField(models.CharField(max_length=253), default=list, blank=True)

    class Meta:
        verbose_name_plural = "join settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="join_settings_single_row"),
            models.CheckConstraint(
                condition=models.Q(policy__in=JoinPolicy.values), name="join_settings_policy_known"
            ),
            # An allow-list policy with an empty list would let nobody in.
            models.CheckConstraint(
                condition=~models.Q(policy="email_domain", allowed_domains=[]),
                name="join_settings_domains_when_allow_list",
            ),
        ]

    def __str__(self) -> str:
        return self.get_policy_display()


@public_and_network_model
class Block(models.Model):
    """`blocker` blocked `blocked`: from then on neither responds to the other's listings,
    messages the other or books the other's sessions, and each side's listings are hidden
    from the other. Only the blocker knows: the blocked side is refused as for anything
    else not available. Both are members of this network (see docs/decisions.md for
    members of partner networks)."""

    blocker = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="blocks_made",
        db_index=False,  # block_once leads with it
    )
    blocked = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # block_blocked_idx leads with it
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_once"),
            models.CheckConstraint(
                condition=~models.Q(blocker=models.F("blocked")), name="block_not_self"
            ),
        ]
        indexes = [models.Index(fields=["blocked"], name="block_blocked_idx")]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocked {self.blocked_id}"
