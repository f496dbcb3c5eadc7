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

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email
