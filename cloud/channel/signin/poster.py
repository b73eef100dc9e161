"""The invite poster (邀请海报): the link's QR code under a caption — who invites, their
agency, the project recommended — drawn with Pillow in a CJK font (Noto Sans CJK from
Debian's fonts-noto-cjk, or ANCHANG_CLOUD_POSTER_FONT). Without a CJK font the poster is
the QR code alone, never boxes in place of characters (ADR 0043)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import segno
import structlog
from PIL import Image, ImageDraw, ImageFont

log = structlog.get_logger()

BRAND_DARK = "#8b1a1a"  # the project's red, as on the console's login page
BRAND_LIGHT = "#fffaf0"
TEXT_GREY = "#5c4a3d"
# Where Debian's fonts-noto-cjk puts Noto Sans CJK; the .ttc holds JP, KR, SC, TC, HK faces.
CJK_FONTS: tuple[str, ...] = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
SC_FACE = "SC"  # the face with Simplified Chinese glyph shapes
MAX_LINE = 18  # characters: a name or project longer than this is cut with …


@dataclass(frozen=True)
class Caption:
    inviter: str
    agency: str | None
    project: str | None
    code: str


def poster(link: str, caption: Caption | None, font_path: str | None = None) -> bytes:
    qr = segno.make(link, error="m")
    raw = io.BytesIO()
    qr.save(raw, kind="png", scale=10, border=6, dark=BRAND_DARK, light=BRAND_LIGHT)
    font_file = font_path if font_path and Path(font_path).is_file() else found_font()
    if caption is None or font_file is None:
        if caption is not None:
            log.warning("poster_without_caption", hint="install fonts-noto-cjk or set "
                        "ANCHANG_CLOUD_POSTER_FONT")
        return raw.getvalue()
    code_image = Image.open(io.BytesIO(raw.getvalue())).convert("RGB")
    title, small = cjk_font(font_file, 34), cjk_font(font_file, 24)
    lines = [(f"{shorten(caption.inviter)} 邀请您加入全民营销", title, BRAND_DARK),
             (shorten(caption.agency) if caption.agency else "个人推荐", small, TEXT_GREY)]
    if caption.project:
        lines.append((f"推荐楼盘：{shorten(caption.project)}", small, TEXT_GREY))
    footer = (f"扫码注册 · 邀请码 {caption.code}", small, BRAND_DARK)
    pad, gap = 40, 14
    width = max(code_image.width, *(int(font.getlength(text)) + 2 * pad
                                     for text, font, _ in [*lines, footer]))
    heights = [_height(font, text) for text, font, _ in [*lines, footer]]
    top = pad + sum(heights[:-1]) + gap * (len(lines) - 1)
    canvas = Image.new("RGB", (width, top + code_image.height + heights[-1] + pad),
                       BRAND_LIGHT)
    draw = ImageDraw.Draw(canvas)
    y = pad
    for (text, font, colour), height in zip(lines, heights, strict=False):
        draw.text((width // 2, y), text, font=font, fill=colour, anchor="mt")
        y += height + gap
    canvas.paste(code_image, ((width - code_image.width) // 2, top))
    draw.text((width // 2, top + code_image.height), footer[0], font=footer[1],
              fill=footer[2], anchor="mt")
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


def shorten(text: str) -> str:
    return text if len(text) <= MAX_LINE else text[:MAX_LINE - 1] + "…"


def _height(font: ImageFont.FreeTypeFont, text: str) -> int:
    return int(font.getbbox(text, anchor="lt")[3]) + 4


def found_font() -> str | None:
    return next((path for path in CJK_FONTS if Path(path).is_file()), None)


@lru_cache(maxsize=8)
def cjk_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """The Simplified Chinese face of a collection (a .ttc's first face is Japanese)."""
    for index in range(10):
        try:
            font = ImageFont.truetype(path, size, index=index)
        except OSError:
            break
        family = font.getname()[0] or ""
        if family.endswith((SC_FACE, "Micro Hei")):
            return font
    return ImageFont.truetype(path, size)
