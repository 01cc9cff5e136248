"""Shared fixtures: small images from the samples bundled with scikit-image and matplotlib."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("STYLESEG_OFFLINE", "1")  # tests never touch the network
sys.path.insert(0, str(Path(__file__).parent))  # test helpers such as browser.py


@pytest.fixture(scope="session")
def astronaut64() -> np.ndarray:
    """scikit-image's astronaut, 64×64 RGB float32 in [0, 1]."""
    from toolkit.io import read_image

    return read_image("sample:astronaut", max_size=64)


@pytest.fixture(scope="session")
def coffee64() -> np.ndarray:
    """scikit-image's coffee, longer side 64, RGB float32 in [0, 1]."""
    from toolkit.io import read_image

    return read_image("sample:coffee", max_size=64)


@pytest.fixture(scope="session")
def random_state() -> dict:
    """Seeded random VGG-19 weights (features only), shared by the tests that need a network."""
    from toolkit.vgg import load_state_dict

    return load_state_dict("random:0")


@pytest.fixture(scope="session")
def tiny_result():
    """The tiny study (tests/tiny.py) run once per session: the report and the deck are rendered from it."""
    from tiny import TINY
    from toolkit.study.run import run_study
    from toolkit.study.spec import parse_study

    return run_study(parse_study(TINY), progress=False)
