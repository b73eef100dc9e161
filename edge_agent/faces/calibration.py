"""Calibrating the match threshold on a labelled set (ADR 0047): the true-accept rate at a
fixed false-accept rate, recomputed by `python -m edge_agent.faces.calibration`.

The labelled set is built from photographs that ship inside registry packages (assets.py):
six people of the group photo, a portrait, three photographs of one person and one of
another — nine identities, four of them with more than one photograph. Each face is cut
out with a margin and varied as a camera at the door varies it (mirrored, lit up and
down, low contrast, JPEG at low quality, blurred, shrunk to a small face, tilted), then
detected and embedded again with the engine, as the pipeline would. Genuine pairs are two
samples of one identity, impostor pairs two of different identities; the threshold is the
lowest cosine similarity at which at most `far` of the impostor pairs are accepted.

Nine identities make a small set: its impostor pairs come from 36 pairs of people, so
the false-accept rate it can show is coarse (docs/cameras.md says what was measured);
the site's own enrolment grows the evidence, and the setting overrides the threshold.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from edge_agent.faces import assets
from edge_agent.faces.engine import Detection, FaceEngine, Frame
from edge_agent.faces.matching import normalise

FAR_TARGET = 0.001
MARGIN = 0.6  # of the face's size, around it, so the detector sees a head and shoulders


@dataclass(frozen=True)
class Calibration:
    threshold: float
    far_target: float
    far: float  # measured at the threshold
    tar: float
    tar_across_photographs: float  # genuine pairs from different photographs only
    identities: int
    samples: int
    genuine_pairs: int
    impostor_pairs: int


def _u8(image: npt.NDArray[np.generic] | None) -> Frame:
    if image is None:
        raise assets.AssetError("an image did not decode")
    return np.asarray(image, dtype=np.uint8)


def _read(folder: Path, asset: assets.Asset) -> Frame:
    return _u8(cv2.imread(str(assets.path_of(asset, folder)), cv2.IMREAD_COLOR))


def _cut(frame: Frame, face: Detection) -> Frame:
    pad_x, pad_y = int(face.width * MARGIN), int(face.height * MARGIN)
    x1, y1 = max(0, face.x - pad_x), max(0, face.y - pad_y)
    x2 = min(frame.shape[1], face.x + face.width + pad_x)
    y2 = min(frame.shape[0], face.y + face.height + pad_y)
    cut: Frame = np.ascontiguousarray(frame[y1:y2, x1:x2])
    scale = 320 / max(cut.shape[:2])  # one size for every source photograph
    return _u8(cv2.resize(cut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))


def variants(cut: Frame) -> list[Frame]:
    """The cut-out and how a camera at the door changes it."""
    height, width = cut.shape[:2]
    _, jpeg = cv2.imencode(".jpg", cut, [cv2.IMWRITE_JPEG_QUALITY, 20])
    small = cv2.resize(cv2.resize(cut, None, fx=0.45, fy=0.45), (width, height))
    tilt = cv2.warpAffine(cut, cv2.getRotationMatrix2D((width / 2, height / 2), 8, 1.0),
                          (width, height), borderMode=cv2.BORDER_REPLICATE)
    return [cut] + [_u8(v) for v in (
        cv2.flip(cut, 1), cv2.convertScaleAbs(cut, alpha=1.1, beta=45),
        cv2.convertScaleAbs(cut, alpha=0.6, beta=0),
        cv2.convertScaleAbs(cut, alpha=0.7, beta=40), cv2.imdecode(jpeg, cv2.IMREAD_COLOR),
        cv2.GaussianBlur(cut, (0, 0), 1.6), small, tilt)]


def _largest(faces: list[Detection]) -> Detection | None:
    return max(faces, key=lambda f: f.width * f.height, default=None)


def labelled_cuts(engine: FaceEngine, folder: Path) -> list[tuple[str, str, Frame]]:
    """(identity, photograph, cut-out) for every labelled face."""
    cuts: list[tuple[str, str, Frame]] = []
    group = _read(folder, assets.GROUP_PHOTO)
    for i, face in enumerate(sorted(engine.detect(group), key=lambda f: f.x)):
        cuts.append((f"group-{i}", assets.GROUP_PHOTO.name, _cut(group, face)))
    for identity, asset in (("portrait", assets.PORTRAIT), ("obama", assets.OBAMA),
                            ("obama", assets.OBAMA2), ("obama", assets.OBAMA3),
                            ("biden", assets.BIDEN)):
        image = _read(folder, asset)
        largest = _largest(engine.detect(image))
        if largest is None:
            raise assets.AssetError(f"no face found in {asset.name}")
        cuts.append((identity, asset.name, _cut(image, largest)))
    return cuts


def embed_set(engine: FaceEngine, folder: Path) -> tuple[list[str], list[str],
                                                          npt.NDArray[np.float32]]:
    identities, photos, vectors = [], [], []
    for identity, photo, cut in labelled_cuts(engine, folder):
        for frame in variants(cut):
            face = _largest(engine.detect(frame))
            if face is None:  # the variant hid the face from the detector: not a sample
                continue
            identities.append(identity)
            photos.append(photo)
            vectors.append(engine.embed(frame, face))
    return identities, photos, normalise(np.stack(vectors))


def calibrate_scores(identities: list[str], photos: list[str],
                     unit: npt.NDArray[np.float32], far: float = FAR_TARGET) -> Calibration:
    scores = unit @ unit.T
    ids, pics = np.asarray(identities), np.asarray(photos)
    upper = np.triu(np.ones_like(scores, dtype=bool), k=1)
    same = (ids[:, None] == ids[None, :]) & upper
    other = (ids[:, None] != ids[None, :]) & upper
    across = same & (pics[:, None] != pics[None, :])
    impostor = np.sort(scores[other])[::-1]
    allowed = int(far * impostor.size)  # false accepts the target lets through
    threshold = float(impostor[allowed]) + 1e-4  # strictly above the first refused
    genuine = scores[same]
    return Calibration(
        threshold=round(threshold, 4), far_target=far,
        far=float(np.mean(impostor >= threshold)), tar=float(np.mean(genuine >= threshold)),
        tar_across_photographs=float(np.mean(scores[across] >= threshold)),
        identities=len(set(identities)), samples=len(identities),
        genuine_pairs=int(same.sum()), impostor_pairs=int(impostor.size))


def calibrate(engine: FaceEngine, folder: Path = assets.DEFAULT_DIR,
              far: float = FAR_TARGET) -> Calibration:
    return calibrate_scores(*embed_set(engine, folder), far=far)


if __name__ == "__main__":
    from edge_agent.faces.yunet_dlib import YuNetDlibEngine

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else assets.DEFAULT_DIR
    sys.stdout.write(f"{calibrate(YuNetDlibEngine(folder), folder)}\n")
