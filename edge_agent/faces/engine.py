"""The recognition engine interface (ADR 0040): find faces in a frame, embed one face.

Two engines implement it: `yunet_dlib` (models that ship inside registry packages, so
the tests and the demo run the real pipeline on a bare machine) and `insightface` (the
production engine, from a model pack that provisioning installs on the appliance).
Embeddings stay in the agent's memory and its store: nothing here leaves the appliance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]  # BGR, height × width × 3, as OpenCV decodes it
Embedding = npt.NDArray[np.float32]
EngineName = Literal["yunet_dlib", "insightface"]


@dataclass(frozen=True)
class Detection:
    """A face in one frame, in that frame's pixels."""

    x: int
    y: int
    width: int
    height: int
    score: float
    # Five points (right eye, left eye, nose tip, right and left mouth corners, as seen
    # in the picture: the person's right eye is on the image's left) — both engines'
    # detectors give them in this order.
    landmarks: tuple[tuple[float, float], ...]

    @property
    def box(self) -> tuple[int, int, int, int]:
        """x1, y1, x2, y2."""
        return self.x, self.y, self.x + self.width, self.y + self.height


class EngineUnavailable(RuntimeError):
    """The engine's library or model files are not on this appliance."""


class FaceEngine(Protocol):
    name: EngineName
    embedding_size: int
    # Below this distance two embeddings are taken for the same person (the engine's
    # own scale: dlib's Euclidean, insightface's cosine distance); item 5 calibrates it.
    match_distance: float

    def detect(self, frame: Frame) -> list[Detection]: ...

    def embed(self, frame: Frame, face: Detection) -> Embedding: ...

    def distance(self, a: Embedding, b: Embedding) -> float: ...


def landmarks_of(points: npt.NDArray[np.float32]) -> tuple[tuple[float, float], ...]:
    return tuple((float(x), float(y)) for x, y in points.reshape(5, 2))
