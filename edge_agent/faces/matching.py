"""Matching a finished track's embedding against the site's gallery (ADR 0047): cosine
similarity of unit vectors, one matrix product over every template, the best template per
identity. The threshold is the one calibrated on the labelled set (calibration.py) for
the engine, unless the appliance's setting overrides it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge_agent.faces.engine import Embedding, EngineName

# Calibrated at FAR 0.1 % on the labelled set (docs/cameras.md; `python -m
# edge_agent.faces.calibration` recomputes it). insightface's is ArcFace's usual cosine
# threshold, to be calibrated with the licensed pack on the appliance.
MATCH_SIMILARITY: dict[EngineName, float] = {"yunet_dlib": 0.92, "insightface": 0.40}


def normalise(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    unit: npt.NDArray[np.float32] = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


@dataclass(frozen=True)
class Match:
    person_id: uuid.UUID
    kind: str
    score: float


class Gallery:
    """The templates of the site's identities in memory, as one matrix (rebuilt from the
    store when face use is switched on; changed in place as identities come and go)."""

    def __init__(self, threshold: float, size: int) -> None:
        self.threshold = threshold
        self._people: list[uuid.UUID] = []
        self._matrix: npt.NDArray[np.float32] = np.zeros((0, size), np.float32)
        self.kinds: dict[uuid.UUID, str] = {}

    def __len__(self) -> int:
        return len(self.kinds)

    def load(self, rows: list[tuple[uuid.UUID, str, Embedding]]) -> None:
        """Every template at once (one matrix built, not one per template)."""
        if not rows:
            return
        self._people.extend(person_id for person_id, _, _ in rows)
        self._matrix = np.vstack([self._matrix, normalise(np.stack([e for _, _, e in rows]))])
        self.kinds.update((person_id, kind) for person_id, kind, _ in rows)

    def add(self, person_id: uuid.UUID, kind: str, embedding: Embedding) -> None:
        self._people.append(person_id)
        self._matrix = np.vstack([self._matrix, normalise(embedding.reshape(1, -1))])
        self.kinds[person_id] = kind

    def remove(self, person_ids: set[uuid.UUID]) -> None:
        keep = [i for i, p in enumerate(self._people) if p not in person_ids]
        self._people = [self._people[i] for i in keep]
        self._matrix = self._matrix[keep]
        for person_id in person_ids:
            self.kinds.pop(person_id, None)

    def templates_of(self, person_id: uuid.UUID) -> int:
        return self._people.count(person_id)

    def best(self, embedding: Embedding) -> Match | None:
        """The identity most like `embedding`, if it is at or above the threshold."""
        if not self._people:
            return None
        scores = self._matrix @ normalise(embedding.reshape(1, -1))[0]
        best = int(np.argmax(scores))
        score = float(scores[best])
        if score < self.threshold:
            return None
        person_id = self._people[best]
        return Match(person_id, self.kinds[person_id], min(max(score, 0.0), 1.0))
