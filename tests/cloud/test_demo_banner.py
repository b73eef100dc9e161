"""`make demo` prints the kiosk's setup link whole on one line, however narrow the
terminal, and as a QR code that holds exactly that link."""

from __future__ import annotations

import io

import pytest
import segno
from rich.console import Console

from cloud.demo import kiosk_setup_link, print_kiosk_setup
from cloud.terminal_qr import QUIET_ZONE
from shared.crypto import new_key

UPPER, LOWER = "█▀", "█▄"  # the characters that draw a dark upper / lower module


def modules(qr_block: list[str]) -> list[list[bool]]:
    """Read printed half-block lines back into rows of dark (True) and light modules."""
    rows: list[list[bool]] = []
    for line in qr_block:
        rows.append([c in UPPER for c in line])
        rows.append([c in LOWER for c in line])
    return rows


@pytest.mark.parametrize("columns", ["40", "200"])
def test_the_setup_link_is_whole_and_its_qr_code_holds_it(
    monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    out = io.StringIO()
    console = Console(file=out)
    assert console.width == int(columns)
    link = kiosk_setup_link("http://127.0.0.1:8100", new_key())
    assert len(link) > 40  # longer than the narrow terminal is wide

    print_kiosk_setup(console, link)

    lines = out.getvalue().splitlines()
    assert link in lines  # one line, not cut or folded into pieces by rich
    qr_block = lines[lines.index(link) + 1:]
    expected = [[bool(m) for m in row]
                for row in segno.make_qr(link).matrix_iter(border=QUIET_ZONE)]
    printed = modules(qr_block)
    assert printed[:len(expected)] == expected
    assert not any(any(row) for row in printed[len(expected):])  # only the padding row
    width = len(expected[0])
    assert {len(line) for line in qr_block} == {width} and width <= 40

