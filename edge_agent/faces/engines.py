"""Choose and build the engine the settings name."""

from __future__ import annotations

from pathlib import Path

from edge_agent.faces import assets
from edge_agent.faces.engine import EngineName, EngineUnavailable, FaceEngine


def build(name: EngineName, *, model_pack: Path | None = None,
          assets_dir: Path = assets.DEFAULT_DIR) -> FaceEngine:
    """The engine, loaded; EngineUnavailable (with what to install) when it cannot be."""
    if name == "insightface":
        if model_pack is None:
            raise EngineUnavailable("the insightface engine needs ANCHANG_EDGE_FACE_MODEL_PACK")
        from edge_agent.faces.insightface_engine import InsightFaceEngine

        return InsightFaceEngine(model_pack)
    from edge_agent.faces.yunet_dlib import YuNetDlibEngine

    return YuNetDlibEngine(assets_dir)
