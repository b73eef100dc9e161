"""Render the app icons (public/*.png) from public/favicon.svg with Debian's Chromium.

Run from the repository root when the icon changes; the PNGs are committed:
    .venv/bin/python edge_agent/web/pwa/scripts/make_icons.py
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

PUBLIC = Path(__file__).resolve().parents[1] / "public"
SVG = (PUBLIC / "favicon.svg").read_text()
# name, size, full-bleed (maskable / iOS: the platform cuts its own shape), content scale
ICONS = [
    ("pwa-192.png", 192, False, 1.0),
    ("pwa-512.png", 512, False, 1.0),
    ("maskable-512.png", 512, True, 0.78),  # inside the maskable safe zone (80 %)
    ("apple-touch-icon.png", 180, True, 0.86),
]


BACKGROUND = '<rect width="512" height="512" rx="112" fill="url(#bg)"/>'


def page_for(size: int, bleed: bool, scale: float) -> str:
    """Full-bleed icons get the background as the page's and the drawing scaled inside."""
    assert BACKGROUND in SVG
    inner = SVG.replace(BACKGROUND, "") if bleed else SVG
    box = int(size * scale)
    background = "linear-gradient(135deg,#3b82f6,#1e4fd8)" if bleed else "transparent"
    return (
        f"<html><body style='margin:0;width:{size}px;height:{size}px;background:{background};"
        f"display:flex;align-items:center;justify-content:center'>"
        f"<div style='width:{box}px;height:{box}px'>{inner}</div></body></html>"
    )


def main() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu"])
        for name, size, bleed, scale in ICONS:
            page = browser.new_page(viewport={"width": size, "height": size})
            page.set_content(page_for(size, bleed, scale))
            page.screenshot(path=str(PUBLIC / name), omit_background=not bleed)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
