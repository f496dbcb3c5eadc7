"""The icons a network's installed app shows (home screen, app switcher, splash screen),
drawn with Pillow from its logo, or Hexitime's hexagon in its colours when it has none."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, UnidentifiedImageError

from .models import Theme

# Android's launcher and splash screen (192, 512), iOS's home screen (180).
SIZES = (180, 192, 512)
# A maskable icon may be cut to a circle: what matters stays in the middle 80%.
MASKABLE_SAFE = 0.8
BACKGROUND = "#ffffff"


def icon_png(theme: Theme, *, size: int, maskable: bool = False) -> bytes:
    """The network's icon, `size` pixels square, as PNG. A PNG logo is fitted inside, on
    white; an SVG logo (Pillow does not draw SVG) or none gives the default hexagon."""
    logo = _logo(theme)
    if logo is None:
        image = Image.new("RGB", (size, size), theme.primary_colour if maskable else BACKGROUND)
        _hexagon(
            image,
            theme.primary_colour,
            share=MASKABLE_SAFE * 0.9 if maskable else 0.96,
            fill_white=maskable,
        )
    else:
        image = Image.new("RGB", (size, size), BACKGROUND)
        room = int(size * (MASKABLE_SAFE * 0.9 if maskable else 0.9))
        logo.thumbnail((room, room), Image.Resampling.LANCZOS)
        image.paste(logo, ((size - logo.width) // 2, (size - logo.height) // 2), logo)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _logo(theme: Theme) -> Image.Image | None:
    if not theme.logo or not (theme.logo.name or "").endswith(".png"):
        return None
    try:
        with theme.logo.open("rb") as stored:
            return Image.open(io.BytesIO(stored.read())).convert("RGBA")
    except (OSError, UnidentifiedImageError):
        return None  # a file gone missing from storage: the default rather than an error


def _hexagon(image: Image.Image, colour: str, *, share: float, fill_white: bool) -> None:
    """favicon.svg's hexagon with its H, `share` of the image's height, centred."""
    size = image.width
    scale = size * share / 30  # the SVG's hexagon is 30 units tall (1 to 31)
    left, top = (size - 26 * scale) / 2, (size - 30 * scale) / 2

    def at(x: float, y: float) -> tuple[float, float]:
        return (left + (x - 3) * scale, top + (y - 1) * scale)

    draw = ImageDraw.Draw(image)
    shape, letter = ("#ffffff", colour) if fill_white else (colour, "#ffffff")
    draw.polygon(
        [at(16, 1), at(29, 8.5), at(29, 23.5), at(16, 31), at(3, 23.5), at(3, 8.5)], fill=shape
    )
    for x0, y0, x1, y1 in ((11, 9, 14, 23), (18, 9, 21, 23), (14, 14, 18, 17)):
        draw.rectangle([at(x0, y0), at(x1, y1)], fill=letter)
