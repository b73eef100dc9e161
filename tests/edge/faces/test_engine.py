"""The bare-machine engine (YuNet + dlib) on real photographs, the quality gates, and the
production engine's refusals when its pack or library is missing."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from edge_agent.faces import engines
from edge_agent.faces.engine import Detection, EngineUnavailable
from edge_agent.faces.insightface_engine import InsightFaceEngine
from edge_agent.faces.quality import QualityGates, judge, pose
from edge_agent.faces.service import load_engine
from edge_agent.faces.yunet_dlib import YuNetDlibEngine
from tests.edge.helpers import make_settings


def test_finds_every_face_of_a_group_photo(engine: YuNetDlibEngine,
                                          group_photo: np.ndarray) -> None:
    faces = engine.detect(group_photo)
    assert len(faces) == 6
    height, width = group_photo.shape[:2]
    for face in faces:  # boxes in the frame's own pixels, although detected on a copy
        x1, y1, x2, y2 = face.box
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        assert 60 <= face.width <= 200 and face.score >= 0.8
        (rx, _), (lx, _), (nx, ny), _, _ = face.landmarks
        assert x1 <= rx < nx < lx <= x2 and y1 <= ny <= y2
    assert engine.detect(np.full((480, 640, 3), 90, np.uint8)) == []


def test_same_person_is_near_and_different_people_are_far(
        engine: YuNetDlibEngine, group_photo: np.ndarray) -> None:
    faces = sorted(engine.detect(group_photo), key=lambda f: f.x)[:3]
    mirrored = cv2.convertScaleAbs(cv2.flip(group_photo, 1), alpha=1.2, beta=15)
    width = group_photo.shape[1]
    twins = sorted(engine.detect(mirrored), key=lambda f: -f.x)[:3]
    assert all(abs((width - t.x - t.width) - f.x) < 10 for f, t in zip(faces, twins, strict=True))
    originals = [engine.embed(group_photo, f) for f in faces]
    variants = [engine.embed(mirrored, t) for t in twins]
    assert all(v.shape == (128,) and v.dtype == np.float32 for v in originals)
    for i, a in enumerate(originals):
        for j, b in enumerate(variants):
            distance = engine.distance(a, b)
            if i == j:
                assert distance < 0.4, distance  # mirrored and relit: still the same person
            else:
                assert distance > engine.match_distance, distance


def test_quality_gates_pass_good_faces_and_name_what_is_wrong(
        engine: YuNetDlibEngine, group_photo: np.ndarray) -> None:
    gates = QualityGates()
    assert all(judge(group_photo, f, gates).passed for f in engine.detect(group_photo))
    blurred = cv2.GaussianBlur(group_photo, (0, 0), 4)
    assert {judge(blurred, f, gates).rejection for f in engine.detect(blurred)} == {"blurred"}
    small = cv2.resize(group_photo, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
    found = engine.detect(small)
    assert found and {judge(small, f, gates).rejection for f in found} == {"too_small"}


def _face(points: list[tuple[float, float]]) -> Detection:
    return Detection(0, 0, 100, 100, 0.9, tuple(points))


def test_pose_from_landmarks() -> None:
    frontal = _face([(35, 40), (65, 40), (50, 55), (38, 70), (62, 70)])
    yaw, roll, pitch = pose(frontal)
    assert abs(yaw) < 0.01 and abs(roll) < 0.01 and abs(pitch) < 0.01
    profile = _face([(35, 40), (65, 40), (78, 55), (45, 70), (68, 70)])
    assert pose(profile)[0] > 0.6
    tilted = _face([(35, 30), (65, 55), (45, 55), (30, 70), (55, 85)])
    assert pose(tilted)[1] > 30
    bowed = _face([(35, 40), (65, 40), (50, 68), (38, 72), (62, 72)])
    assert pose(bowed)[2] > 0.35
    gates = QualityGates()
    frame = np.random.default_rng(1).integers(0, 255, (100, 100, 3), dtype=np.uint8)
    assert judge(frame, frontal, gates).passed
    assert {judge(frame, f, gates).rejection for f in (profile, tilted, bowed)} == {"turned"}


def test_insightface_needs_a_pack_and_never_downloads_one(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="MODEL_PACK"):
        engines.build("insightface")
    with pytest.raises(EngineUnavailable, match="no insightface model pack"):
        InsightFaceEngine(tmp_path / "buffalo_l")
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(EngineUnavailable, match="no insightface model pack"):
        InsightFaceEngine(tmp_path)


def test_insightface_missing_library_says_what_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "det_10g.onnx").write_bytes(b"\0")
    real_import = builtins.__import__

    def no_insightface(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("insightface"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_insightface)
    with pytest.raises(EngineUnavailable, match=r"\.\[insightface\]"):
        InsightFaceEngine(tmp_path)


def test_the_default_engine_refuses_a_tampered_model(tmp_path: Path, face_assets: None) -> None:
    (tmp_path / "face_detection_yunet_2023mar.onnx").write_bytes(b"not the model")
    with pytest.raises(EngineUnavailable, match="SHA-256"):
        engines.build("yunet_dlib", assets_dir=tmp_path)
    with pytest.raises(EngineUnavailable, match="missing"):
        engines.build("yunet_dlib", assets_dir=tmp_path / "empty")


def test_the_agent_loads_an_engine_only_when_the_appliance_runs_faces(
        tmp_path: Path, face_assets: None) -> None:
    assert load_engine(make_settings(tmp_path)) is None  # off by default
    on = load_engine(make_settings(tmp_path, faces_enabled=True))
    assert on is not None and on.name == "yunet_dlib"
    # The production engine without its pack: capture goes on, faces stay off.
    assert load_engine(make_settings(tmp_path, faces_enabled=True,
                                     face_engine="insightface")) is None
    assert load_engine(make_settings(
        tmp_path, faces_enabled=True, face_engine="insightface",
        face_model_pack=str(tmp_path / "missing"))) is None
