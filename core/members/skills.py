"""The curated skill tags offered on profiles. Members may add free tags beside them.

Tags are stored lower-case (so "Coaching" and "coaching" are one tag); people read them in
sentence case, with the field's acronyms in capitals."""

CURATED_SKILLS = [
    "clinical skills",
    "coaching",
    "data",
    "digital",
    "leadership",
    "mentoring",
    "qi methods",
    "research",
    "run charts",
    "shadowing",
    "teaching",
    "wellbeing",
    "simulation",
    "patient safety",
    "audit",
    "project management",
    "spc charts",
    "presentation skills",
    "interview practice",
    "writing for publication",
]

# Quality improvement (QI) and statistical process control (SPC) charts.
_ACRONYMS = {"qi": "QI", "spc": "SPC"}


def skill_label(tag: str) -> str:
    """`qi methods` -> `QI methods`; `run charts` -> `Run charts`."""
    words = [_ACRONYMS.get(word, word) for word in tag.split(" ")]
    first = words[0] if words[0] in _ACRONYMS.values() else words[0].capitalize()
    return " ".join([first, *words[1:]])


SKILL_CHOICES = [(tag, skill_label(tag)) for tag in CURATED_SKILLS]
