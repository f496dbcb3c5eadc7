"""Insights' tables. Equality monitoring: a member's optional answers, kept apart from
their profile (see core/insights/selectors/equality.py for who may read them, and how)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kernel.silo import network_model

PREFER_NOT_TO_SAY = "prefer_not_to_say"


class EthnicGroup(models.TextChoices):
    """The 19 ethnic groups of the 2021 Census of England and Wales (the sections they
    sit in are `ETHNIC_GROUP_SECTIONS`)."""

    BANGLADESHI = "asian_bangladeshi", _("Bangladeshi")
    CHINESE = "asian_chinese", _("Chinese")
    INDIAN = "asian_indian", _("Indian")
    PAKISTANI = "asian_pakistani", _("Pakistani")
    OTHER_ASIAN = "asian_other", _("Any other Asian background")
    AFRICAN = "black_african", _("African")
    CARIBBEAN = "black_caribbean", _("Caribbean")
    OTHER_BLACK = "black_other", _("Any other Black, Black British or Caribbean background")
    WHITE_ASIAN = "mixed_white_asian", _("White and Asian")
    WHITE_BLACK_AFRICAN = "mixed_white_black_african", _("White and Black African")
    WHITE_BLACK_CARIBBEAN = "mixed_white_black_caribbean", _("White and Black Caribbean")
    OTHER_MIXED = "mixed_other", _("Any other Mixed or multiple ethnic background")
    BRITISH = "white_british", _("English, Welsh, Scottish, Northern Irish or British")
    IRISH = "white_irish", _("Irish")
    GYPSY_TRAVELLER = "white_gypsy_traveller", _("Gypsy or Irish Traveller")
    ROMA = "white_roma", _("Roma")
    OTHER_WHITE = "white_other", _("Any other White background")
    ARAB = "other_arab", _("Arab")
    ANY_OTHER = "other_any", _("Any other ethnic group")
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY, "Prefer not to say"


ETHNIC_GROUP_SECTIONS: tuple[tuple[str, tuple[EthnicGroup, ...]], ...] = (
    (
        "Asian, Asian British or Asian Welsh",
        (
            EthnicGroup.BANGLADESHI,
            EthnicGroup.CHINESE,
            EthnicGroup.INDIAN,
            EthnicGroup.PAKISTANI,
            EthnicGroup.OTHER_ASIAN,
        ),
    ),
    (
        "Black, Black British, Black Welsh, Caribbean or African",
        (EthnicGroup.AFRICAN, EthnicGroup.CARIBBEAN, EthnicGroup.OTHER_BLACK),
    ),
    (
        "Mixed or multiple ethnic groups",
        (
            EthnicGroup.WHITE_ASIAN,
            EthnicGroup.WHITE_BLACK_AFRICAN,
            EthnicGroup.WHITE_BLACK_CARIBBEAN,
            EthnicGroup.OTHER_MIXED,
        ),
    ),
    (
        "White",
        (
            EthnicGroup.BRITISH,
            EthnicGroup.IRISH,
            EthnicGroup.GYPSY_TRAVELLER,
            EthnicGroup.ROMA,
            EthnicGroup.OTHER_WHITE,
        ),
    ),
    ("Other ethnic group", (EthnicGroup.ARAB, EthnicGroup.ANY_OTHER)),
)


class Gender(models.TextChoices):
    WOMAN = "woman", _("Woman")
    MAN = "man", _("Man")
    NON_BINARY = "non_binary", _("Non-binary")
    ANOTHER_WAY = "another_way", _("I describe myself in another way")
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY, "Prefer not to say"


class AgeBand(models.TextChoices):
    UNDER_25 = "16_24", _("16 to 24")
    FROM_25 = "25_34", _("25 to 34")
    FROM_35 = "35_44", _("35 to 44")
    FROM_45 = "45_54", _("45 to 54")
    FROM_55 = "55_64", _("55 to 64")
    FROM_65 = "65_plus", _("65 or over")
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY, "Prefer not to say"


class Disability(models.TextChoices):
    """The Equality Act 2010 definition: a physical or mental impairment with a
    substantial and long-term adverse effect on normal day-to-day activities."""

    YES = "yes", _("Yes")
    NO = "no", _("No")
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY, "Prefer not to say"


class Background(models.TextChoices):
    """Occupation of the main household earner when the member was about 14: the Social
    Mobility Commission's recommended question (the groups it reports by are
    `BACKGROUND_SECTIONS`)."""

    PROFESSIONAL = "professional", _("Modern or traditional professional occupations")
    MANAGER = "manager", _("Senior, middle or junior managers or administrators")
    CLERICAL = "clerical", _("Clerical and intermediate occupations")
    SMALL_BUSINESS = "small_business", _("Small business owners (fewer than 25 employees)")
    TECHNICAL = "technical", _("Technical and craft occupations")
    ROUTINE = "routine", _("Routine, semi-routine manual and service occupations")
    UNEMPLOYED = "unemployed", _("Long-term unemployed")
    OTHER = "other", _("Other (retired, not applicable, don't know)")
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY, "Prefer not to say"


BACKGROUND_EXAMPLES: dict[str, str] = {
    Background.PROFESSIONAL: "such as teacher, nurse, physiotherapist, social worker, musician, "
    "police officer (sergeant or above), software designer, accountant, solicitor, medical "
    "practitioner, scientist, civil or mechanical engineer",
    Background.MANAGER: "such as finance manager, chief executive, large business owner, office "
    "manager, retail manager, bank manager, restaurant manager, warehouse manager",
    Background.CLERICAL: "such as secretary, personal assistant, call centre agent, clerical "
    "worker, nursery nurse",
    Background.SMALL_BUSINESS: "such as corner shop owner, small plumbing company, retail shop "
    "owner, single restaurant or cafe owner, taxi owner, garage owner",
    Background.TECHNICAL: "such as motor mechanic, plumber, printer, electrician, gardener, "
    "train driver",
    Background.ROUTINE: "such as postal worker, machine operative, security guard, caretaker, "
    "farm worker, catering assistant, sales assistant, HGV driver, cleaner, porter, packer, "
    "labourer, waiter or waitress, bar staff",
    Background.UNEMPLOYED: "having claimed Jobseeker's Allowance or earlier unemployment "
    "benefit for more than a year",
    Background.OTHER: "such as retired, this question does not apply to me, I don't know",
}

BACKGROUND_SECTIONS: tuple[tuple[str, tuple[Background, ...]], ...] = (
    ("Professional background", (Background.PROFESSIONAL, Background.MANAGER)),
    ("Intermediate background", (Background.CLERICAL, Background.SMALL_BUSINESS)),
    (
        "Lower socio-economic background",
        (Background.TECHNICAL, Background.ROUTINE, Background.UNEMPLOYED),
    ),
)


@network_model
class EqualityAnswers(models.Model):
    """One member's answers to the equality monitoring questions, given with consent.

    A row exists only while the member consents: withdrawing deletes it. The answers are
    never shown to anyone but the member, never exported, never in the API for anyone
    else, and reach organisers and staff only as suppressed aggregate counts. There is no
    reverse accessor on Member, so no profile query or serializer can reach them by accident.
    """

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    ethnic_group = models.CharField(max_length=32, choices=EthnicGroup.choices)
    gender = models.CharField(max_length=32, choices=Gender.choices)
    age_band = models.CharField(max_length=32, choices=AgeBand.choices)
    disability = models.CharField(max_length=32, choices=Disability.choices)
    background = models.CharField(max_length=32, choices=Background.choices)
    # When the member last saved their answers, ticking the consent box to do so.
    consented_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "equality answers"
        permissions = [
            ("view_equality_report", "Can see the network's equality report (aggregates only)")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(**{f"{field}__in": choices.values}),
                name=f"insights_equality_{field}_known",
            )
            for field, choices in (
                ("ethnic_group", EthnicGroup),
                ("gender", Gender),
                ("age_band", AgeBand),
                ("disability", Disability),
                ("background", Background),
            )
        ]

    def __str__(self) -> str:
        return f"equality answers of member {self.member_id}"


@network_model
class EqualitySnapshot(models.Model):
    """The raw figures an organiser's equality report is published from: taken once per
    calendar month (by beat on the 1st, or by the month's first report), so that two
    reports in a month are the same report and cannot be differenced around one member's
    change. Only the current month's is kept.

    Counts by (question, answer) only, never a member; read only by
    core/insights/selectors/equality.py, which suppresses and rounds them before anyone
    sees them.
    """

    month = models.DateField(unique=True, help_text="The first day of the month it is for.")
    taken_at = models.DateTimeField()
    # [[question, answer, members, active, givers, given, receivers, received], ...]
    figures = models.JSONField()

    def __str__(self) -> str:
        return f"equality figures for {self.month:%B %Y}"


@network_model
class MapSnapshot(models.Model):
    """The network map for one date range, computed by the metrics task and served as it is
    stored (core/insights/services/map.py): the API's JSON gzipped with its ETag, and the page's
    tables rendered. Viewer-independent: names follow each member's choices as they were
    when it was computed, and `hidden` fingerprints those choices so a change since (an
    opt-out) is noticed before anything is served.

    A large network's map is stored as an overview of groups (`group` ""), plus one row per
    group with that group's members (`group` its key)."""

    range_key = models.CharField(max_length=24, help_text='"start..end", either side may be ""')
    group = models.CharField(max_length=80, blank=True)
    computed_at = models.DateTimeField()
    etag = models.CharField(max_length=64)
    body = models.BinaryField(help_text="The API's JSON, gzipped.")
    table_html = models.TextField()
    summary = models.JSONField(default=dict)
    # {"m<member id>": node id} for every member on the map, so a viewer is told which node is
    # them (an anonymous one included). Never served.
    member_nodes = models.JSONField(default=dict)
    hidden = models.CharField(max_length=64, help_text="map_store.hidden_fingerprint()")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["range_key", "group"], name="insights_map_once")
        ]

    def __str__(self) -> str:
        return f"network map {self.range_key or 'all time'} {self.group}".strip()
