"""Tracking and the whole pipeline: a visitor standing in view is one track, embedded
once; a visitor walking past a live camera (MJPEG from a local server, read by the same
capture reader the appliance runs) ends as one finished track."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np

from edge_agent.cameras.capture import CameraReader
from edge_agent.cameras.simulated import MjpegSource, lobby_frame, serving_mjpeg
from edge_agent.faces.engine import Detection
from edge_agent.faces.pipeline import FacePipeline
from edge_agent.faces.tracking import Track, Tracker, iou
from edge_agent.faces.yunet_dlib import YuNetDlibEngine
from tests.edge.cameras.test_capture import wait_until

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


class Finished:
    """The sink: keeps what matching (item 5) would get, and whether it had a template."""

    def __init__(self) -> None:
        self.tracks: list[tuple[Track, bool]] = []
        self.lock = threading.Lock()

    def __call__(self, track: Track) -> None:
        with self.lock:
            self.tracks.append((track, track.embedding is not None))


def _box(x: int, y: int, size: int = 100) -> Detection:
    return Detection(x, y, size, size, 0.9, ((0, 0),) * 5)


def test_iou() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1
    assert iou((0, 0, 10, 10), (10, 10, 20, 20)) == 0
    assert abs(iou((0, 0, 10, 10), (5, 0, 15, 10)) - 1 / 3) < 1e-9


def test_tracker_follows_two_people_and_ends_the_one_who_left() -> None:
    tracker = Tracker("cam", lost_after=timedelta(seconds=2))
    first = tracker.update([_box(100, 100), _box(400, 100)], T0)
    a, b = first[0][0], first[1][0]
    assert a.track_id != b.track_id
    for step in range(1, 5):  # both drift a little; b leaves after the second step
        at = T0 + timedelta(milliseconds=500 * step)
        faces = [_box(100 + 8 * step, 100)] + ([_box(400 - 8 * step, 100)] if step < 3 else [])
        assigned = tracker.update(faces, at)
        assert assigned[0][0] is a
        assert tracker.close_lost(at) == []
    assert a.frames == 5 and b.frames == 3
    ended = tracker.close_lost(T0 + timedelta(seconds=3))
    assert ended == [b] and tracker.open == [a]
    c = tracker.update([_box(900, 500)], T0 + timedelta(seconds=3))[0][0]
    assert c not in (a, b)  # somebody new, elsewhere in the frame


def test_a_visitor_standing_in_view_is_one_track_embedded_once(
        engine: YuNetDlibEngine, portrait: np.ndarray) -> None:
    finished = Finished()
    pipeline = FacePipeline(engine, finished, lost_after=timedelta(seconds=2))
    blurred = cv2.GaussianBlur(portrait, (0, 0), 5)  # walking in: motion blur first
    at = T0
    for step in range(12):
        face = blurred if step < 3 else portrait
        pipeline.process("cam", lobby_frame(face, dx=3 * step), at)
        at += timedelta(milliseconds=250)
    assert finished.tracks == []  # still in view
    for _ in range(10):
        pipeline.process("cam", lobby_frame(None), at)
        at += timedelta(milliseconds=250)
    assert len(finished.tracks) == 1
    track, had_template = finished.tracks[0]
    assert had_template and track.embedding is None  # the template did not outlive the sink
    assert track.frames == 12 and track.first_seen == T0
    assert track.last_seen == T0 + timedelta(milliseconds=250 * 11)
    assert track.embedded_at == T0 + timedelta(milliseconds=750)  # first sharp frame
    assert track.rejections == {"blurred": 3}
    assert pipeline.counts["embeddings"] == 1 and pipeline.counts["tracks"] == 1


def test_a_face_that_never_passes_the_gates_is_still_one_track(
        engine: YuNetDlibEngine, portrait: np.ndarray) -> None:
    finished = Finished()
    pipeline = FacePipeline(engine, finished, lost_after=timedelta(seconds=1))
    blurred = cv2.GaussianBlur(portrait, (0, 0), 5)
    for step in range(4):
        pipeline.process("cam", lobby_frame(blurred), T0 + timedelta(milliseconds=300 * step))
    pipeline.idle("cam", T0 + timedelta(seconds=3))  # the stream went down meanwhile
    assert [(t.frames, had) for t, had in finished.tracks] == [(4, False)]
    assert pipeline.counts["embeddings"] == 0


def test_a_visitor_walks_past_a_live_camera(engine: YuNetDlibEngine,
                                            portrait: np.ndarray) -> None:
    # Ten frames a second: 1.5 s empty lobby, 2 s visitor crossing, 2.5 s empty again.
    scene = ([lobby_frame(None)] * 15 + [lobby_frame(portrait, dx=6 * i) for i in range(20)]
             + [lobby_frame(None)] * 25)
    finished = Finished()
    pipeline = FacePipeline(engine, finished, lost_after=timedelta(seconds=1))
    with serving_mjpeg(MjpegSource(scene, fps=10)) as url:
        reader = CameraReader("cam-lobby", url, sample_fps=4, on_frame=pipeline.process,
                              on_idle=pipeline.idle)
        reader.start()
        try:
            wait_until(lambda: len(finished.tracks) >= 1, timeout=30)
        finally:
            reader.stop()
            pipeline.close_camera("cam-lobby")
    first, had_template = finished.tracks[0]
    assert first.camera_id == "cam-lobby" and had_template
    assert 3 <= first.frames <= 12  # ~2 s in view at 4 samples a second
    assert first.last_seen - first.first_seen < timedelta(seconds=3)
    # The scene loops: at most the next pass had begun; every track was embedded once.
    assert pipeline.counts["embeddings"] == pipeline.counts["tracks"] <= 2
