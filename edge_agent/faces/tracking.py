"""Tracking: a visitor standing in view is one track, not one face per frame. Faces are
matched to the camera's open tracks by box overlap (frames are a few hundred ms apart
at the sampling rates we run, so a person moves little between them); a track ends when
its face has not been seen for `lost_after` seconds. Each track is embedded once, on the
first frame whose face passes the quality gates."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from edge_agent.faces.engine import Detection, Embedding

MIN_IOU = 0.3
LOST_AFTER = timedelta(seconds=3)
_ids = itertools.count(1)


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax1, ay1, ax2, ay2 = a
    bx1, by1, bx2, by2 = b
    w = min(ax2, bx2) - max(ax1, bx1)
    h = min(ay2, by2) - max(ay1, by1)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter)


@dataclass
class Track:
    """One person in view of one camera. The embedding never leaves the appliance."""

    camera_id: str
    first_seen: datetime
    last_seen: datetime
    box: tuple[int, int, int, int]
    track_id: int = field(default_factory=lambda: next(_ids))
    frames: int = 1
    embedding: Embedding | None = None
    embedded_at: datetime | None = None
    # A JPEG of the embedded face, only when the site keeps crops (ADR 0047).
    crop: bytes | None = None
    rejections: dict[str, int] = field(default_factory=dict)


class Tracker:
    """Open tracks of one camera."""

    def __init__(self, camera_id: str, lost_after: timedelta = LOST_AFTER) -> None:
        self.camera_id = camera_id
        self.lost_after = lost_after
        self.open: list[Track] = []

    def update(self, faces: list[Detection], at: datetime) -> list[tuple[Track, Detection]]:
        """Assign this frame's faces to tracks (greedy, best overlap first), open tracks
        for the rest; answers each face with its track."""
        pairs = sorted(
            ((iou(t.box, f.box), ti, fi) for ti, t in enumerate(self.open)
             for fi, f in enumerate(faces)), reverse=True)
        taken_tracks: set[int] = set()
        assigned: dict[int, Track] = {}
        for overlap, ti, fi in pairs:
            if overlap < MIN_IOU:
                break
            if ti in taken_tracks or fi in assigned:
                continue
            taken_tracks.add(ti)
            track = self.open[ti]
            track.box, track.last_seen = faces[fi].box, at
            track.frames += 1
            assigned[fi] = track
        for fi, face in enumerate(faces):
            if fi not in assigned:
                track = Track(self.camera_id, at, at, face.box)
                self.open.append(track)
                assigned[fi] = track
        return [(assigned[fi], face) for fi, face in enumerate(faces)]

    def close_lost(self, at: datetime) -> list[Track]:
        """Tracks whose face has been gone for `lost_after`: they are finished."""
        done = [t for t in self.open if at - t.last_seen >= self.lost_after]
        self.open = [t for t in self.open if at - t.last_seen < self.lost_after]
        return done

    def close_all(self) -> list[Track]:
        done, self.open = self.open, []
        return done
