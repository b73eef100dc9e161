"""A QR code drawn in a terminal with Unicode half blocks: one character cell holds two
modules, one above the other, so a 33-module code is 37 columns by 19 lines with its
quiet zone. Printed black on white whatever the terminal's own colours, because phone
cameras expect dark modules on a light ground."""

from __future__ import annotations

import segno
from rich.console import Console
from rich.text import Text

QUIET_ZONE = 2  # modules of light margin; the white background extends it on screen
# (upper module dark, lower module dark) → the character that draws them
_CELLS = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}
_STYLE = "black on white"


def qr_lines(text: str) -> list[str]:
    """The QR code of `text` as lines of half-block characters (dark modules drawn)."""
    rows = [[bool(m) for m in row] for row in segno.make_qr(text).matrix_iter(border=QUIET_ZONE)]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    return ["".join(_CELLS[pair] for pair in zip(top, bottom, strict=True))
            for top, bottom in zip(rows[::2], rows[1::2], strict=True)]


def print_qr(console: Console, text: str) -> None:
    """Each line whole: never wrapped or cropped to the console's width."""
    for line in qr_lines(text):
        console.print(Text(line, style=_STYLE), no_wrap=True, overflow="ignore", crop=False,
                      soft_wrap=True)
