"""Long-audio windowing: one function for the recipe and the interface.

* the paper's protocol (``overlap_seconds = 0``) cuts back-to-back windows
  and joins them without any cross-fade;
* the DNS recipe's ``MaskSRBrain.restore`` and ``SpeechRestoration`` give
  the same audio for the same model, seed and window settings;
* benchmark: with a context-dependent "restorer" (the tiny DAC's encode +
  decode, a real convolutional codec), overlap + cross-fade stays closer to
  a whole-file pass than non-overlapping windows, which is why it stays the
  interface default.

Authors
 * speechbrain-masksr contributors 2026
"""

import pytest
import torch
from helpers import speech_like

from speechbrain_masksr.inference import SpeechRestoration
from speechbrain_masksr.utils.windowing import (
    restore_windowed,
    window_samples,
    window_starts,
)

SR = 44100
HOP = 512  # the tiny DAC's hop: windows are whole codec frames


def test_paper_protocol_is_back_to_back_windows_without_crossfade():
    window, overlap = window_samples(SR, 0.5, 0.0, HOP)
    assert (window, overlap) == (22016, 0)
    n = 2 * window + 5000
    x = torch.randn(1, n)
    seen = []

    def scale(chunks, seed):  # window k is multiplied by k + 1
        seen.append(chunks.clone())
        k = torch.arange(len(chunks), dtype=chunks.dtype)[:, None]
        return chunks * (k + 1)

    out = restore_windowed(scale, x, [n], window, overlap, HOP, seed=3)
    chunks = seen[0]
    assert len(seen) == 1 and chunks.shape == (3, window)
    # windows tile the input exactly; the tail window is zero-padded
    assert torch.equal(chunks.reshape(-1)[:n], x[0])
    assert (chunks.reshape(-1)[n:] == 0).all()
    # joined without blending: each window keeps its own scale up to the cut
    expected = torch.cat([x[0, :window], 2 * x[0, window : 2 * window]])
    expected = torch.cat([expected, 3 * x[0, 2 * window :]])
    assert torch.allclose(out[0], expected, atol=1e-6)
    # with an overlap the last window is moved back to end with the signal
    assert window_starts(n, window, 3584, HOP) == [0, 18432, 27136]
    assert window_starts(n, window, 0, HOP, shift_last=False) == [
        0,
        22016,
        44032,
    ]


@pytest.fixture(scope="module")
def restorer(tiny_masksr_folder, tmp_path_factory):
    savedir = tmp_path_factory.mktemp("savedir")
    return SpeechRestoration.from_hparams(
        source=str(tiny_masksr_folder[0]), savedir=str(savedir)
    )


@pytest.mark.parametrize("overlap_seconds", [0.1, 0.0])
def test_recipe_brain_restores_like_the_interface(restorer, overlap_seconds):
    from speechbrain_masksr.brains.masksr_brain import MaskSRBrain

    hp = restorer.hparams
    hp.overlap_seconds = overlap_seconds
    brain = MaskSRBrain(
        {"model": restorer.mods.model},
        hparams=dict(
            codec=restorer.mods.codec,
            sample_rate=SR,
            segment_seconds=hp.segment_seconds,
            window_seconds=hp.window_seconds,
            overlap_seconds=overlap_seconds,
            crossfade=hp.crossfade,
            sampling_steps=hp.sampling_steps,
            guidance=hp.guidance,
            sampling_noise=hp.noise,
            upper_levels="greedy",
            seed=1,
            eval_seed=2,
        ),
        run_opts={"device": "cpu"},
    )
    wavs = 0.1 * torch.randn(2, 50000)  # 2.3 and 1.4 windows of 0.5 s
    lens = torch.tensor([1.0, 0.6])
    from_brain = brain.restore(wavs, lens, seed=5)
    from_interface = restorer.restore_batch(wavs, lens, seed=5)
    assert from_brain.shape == (2, 50000)
    assert torch.allclose(from_brain, from_interface, atol=1e-6)
    assert from_brain[0].abs().sum() > 0
    assert (from_brain[1, 30000:] == 0).all()
    hp.overlap_seconds = 0.1


def test_crossfade_is_closer_to_a_whole_file_pass(tiny_dac_path):
    """Benchmark: relative error vs restoring the whole file at once."""
    from speechbrain_masksr.codecs.dac import DACTokenizer

    codec = DACTokenizer(load_path=tiny_dac_path).eval()

    def resynth(chunks, seed):
        with torch.no_grad():
            return codec.decode(codec.encode(chunks))[:, : chunks.shape[1]]

    errors = {"paper": [], "crossfade": []}
    for seed in range(2):
        x = torch.as_tensor(
            speech_like(duration=2.5, rate=SR, seed=seed), dtype=torch.float32
        )[None]
        n = x.shape[1]
        whole = resynth(x, None)[0, :n]
        # 1 s windows; the interface's overlap ratio (0.5 s of 3 s)
        for name, overlap in (("paper", 0.0), ("crossfade", 1 / 6)):
            window, hop_overlap = window_samples(SR, 1.0, overlap, HOP)
            out = restore_windowed(
                resynth, x, [n], window, hop_overlap, codec.hop_length
            )[0]
            errors[name].append(float((out - whole).norm() / whole.norm()))
    # measured: paper 0.19 / 0.23, cross-fade 0.018 / 0.023
    for paper, crossfade in zip(errors["paper"], errors["crossfade"]):
        assert crossfade < 0.5 * paper, errors
    assert max(errors["crossfade"]) < 0.1, errors
