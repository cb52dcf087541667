"""Streaming ``restore_windowed`` equals the former all-at-once version.

The reference below is the implementation before streaming (all windows
of all waveforms stacked, restored ``max_batch`` at a time, then joined by
one ``[n_windows, window]`` weight table): the streaming loop must give
bit-identical results, call ``restore_fn`` with the same windows and seeds,
and report progress once per window.

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import pytest
import torch

from speechbrain_masksr.codecs.base import codec_frames
from speechbrain_masksr.utils.windowing import (
    add_window,
    crossfade_weight,
    crossfade_weights,
    overlap_add,
    restore_windowed,
    window_starts,
)

#: The codec hop the windows are aligned to (DAC 44.1 kHz's).
HOP = 512


def _ramp(n, shape):
    x = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    return torch.sin(0.5 * math.pi * x) ** 2 if shape == "hann" else x


def reference_weights(starts, window, length, shape):
    """The former ``crossfade_weights`` (whole table at once)."""
    n = len(starts)
    raw = torch.ones(n, window, dtype=torch.float64)
    for i in range(n):
        if i > 0:
            fade = starts[i - 1] + window - starts[i]
            if fade > 0:
                raw[i, :fade] *= _ramp(fade, shape)
        if i < n - 1:
            fade = starts[i] + window - starts[i + 1]
            if fade > 0:
                raw[i, window - fade :] *= _ramp(fade, shape).flip(0)
    total = torch.zeros(max(length, starts[-1] + window), dtype=raw.dtype)
    for s, w in zip(starts, raw):
        total[s : s + window] += w
    weights = torch.stack(
        [w / total[s : s + window] for s, w in zip(starts, raw)]
    )
    for i, s in enumerate(starts):
        weights[i, max(0, length - s) :] = 0.0
    return weights


def reference_overlap_add(chunks, starts, length, shape):
    """The former ``overlap_add``."""
    n, window = chunks.shape
    weights = reference_weights(starts, window, length, shape)
    weights = weights.to(chunks.dtype)
    out = torch.zeros(max(length, starts[-1] + window), dtype=chunks.dtype)
    for s, chunk, w in zip(starts, chunks, weights):
        out[s : s + window] += chunk * w
    return out[:length]


def reference_restore_windowed(
    restore_fn, wavs, num_samples, window, overlap, crossfade, max_batch, seed
):
    """The former, non-streaming ``restore_windowed``."""
    align = HOP
    batch, time = wavs.shape
    plans, groups = [], {}
    for b, n in enumerate(num_samples):
        win = min(window, codec_frames(n, align) * align)
        win_overlap = min(overlap, win // 2)
        starts = window_starts(
            n, win, win_overlap, align=align, shift_last=win_overlap > 0
        )
        padded = torch.nn.functional.pad(wavs[b, :n], (0, starts[-1] + win - n))
        idx = []
        for s in starts:
            group = groups.setdefault(win, [])
            idx.append((win, len(group)))
            group.append(padded[s : s + win])
        plans.append((starts, idx))
    restored = {}
    for g, (win, chunks) in enumerate(sorted(groups.items())):
        chunks = torch.stack(chunks)
        base = None if seed is None else int(seed) + 1000 * g
        size = int(max_batch) if max_batch else len(chunks)
        outs = []
        for j, i in enumerate(range(0, len(chunks), size)):
            out = restore_fn(
                chunks[i : i + size], None if base is None else base + j
            )
            outs.append(out[:, :win])
        restored[win] = torch.cat(outs)
    out = torch.zeros(batch, time)
    for b, (starts, idx) in enumerate(plans):
        n = int(num_samples[b])
        chunks = torch.stack([restored[w][i] for w, i in idx])
        out[b, :n] = reference_overlap_add(chunks, starts, n, crossfade).to(
            out.dtype
        )
    return out


def make_restore_fn(log):
    """A seeded, nonlinear stand-in for MaskSR generate + decode."""

    def restore_fn(chunks, seed):
        log.append((chunks.clone(), seed))
        gen = torch.Generator().manual_seed(0 if seed is None else seed)
        noise = 0.01 * torch.randn(chunks.shape, generator=gen)
        return torch.tanh(3 * chunks) + noise

    return restore_fn


CASES = [
    # lengths, window, overlap, crossfade, max_batch
    ([44100 * 7], 3 * 44032, 22016, "hann", 8),
    ([44100 * 7], 3 * 44032, 22016, "linear", 1),
    ([44100 * 7, 30000, 44100 * 2], 3 * 44032, 22016, "hann", 2),
    ([44100 * 7, 30000, 44100 * 2], 3 * 44032, 0, "hann", 3),
    ([20000, 5000, 5001], 8192, 2048, "linear", 0),
    ([20000, 12345], 8192, 4096, "hann", 4),
    ([1000], 8192, 2048, "hann", 8),
    ([60000], 4096, 2048, "linear", 5),
]


@pytest.mark.parametrize("lengths,window,overlap,crossfade,max_batch", CASES)
@pytest.mark.parametrize("seed", [None, 3])
def test_streaming_equals_reference(
    lengths, window, overlap, crossfade, max_batch, seed
):
    """Same output (bit for bit), windows and seeds as before streaming."""
    gen = torch.Generator().manual_seed(1)
    wavs = 0.3 * torch.randn(len(lengths), max(lengths), generator=gen)
    new_log, old_log = [], []
    new = restore_windowed(
        make_restore_fn(new_log),
        wavs,
        lengths,
        window,
        overlap,
        HOP,
        crossfade=crossfade,
        max_batch=max_batch,
        seed=seed,
    )
    old = reference_restore_windowed(
        make_restore_fn(old_log),
        wavs,
        lengths,
        window,
        overlap,
        crossfade,
        max_batch,
        seed,
    )
    assert new.dtype == old.dtype and new.shape == old.shape
    assert torch.equal(new, old)
    assert [s for _, s in new_log] == [s for _, s in old_log]
    for (a, _), (b, _) in zip(new_log, old_log):
        assert torch.equal(a, b)


@pytest.mark.parametrize("shape", ["hann", "linear"])
@pytest.mark.parametrize(
    "length,window,overlap,shift_last",
    [(5000, 1024, 300, True), (2000, 1024, 512, True), (9000, 2048, 0, False)],
)
def test_weights_rows_match_table(length, window, overlap, shift_last, shape):
    """Per-window weights equal the former whole table, bit for bit."""
    starts = window_starts(
        length, window, overlap, align=HOP, shift_last=shift_last
    )
    table = reference_weights(starts, window, length, shape)
    assert torch.equal(crossfade_weights(starts, window, length, shape), table)
    for i, row in enumerate(table):
        assert torch.equal(
            crossfade_weight(starts, i, window, length, shape), row
        )
    chunks = torch.randn(len(starts), window)
    old = reference_overlap_add(chunks, starts, length, shape)
    assert torch.equal(overlap_add(chunks, starts, length, shape), old)
    out = torch.zeros(length)
    for i, chunk in enumerate(chunks):
        add_window(out, chunk, starts, i, shape)
    assert torch.equal(out, old)


def test_float64_windows_match_reference():
    """A float64 restore_fn is accumulated in float64, as before."""
    wavs = torch.randn(1, 30000)

    def fn(chunks, seed):
        return torch.tanh(chunks.double() * 1.7)

    new = restore_windowed(fn, wavs, [30000], 8192, 2048, HOP, max_batch=2)
    old = reference_restore_windowed(
        fn, wavs, [30000], 8192, 2048, "hann", 2, None
    )
    assert new.dtype == torch.float32
    assert torch.equal(new, old)


def test_progress_callback_once_per_window():
    """The callback sees every window once, in order, with the total."""
    wavs = torch.randn(2, 50000)
    seen = []
    restore_windowed(
        lambda c, s: c,
        wavs,
        [50000, 20000],
        8192,
        2048,
        HOP,
        max_batch=3,
        progress=lambda done, total: seen.append((done, total)),
    )
    n = len(window_starts(50000, 8192, 2048, HOP)) + len(
        window_starts(20000, 8192, 2048, HOP)
    )
    assert seen == [(i + 1, n) for i in range(n)]


def test_progress_bar_counts_windows(monkeypatch):
    """``progress=True`` drives one tqdm bar: one update per window."""
    import tqdm

    bars = []

    class Bar:
        def __init__(self, *args, total=None, **kwargs):
            self.total, self.n, self.closed = total, 0, False
            bars.append(self)

        def update(self, k):
            self.n += k

        def close(self):
            self.closed = True

    monkeypatch.setattr(tqdm, "tqdm", Bar)
    wavs = torch.randn(1, 60000)
    restore_windowed(
        lambda c, s: c,
        wavs,
        [60000],
        8192,
        2048,
        HOP,
        max_batch=2,
        progress=True,
    )
    n = len(window_starts(60000, 8192, 2048, HOP))
    assert len(bars) == 1
    assert bars[0].total == n and bars[0].n == n and bars[0].closed
    bars.clear()  # an error in restore_fn still closes the bar

    def fail(chunks, seed):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        restore_windowed(
            fail, wavs, [60000], 8192, 2048, HOP, max_batch=2, progress=True
        )
    assert len(bars) == 1 and bars[0].closed
    bars.clear()  # one batch only: no bar
    restore_windowed(
        lambda c, s: c,
        wavs,
        [60000],
        8192,
        2048,
        HOP,
        max_batch=64,
        progress=True,
    )
    assert bars == []


def reference_enhance_waveform(enhancer, wav, overlap, max_batch):
    """The former, non-streaming ``enhance_waveform`` (STFT variants)."""
    from speechbrain_masksr.inference.enhancement import _window_samples

    hop = enhancer.front_end.hop_length
    window = _window_samples(enhancer)
    n = wav.shape[-1]
    win = min(window, math.ceil(n / hop) * hop)
    overlap = min(max(0, int(overlap)) // hop * hop, win // 2 // hop * hop)
    starts = window_starts(n, win, overlap, align=hop)
    padded = torch.nn.functional.pad(wav, (0, starts[-1] + win - n))
    chunks = torch.stack([padded[s : s + win] for s in starts])
    outs = []
    for i in range(0, len(chunks), max_batch):
        out = enhancer(chunks[i : i + max_batch], mask_ratio=0.0)
        outs.append(enhancer.waveform(out, chunks[i : i + max_batch]))
    return reference_overlap_add(torch.cat(outs), starts, n, "hann")


@pytest.fixture(scope="module")
def tiny_enhancer():
    """A tiny STFT MAE enhancer (random weights, eval mode)."""
    from speechbrain_masksr.lobes.mae_enhancer import build_mae_enhancer
    from speechbrain_masksr.lobes.spectral import CompressedSTFT

    torch.manual_seed(0)
    return build_mae_enhancer(
        CompressedSTFT(512, 128),
        4096,
        "complex_mask",
        d_model=32,
        depth=1,
        num_heads=2,
        decoder_dim=16,
        decoder_depth=1,
        decoder_num_heads=2,
    ).eval()


@pytest.mark.parametrize(
    "length,overlap,max_batch",
    [(30000, 1024, 3), (30000, 0, 16), (3000, 512, 2), (17000, 2048, 1)],
)
def test_enhancer_streaming_equals_reference(
    tiny_enhancer, length, overlap, max_batch
):
    """The streaming MAE enhancer window loop is bit-identical."""
    from speechbrain_masksr.inference.enhancement import enhance_waveform

    wav = 0.1 * torch.randn(length, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        old = reference_enhance_waveform(tiny_enhancer, wav, overlap, max_batch)
    seen = []
    new = enhance_waveform(
        tiny_enhancer,
        wav,
        overlap=overlap,
        max_batch=max_batch,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert torch.equal(new, old)
    total = len(seen)
    assert seen == [(i + 1, total) for i in range(total)]
    out = torch.zeros(length + 10)
    enhance_waveform(
        tiny_enhancer,
        wav,
        overlap=overlap,
        max_batch=max_batch,
        out=out[:length],
    )
    assert torch.equal(out[:length], old) and not out[length:].any()


@pytest.fixture(scope="module")
def tiny_codec(tmp_path_factory):
    """The tiny random-weight DAC."""
    from speechbrain_masksr.codecs.dac import DACTokenizer, save_tiny_dac

    path = save_tiny_dac(tmp_path_factory.mktemp("dac") / "weights.pth")
    return DACTokenizer(load_path=path)


def test_dac_decode_windowed(tiny_codec):
    """Windowed DAC decoding: exact for one window, close for long codes."""
    gen = torch.Generator().manual_seed(0)
    codes = torch.randint(0, 1024, (2, 9, 70), generator=gen)
    short = codes[:, :, :20]
    assert torch.equal(
        tiny_codec.decode_windowed(short, window_frames=20),
        tiny_codec.decode(short),
    )
    seen = []
    windowed = tiny_codec.decode_windowed(
        codes,
        window_frames=24,
        overlap_frames=8,
        max_batch=3,
        progress=lambda done, total: seen.append((done, total)),
    )
    whole = tiny_codec.decode(codes)
    assert windowed.shape == whole.shape == (2, 70 * 512)
    n = 2 * len(window_starts(70, 24, 8, align=1))
    assert seen == [(i + 1, n) for i in range(n)]
    # the decoder's context is cut only near the joins
    err = (windowed - whole).norm() / whole.norm()
    assert err < 0.1, float(err)


def test_interface_progress_once_per_window(tiny_masksr_folder):
    """``SpeechRestoration.restore_batch(progress=...)``: one call per
    window, and the same audio as without progress."""
    from speechbrain_masksr.inference.restoration import SpeechRestoration

    folder, _ = tiny_masksr_folder
    restorer = SpeechRestoration.from_hparams(source=str(folder))
    wavs = 0.1 * torch.randn(
        1, 44100, generator=torch.Generator().manual_seed(0)
    )
    seen = []
    out = restorer.restore_batch(
        wavs, seed=0, progress=lambda done, total: seen.append((done, total))
    )
    window, overlap = restorer._window()
    n = len(
        window_starts(44100, window, overlap, restorer.mods.codec.hop_length)
    )
    assert n > 1
    assert seen == [(i + 1, n) for i in range(n)]
    assert torch.equal(out, restorer.restore_batch(wavs, seed=0))
