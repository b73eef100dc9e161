"""The share card (分享卡片) of a broker's share link: the title, the line under it and
the square picture WeChat (and other apps) show for the link. The H5's share page puts
them in its document title and meta tags (og:title, og:description, og:image); the
picture is drawn here with the poster's CJK font."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from cloud.channel.lead_schemas import PublicProject, PublicShareOut, ShareCard
from cloud.channel.signin.poster import BRAND_DARK, BRAND_LIGHT, cjk_font, found_font, shorten

DESC_CHARS = 60  # WeChat cuts a card's description at about two lines
SIDE = 300  # pixels: WeChat shows the picture square, at least 200 × 200


def card(share: PublicShareOut, image_url: str) -> ShareCard:
    if share.campaign is not None:
        title = share.campaign.title
        lead = share.campaign.announcement or "、".join(p.name for p in share.projects)
    else:
        project = share.projects[0]
        title = project.name + (f"｜{project.district}" if project.district else "")
        lead = _facts(project)
    desc = f"{share.broker_name}为您推荐" + (f" · {lead}" if lead else "")
    return ShareCard(title=title[:64], desc=desc if len(desc) <= DESC_CHARS
                     else desc[:DESC_CHARS - 1] + "…", image_url=image_url)


def _facts(project: PublicProject) -> str:
    parts = []
    low, high = project.price_min_yuan, project.price_max_yuan
    if low and high:
        parts.append(f"总价 {low // 10_000}–{high // 10_000} 万")
    elif low:
        parts.append(f"总价 {low // 10_000} 万起")
    if project.layouts:
        parts.append("、".join(project.layouts[:3]))
    return " · ".join(parts)


def picture(share: PublicShareOut, font_path: str | None = None) -> bytes:
    """A square in the project's colours with the project's or campaign's name; without
    a CJK font, the square alone (never boxes in place of characters)."""
    name = share.campaign.title if share.campaign else share.projects[0].name
    image = Image.new("RGB", (SIDE, SIDE), BRAND_DARK)
    draw = ImageDraw.Draw(image)
    draw.rectangle((12, 12, SIDE - 13, SIDE - 13), outline=BRAND_LIGHT, width=3)
    font_file = font_path or found_font()
    if font_file is not None:
        text = shorten(name)
        lines = [text[i:i + 6] for i in range(0, min(len(text), 18), 6)]
        big = cjk_font(font_file, 40)
        top = SIDE // 2 - 26 * len(lines)
        for i, line in enumerate(lines):
            draw.text((SIDE // 2, top + 52 * i), line, font=big, fill=BRAND_LIGHT, anchor="mt")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
