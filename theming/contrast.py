"""WCAG 2.2 contrast: relative luminance, contrast ratio, and a passing shade to suggest."""

from __future__ import annotations

import colorsys
import re

AA_TEXT = 4.5
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def passing_shade(colour: str, *, against: list[str], ratio: float = AA_TEXT) -> str:
    """The nearest shade of `colour` (same hue and saturation, darker or lighter) that
    reaches `ratio` against every colour in `against`."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    hue, lightness, saturation = colorsys.rgb_to_hls(r, g, b)
    for step in range(1, 101):
        for candidate_lightness in (lightness - step / 100, lightness + step / 100):
            if not 0 <= candidate_lightness <= 1:
                continue
            rgb = colorsys.hls_to_rgb(hue, candidate_lightness, saturation)
            candidate = "#" + "".join(f"{round(c * 255):02x}" for c in rgb)
            if all(contrast_ratio(candidate, other) >= ratio for other in against):
                return candidate
    return "#000000"
