"""The curated skill tags offered on profiles. Members may add free tags beside them."""

CURATED_SKILLS = [
    "clinical skills", "coaching", "data", "digital", "leadership", "mentoring",
    "qi methods", "research", "run charts", "shadowing", "teaching", "wellbeing",
    "simulation", "patient safety", "audit", "project management", "spc charts",
    "presentation skills", "interview practice", "writing for publication",
]  # fmt: skip
