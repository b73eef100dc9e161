"""The faces pipeline as the agent runs it: built from the settings when the site uses
faces; finished tracks are logged by id and time until matching and sightings (issue #23
item 5) take them."""

from __future__ import annotations

from pathlib import Path

import structlog

from edge_agent.faces import engines
from edge_agent.faces.engine import EngineUnavailable
from edge_agent.faces.pipeline import FacePipeline
from edge_agent.faces.tracking import Track
from edge_agent.settings import EdgeSettings

log = structlog.get_logger()


def _log_track(track: Track) -> None:
    log.info("face_track_finished", camera_id=track.camera_id, track_id=track.track_id,
             first_seen=track.first_seen.isoformat(), last_seen=track.last_seen.isoformat(),
             frames=track.frames, embedded=track.embedding is not None)


def build_pipeline(settings: EdgeSettings) -> FacePipeline | None:
    """None when faces are off, or when the engine cannot load (logged: the cameras'
    capture and health go on without it)."""
    if not settings.faces_enabled:
        return None
    try:
        engine = engines.build(
            settings.face_engine,
            model_pack=Path(settings.face_model_pack) if settings.face_model_pack else None,
            assets_dir=Path(settings.face_assets_dir))
    except EngineUnavailable as exc:
        log.error("face_engine_unavailable", engine=settings.face_engine, reason=str(exc))
        return None
    log.info("face_engine_loaded", engine=engine.name)
    return FacePipeline(engine, _log_track)
