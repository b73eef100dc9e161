"""Quality gates: a face is embedded only when it is big enough, sharp enough and turned
towards the camera enough for the embedding to mean something. A face that fails is
still tracked (the visitor is in view); it just waits for a better frame."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import cv2
from pydantic import BaseModel, ConfigDict, Field

from edge_agent.faces.engine import Detection, Frame

Rejection = Literal["too_small", "blurred", "turned"]
BLUR_SIDE = 112  # faces are scaled to this before measuring sharpness, so sizes compare


class QualityGates(BaseModel):
    """Per-appliance thresholds (settings `ANCHANG_EDGE_FACE_…`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_face_pixels: int = Field(
        60, ge=16, le=1000, description="shorter side of the face box, in frame pixels")
    min_sharpness: float = Field(
        60.0, ge=0, description="variance of the Laplacian of the face scaled to 112 px; "
        "a sharp face in a sales-office light scores 100–300, a motion-blurred one < 40")
    max_yaw: float = Field(
        0.6, gt=0, le=2, description="nose offset from the eyes' midline, in eye distances "
        "(0 looks at the camera, ~0.5 is a face turned 45°)")
    max_roll_degrees: float = Field(
        30.0, gt=0, le=90, description="tilt of the line through the eyes")
    max_pitch: float = Field(
        0.35, gt=0, le=1, description="how far the nose sits from halfway between eyes and "
        "mouth, as a fraction of that height (a face looking down or up)")


@dataclass(frozen=True)
class Verdict:
    rejection: Rejection | None
    sharpness: float
    yaw: float
    roll_degrees: float
    pitch: float

    @property
    def passed(self) -> bool:
        return self.rejection is None

    @property
    def score(self) -> float:
        """Which of a track's faces is the best to embed: bigger, sharper, more frontal."""
        return self.sharpness * (1 - min(abs(self.yaw), 1.0)) * (1 - min(abs(self.pitch), 1.0))


def sharpness(frame: Frame, face: Detection) -> float:
    x1, y1, x2, y2 = face.box
    crop = cv2.cvtColor(frame[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY)
    crop = cv2.resize(crop, (BLUR_SIDE, BLUR_SIDE), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(crop, cv2.CV_64F).var())


def pose(face: Detection) -> tuple[float, float, float]:
    """(yaw, roll in degrees, pitch) from the five landmarks: rough, but enough to keep
    profiles and bowed heads out of the gallery."""
    (rx, ry), (lx, ly), (nx, ny), (_, mry), (_, mly) = face.landmarks
    eye_x, eye_y = (rx + lx) / 2, (ry + ly) / 2
    eye_distance = math.hypot(lx - rx, ly - ry) or 1.0
    yaw = (nx - eye_x) / eye_distance
    roll = math.degrees(math.atan2(ly - ry, lx - rx))
    mouth_y = (mry + mly) / 2
    height = (mouth_y - eye_y) or 1.0
    pitch = (ny - eye_y) / height - 0.5
    return yaw, roll, pitch


def judge(frame: Frame, face: Detection, gates: QualityGates) -> Verdict:
    yaw, roll, pitch = pose(face)
    sharp = sharpness(frame, face)
    rejection: Rejection | None = None
    if min(face.width, face.height) < gates.min_face_pixels:
        rejection = "too_small"
    elif abs(yaw) > gates.max_yaw or abs(roll) > gates.max_roll_degrees or (
            abs(pitch) > gates.max_pitch):
        rejection = "turned"
    elif sharp < gates.min_sharpness:
        rejection = "blurred"
    return Verdict(rejection, sharp, yaw, roll, pitch)


