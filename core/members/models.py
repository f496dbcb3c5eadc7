"""Members: the user model. Each network's schema has its own table of members; the
public schema's table holds only platform staff accounts."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


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
    NURSE = "nurse", "Nurse"
    MIDWIFE = "midwife", "Midwife"
    DOCTOR = "doctor", "Doctor"
    AHP = "ahp", "Allied health professional"
    PHARMACIST = "pharmacist", "Pharmacist"
    SCIENTIST = "scientist", "Healthcare scientist"
    MANAGER = "manager", "Manager"
    SOCIAL_CARE = "social_care", "Social care"
    STUDENT = "student", "Student"
    OTHER = "other", "Other"


class ContactFormat(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    VIDEO = "video", "Video"
    PHONE = "phone", "Phone"


# Curated skill tags offered on the profile form; members may add free tags beside them.
CURATED_SKILLS = (
    "audit", "clinical supervision", "coaching", "data analysis", "digital health",
    "leadership", "mentoring", "patient safety", "pdsa cycles", "presentation skills",
    "process mapping", "qi methods", "research methods", "run charts", "simulation teaching",
    "spc charts", "teaching", "wellbeing", "writing for publication",
)  # fmt: skip

# Profile fields a member may show or hide from other members.
OPTIONAL_PROFILE_FIELDS = (
    "role_grade", "organisation", "bio", "photo", "availability", "preferred_formats",
    "location",
)  # fmt: skip


def default_visible_fields() -> list[str]:
    return list(OPTIONAL_PROFILE_FIELDS)


class Member(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Platform staff (public schema only).")
    date_joined = models.DateTimeField(default=timezone.now)

    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        QI_LEAD = "qi_lead", "QI lead"
        ORGANISER = "organiser", "Organiser"

    class Approval(models.TextChoices):
        APPROVED = "approved", "Approved"
        PENDING = "pending", "Waiting for an organiser"
        DECLINED = "declined", "Declined"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    approval = models.CharField(max_length=16, choices=Approval.choices, default=Approval.APPROVED)
    decline_reason = models.CharField(max_length=500, blank=True)
    # Until the address is verified a member can browse but not transact.
    email_verified_at = models.DateTimeField(null=True, blank=True)
    profession = models.CharField(max_length=16, choices=Profession.choices, blank=True)
    organisation = models.CharField(max_length=150, blank=True)
    # Lower-case skill tags ("qi methods", "teaching"): matched against listings.
    skills = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    role_grade = models.CharField("role and grade", max_length=120, blank=True)
    bio = models.TextField(max_length=2000, blank=True)
    photo = models.ImageField(upload_to="profiles/", blank=True)
    availability = models.CharField(max_length=200, blank=True)
    preferred_formats = ArrayField(
        models.CharField(max_length=10, choices=ContactFormat.choices), default=list, blank=True
    )
    location = models.CharField(max_length=120, blank=True)
    # Profile fields other members may see; name, profession and skills are always shown.
    visible_fields = ArrayField(
        models.CharField(max_length=20), default=default_visible_fields, blank=True
    )

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
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def can_transact(self) -> bool:
        return self.email_verified_at is not None and self.approval == self.Approval.APPROVED

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class JoinPolicy(models.Model):
    """How people join this network (one row per network schema)."""

    class Policy(models.TextChoices):
        OPEN = "open", "Anyone may join"
        DOMAIN = "domain", "Only email addresses at listed domains"
        APPROVAL = "approval", "An organiser approves each request"

    policy = models.CharField(max_length=16, choices=Policy.choices, default=Policy.OPEN)
    # Lower-case domains such as "nhs.net"; an address matches a domain or its subdomains.
    allowed_domains = ArrayField(models.CharField(max_length=100), default=list, blank=True)

    def __str__(self) -> str:
        return self.policy
