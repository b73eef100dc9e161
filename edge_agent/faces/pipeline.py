"""Frame → faces → quality gates → tracks → one embedding per track. The capture readers
call `process` from their threads with the frames they sampled; a finished track goes to
the sink (matching and sightings, issue #23 item 5). Nothing here writes a frame, a crop
or an embedding anywhere: they live in memory until the sink has used them (a crop is
taken only when the site keeps crops)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import cv2
import structlog

from edge_agent.faces.engine import FaceEngine, Frame
from edge_agent.faces.quality import QualityGates, judge
from edge_agent.faces.tracking import LOST_AFTER, Track, Tracker

log = structlog.get_logger()
TrackSink = Callable[[Track], None]


class FacePipeline:
    def __init__(self, engine: FaceEngine, sink: TrackSink, *,
                 gates: QualityGates | None = None,
                 lost_after: timedelta = LOST_AFTER,
                 on_embedded: TrackSink | None = None) -> None:
        self.engine = engine
        self.sink = sink
        # Told as soon as a track has its embedding (a sighting need not wait until the
        # visitor has left); the sink still gets the finished track.
        self.on_embedded = on_embedded
        self.gates = gates or QualityGates()
        self.lost_after = lost_after
        self.keep_crops = False  # the site's choice (crop_retention_days > 0)
        self._trackers: dict[str, Tracker] = {}
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()  # frames, faces, embeddings, tracks, rejections

    def _tracker(self, camera_id: str) -> Tracker:
        with self._lock:
            tracker = self._trackers.get(camera_id)
            if tracker is None:
                tracker = self._trackers[camera_id] = Tracker(camera_id, self.lost_after)
            return tracker

    def process(self, camera_id: str, frame: Frame, at: datetime) -> None:
        tracker = self._tracker(camera_id)
        faces = self.engine.detect(frame)
        self._count(frames=1, faces=len(faces))
        for track, face in tracker.update(faces, at):
            if track.frames == 1:
                self._count(tracks=1)
            if track.embedding is not None:
                continue
            verdict = judge(frame, face, self.gates)
            if not verdict.passed:
                assert verdict.rejection is not None
                track.rejections[verdict.rejection] = track.rejections.get(
                    verdict.rejection, 0) + 1
                self._count(**{f"rejected_{verdict.rejection}": 1})
                continue
            track.embedding = self.engine.embed(frame, face)
            track.embedded_at = at
            if self.keep_crops:
                x1, y1, x2, y2 = face.box
                track.crop = cv2.imencode(".jpg", frame[y1:y2, x1:x2])[1].tobytes()
            self._count(embeddings=1)
            if self.on_embedded is not None:
                self._tell(self.on_embedded, track)
        self._finish(tracker.close_lost(at))

    def _count(self, **counts: int) -> None:
        with self._lock:  # every camera's reader thread counts here
            self.counts.update(counts)

    def idle(self, camera_id: str, at: datetime) -> None:
        """No frame came (the stream is down or the sampler skipped): still end the tracks
        whose visitor left, so a sighting is not held back by a dead camera."""
        self._finish(self._tracker(camera_id).close_lost(at))

    def close_camera(self, camera_id: str) -> None:
        with self._lock:
            tracker = self._trackers.pop(camera_id, None)
        if tracker is not None:
            self._finish(tracker.close_all())

    def _finish(self, tracks: list[Track]) -> None:
        for track in tracks:
            try:
                self._tell(self.sink, track)
            finally:
                track.embedding = track.crop = None  # they do not outlive their use

    @staticmethod
    def _tell(sink: TrackSink, track: Track) -> None:
        try:
            sink(track)
        except Exception:
            # A failing sink must not stop the camera; the track is logged by id only.
            log.exception("face_track_sink_failed", camera_id=track.camera_id,
                          track_id=track.track_id)
