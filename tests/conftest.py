"""Shared fixtures of the test suite (helpers live in ``tests/helpers.py``).

Authors
 * speechbrain-masksr contributors 2026
"""

import pytest
from helpers import TINY_MASKSR, speech_like, write_tiny_model_folder


@pytest.fixture
def speech():
    """The :func:`helpers.speech_like` generator (call it with parameters)."""
    return speech_like


@pytest.fixture
def tiny_masksr_config():
    """A fresh copy of :data:`helpers.TINY_MASKSR`."""
    return dict(TINY_MASKSR)


@pytest.fixture(scope="session")
def tiny_dac_path(tmp_path_factory):
    """Tiny random DAC weights (``save_tiny_dac``, seed 0)."""
    from speechbrain_masksr.codecs.dac import save_tiny_dac

    return save_tiny_dac(tmp_path_factory.mktemp("tiny_dac") / "weights.pth")


@pytest.fixture(scope="module")
def tiny_masksr_folder(tmp_path_factory):
    """``(folder, model)``: a tiny MaskSR model folder (TINY_MASKSR)."""
    return write_tiny_model_folder(tmp_path_factory.mktemp("tiny_masksr"))
