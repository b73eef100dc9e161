"""The production engine: insightface (SCRFD detection, ArcFace embedding, 512 numbers)
from a model pack directory that provisioning installs on the appliance
(`ANCHANG_EDGE_FACE_MODEL_PACK`, e.g. /var/lib/anchang/models/buffalo_l).

Licence: insightface's code is MIT, but its pretrained packs (buffalo_l, antelopev2, …)
are for non-commercial research only. A sales office is commercial use: the pack
installed in production must be one the client has licensed (from insightface's
authors or trained on licensed data). The agent never downloads a pack: insightface's
own `FaceAnalysis()` would fetch one from the internet at start, which the appliance
must not do and could not (ADR 0040, docs/operations.md).
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import Any

import numpy as np

from edge_agent.faces.engine import (
    Detection,
    Embedding,
    EngineName,
    EngineUnavailable,
    Frame,
    landmarks_of,
)

DETECT_SIZE = (640, 640)
DETECT_THRESHOLD = 0.5


def _load_pack(pack: Path) -> tuple[Any, Any, Any]:
    if not pack.is_dir() or not any(pack.glob("*.onnx")):
        raise EngineUnavailable(f"no insightface model pack (*.onnx files) at {pack}")
    try:
        model_zoo = importlib.import_module("insightface.model_zoo")
        face_type = importlib.import_module("insightface.app.common").Face
    except ImportError as exc:
        raise EngineUnavailable(
            "insightface is not installed: pip install -c constraints.txt '.[insightface]'"
        ) from exc
    detector = recognizer = None
    for file in sorted(pack.glob("*.onnx")):
        model = model_zoo.get_model(str(file), providers=["CPUExecutionProvider"])
        if model is None:
            continue
        if model.taskname == "detection" and detector is None:
            detector = model
        elif model.taskname == "recognition" and recognizer is None:
            recognizer = model
    if detector is None or recognizer is None:
        raise EngineUnavailable(f"the pack at {pack} lacks a detection or recognition model")
    detector.prepare(-1, input_size=DETECT_SIZE, det_thresh=DETECT_THRESHOLD)
    recognizer.prepare(-1)
    return detector, recognizer, face_type


class InsightFaceEngine:
    name: EngineName = "insightface"
    embedding_size = 512
    match_distance = 0.6  # cosine distance (1 − similarity); item 5 calibrates it

    def __init__(self, pack: Path) -> None:
        self._detector, self._recognizer, self._face = _load_pack(pack)
        self._lock = threading.Lock()

    def detect(self, frame: Frame) -> list[Detection]:
        with self._lock:
            boxes, points = self._detector.detect(frame, max_num=0, metric="default")
        height, width = frame.shape[:2]
        found = []
        for i, (x1, y1, x2, y2, score) in enumerate(boxes):
            left, top = max(0, round(x1)), max(0, round(y1))
            right, bottom = min(width, round(x2)), min(height, round(y2))
            if right - left < 2 or bottom - top < 2 or points is None:
                continue
            found.append(Detection(left, top, right - left, bottom - top, float(score),
                                   landmarks_of(np.asarray(points[i], dtype=np.float32))))
        return found

    def embed(self, frame: Frame, face: Detection) -> Embedding:
        subject = self._face(bbox=np.asarray(face.box, dtype=np.float32),
                             kps=np.asarray(face.landmarks, dtype=np.float32),
                             det_score=face.score)
        with self._lock:
            vector = np.asarray(self._recognizer.get(frame, subject), dtype=np.float32)
        return vector / (np.linalg.norm(vector) or 1.0)

    def distance(self, a: Embedding, b: Embedding) -> float:
        return float(1.0 - np.dot(a, b))
