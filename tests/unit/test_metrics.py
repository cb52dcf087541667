"""Unit tests of speechbrain_masksr.metrics on generated speech-like audio.

Authors
 * speechbrain-masksr contributors 2026
"""

import math
import warnings

import numpy as np
import pytest
import scipy.signal
import torch
from helpers import speech_like

from speechbrain_masksr.dataio import AudioError
from speechbrain_masksr.metrics import (
    CSV_COLUMNS,
    MetricFunction,
    MetricWarning,
    compute_metrics,
    dnsmos,
    estoi,
    expand_metrics,
    lsd,
    lsd_stft_params,
    mean_metrics,
    metric_stats,
    metrics_table,
    pesq_nb,
    pesq_wb,
    si_sdr,
    speaker_similarity,
)
from speechbrain_masksr.metrics.speaker import (
    SpeakerEncoder,
    resemblyzer_weights,
)

SR = 16000


#: Clean voice of these tests (shared generator) as float64 numpy:
#: 2.3 s at 120 Hz with three formants; any ``speech_like`` parameter.
def voice(**kwargs):
    defaults = dict(
        rate=SR,
        duration=2.3,
        f0=120.0,
        formants=((700, 130), (1200, 150), (2600, 200)),
        floor=0.01,
        peak=0.5,
        noise=0.005,  # aspiration: no spectral bin is ~0 (LSD eps)
    )
    return speech_like(**{**defaults, **kwargs}).double().numpy()


def add_noise(x, snr_db, seed=1):
    """White noise at a given SNR (dB)."""
    noise = np.random.RandomState(seed).randn(len(x))
    gain = np.sqrt(np.mean(x**2) / np.mean(noise**2) / 10 ** (snr_db / 10))
    return x + gain * noise


@pytest.fixture(scope="module")
def clean():
    return voice()


# ----------------------------------------------------------------- LSD


def numpy_lsd(ref, est, n_fft, hop, eps=1e-12):
    """Independent LSD: zero-padded centred frames, periodic Hann, rfft."""
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)

    def mag(x):
        x = np.pad(x.astype(np.float32), n_fft // 2)
        n_frames = 1 + (len(x) - n_fft) // hop
        frames = np.stack(
            [x[i * hop : i * hop + n_fft] for i in range(n_frames)]
        )
        return np.abs(np.fft.rfft(frames * window, axis=1))  # [time, freq]

    r, e = mag(ref), mag(est)
    per_bin = np.log10(r**2 / (e + eps) ** 2 + eps) ** 2
    return np.mean(np.sqrt(np.mean(per_bin, axis=1)))


def test_lsd_stft_params_follow_voicefixer():
    assert lsd_stft_params(44100) == (2048, 441)
    assert lsd_stft_params(16000) == (743, 160)
    assert lsd_stft_params(48000) == (2229, 480)


def test_lsd_identical_is_zero(clean):
    # Not exactly 0: eps is added to the estimate's magnitude (reference
    # formula), which matters only in bins ~1e-9 below full scale.
    assert lsd(clean, clean, SR, rate=None) < 1e-4
    x = np.random.RandomState(0).randn(44100)
    assert lsd(x, x, 44100) < 1e-8


@pytest.mark.parametrize("sr", [44100, 16000])
def test_lsd_matches_independent_numpy(sr):
    rng = np.random.RandomState(3)
    ref = voice(rate=sr, duration=0.7)
    est = scipy.signal.lfilter([0.6, 0.3], [1.0], ref)
    est = est + 1e-3 * rng.randn(len(ref))
    n_fft, hop = lsd_stft_params(sr)
    expected = numpy_lsd(ref, est, n_fft, hop)
    assert expected > 0.1
    assert lsd(ref, est, sr, rate=None) == pytest.approx(expected, abs=1e-5)
    if sr == 44100:
        assert lsd(ref, est, sr) == pytest.approx(expected, abs=1e-5)


def test_lsd_resamples_to_44k_by_default():
    """A 16 kHz pair is scored as librosa.load(sr=44100) + n_fft 2048/441."""
    import librosa

    rng = np.random.RandomState(4)
    ref = voice(rate=16000, duration=0.7)
    est = scipy.signal.lfilter([0.6, 0.3], [1.0], ref)
    est = est + 1e-3 * rng.randn(len(ref))
    up = [
        librosa.resample(x.astype(np.float32), orig_sr=16000, target_sr=44100)
        for x in (ref, est)
    ]
    expected = numpy_lsd(up[0], up[1], 2048, 441)
    assert lsd(ref, est, 16000) == pytest.approx(expected, abs=1e-5)
    assert lsd(ref, est, 16000) != pytest.approx(
        lsd(ref, est, 16000, rate=None), abs=1e-3
    )


def test_lsd_scaled_signal_is_two_bels(clean):
    # |log10(S^2 / (10 S)^2)| = 2 in every bin: the unit is Bels, not dB.
    assert lsd(clean, 10 * clean, SR, rate=None) == pytest.approx(2.0, abs=1e-4)
    assert lsd(10 * clean, clean, SR, rate=None) == pytest.approx(2.0, abs=1e-4)


def test_lsd_truncates_to_shorter_and_warns_on_large_mismatch(clean):
    short = clean[:-50]
    assert lsd(clean, short, SR) == pytest.approx(lsd(short, short, SR))
    with pytest.warns(MetricWarning, match="truncating"):
        lsd(clean, clean[:-1000], SR)


# -------------------------------------------------------------- SI-SDR


def test_si_sdr_closed_form(clean):
    ref = clean - clean.mean()
    noise = np.random.RandomState(4).randn(len(ref))
    noise -= noise.mean()
    noise -= ref * np.dot(noise, ref) / np.dot(ref, ref)  # orthogonal
    noise *= 0.05
    est = 0.3 * ref + noise
    expected = 10 * np.log10(np.sum((0.3 * ref) ** 2) / np.sum(noise**2))
    assert si_sdr(ref, est) == pytest.approx(expected, abs=1e-6)
    # Scale and DC offset do not matter.
    assert si_sdr(ref, 7 * est + 0.2) == pytest.approx(expected, abs=1e-6)
    assert si_sdr(torch.from_numpy(ref), torch.from_numpy(est)) == (
        pytest.approx(expected, abs=1e-6)
    )


def test_si_sdr_tracks_snr(clean):
    for snr in (0, 10, 20):
        assert si_sdr(clean, add_noise(clean, snr)) == pytest.approx(
            snr, abs=0.2
        )


def test_si_sdr_matches_speechbrain_si_snr(clean):
    """Independent implementation (SpeechBrain's loss) on normal input."""
    from speechbrain.nnet.losses import cal_si_snr

    for snr in (0, 10, 25):
        est = add_noise(clean, snr)
        source = torch.from_numpy(np.asarray(clean, dtype=np.float64))
        estimate = torch.from_numpy(np.asarray(est, dtype=np.float64))
        theirs = -cal_si_snr(source[:, None, None], estimate[:, None, None])
        assert si_sdr(clean, est) == pytest.approx(float(theirs), abs=1e-4)


@pytest.mark.parametrize("level", [0.0, 0.3, -1.0])
def test_si_sdr_silent_or_constant_is_nan_with_warning(clean, level):
    flat = np.full(len(clean), level)
    with pytest.warns(MetricWarning, match="estimate is silent or constant"):
        assert math.isnan(si_sdr(clean, flat))
    with pytest.warns(MetricWarning, match="reference is silent or constant"):
        assert math.isnan(si_sdr(flat, clean))
    with pytest.warns(MetricWarning, match="zero variance"):
        scores = compute_metrics(clean, flat, SR, metrics=("si_sdr",))
    assert math.isnan(scores["si_sdr"])
    # a very quiet but real estimate is still scored
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(si_sdr(clean, 1e-4 * add_noise(clean, 10)))


# ---------------------------------------------------------------- PESQ


def test_pesq_identical_and_decreasing_with_noise(clean):
    assert pesq_wb(clean, clean, SR) == pytest.approx(4.64, abs=0.01)
    scores = [pesq_wb(clean, add_noise(clean, s), SR) for s in (40, 20, 5)]
    assert scores[0] > scores[1] > scores[2]
    assert pesq_nb(clean, clean, SR) > 4.4
    assert pesq_nb(clean, add_noise(clean, 5), SR) < pesq_nb(clean, clean, SR)


def test_pesq_resamples_with_soxr_to_16k():
    import librosa
    from pesq import pesq

    ref = voice(rate=44100, duration=1.0)
    est = add_noise(ref, 20)
    r16 = librosa.resample(ref, orig_sr=44100, target_sr=16000)
    e16 = librosa.resample(est, orig_sr=44100, target_sr=16000)
    expected = pesq(16000, r16, e16, "wb")
    assert pesq_wb(ref, est, 44100) == pytest.approx(expected, abs=1e-6)


def test_pesq_unscorable_gives_nan_with_warning(clean):
    with pytest.warns(MetricWarning, match="silence"):
        assert math.isnan(pesq_wb(np.zeros(SR), np.zeros(SR), SR))
    with pytest.warns(MetricWarning, match="BufferTooShort"):
        assert math.isnan(pesq_wb(clean[:1600], clean[:1600], SR))


# --------------------------------------------------------------- ESTOI


def test_estoi_identical_and_noise(clean):
    assert estoi(clean, clean, SR) == pytest.approx(1.0, abs=1e-6)
    high, low = (estoi(clean, add_noise(clean, s), SR) for s in (30, 5))
    assert 1.0 > high > low


def test_estoi_too_short_gives_nan(clean):
    with pytest.warns(MetricWarning, match="non-silent frames"):
        assert math.isnan(estoi(clean[:2000], clean[:2000], SR))


def test_estoi_under_one_frame_gives_nan_and_warning(clean):
    # pystoi raises an AxisError inside its framing for clips this short
    with pytest.warns(MetricWarning, match="estoi: clip too short"):
        assert math.isnan(estoi(clean[:300], clean[:300], SR))


def test_compute_metrics_isolates_a_failing_metric(clean, monkeypatch):
    import sys

    lsd_module = sys.modules["speechbrain_masksr.metrics.lsd"]

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(lsd_module, "lsd", broken)
    with pytest.warns(MetricWarning, match="lsd: failed .*boom"):
        out = compute_metrics(clean, clean, SR, metrics=("lsd", "si_sdr"))
    assert math.isnan(out["lsd"]) and out["si_sdr"] > 100


def test_int16_arrays_are_scaled_like_float_audio(clean):
    pcm = np.round(clean * 32767).astype(np.int16)
    as_float = pcm.astype(np.float64) / 32768.0
    # unscaled, the int16 copy was 90 dB louder: LSD about 9 Bels
    assert lsd(pcm, as_float, SR, rate=None) == pytest.approx(0.0, abs=1e-6)
    assert si_sdr(torch.from_numpy(pcm), as_float) > 100


# -------------------------------------------------------------- DNSMOS


@pytest.fixture(scope="module")
def dnsmos_scores(clean):
    """One DNSMOS pass per signal (each 2.3 s clip is tiled to one window)."""
    return {
        "clean": dnsmos(clean, SR),
        "noisy": dnsmos(add_noise(clean, 5), SR),
        "doubled": dnsmos(np.concatenate([clean, clean]), SR),
    }


def test_dnsmos_range_and_cleaner_is_better(dnsmos_scores):
    for scores in dnsmos_scores.values():
        assert set(scores) == {"sig", "bak", "ovrl", "p808"}
        assert all(1.0 <= v <= 5.0 for v in scores.values())
    clean, noisy = dnsmos_scores["clean"], dnsmos_scores["noisy"]
    assert clean["ovrl"] > noisy["ovrl"] + 0.3
    assert clean["bak"] > noisy["bak"] + 1.0


def test_dnsmos_tiles_short_clips(dnsmos_scores):
    # A 2.3 s clip is repeated to 9.2 s; so is its doubled version.
    for key in ("sig", "bak", "ovrl", "p808"):
        assert dnsmos_scores["doubled"][key] == pytest.approx(
            dnsmos_scores["clean"][key], abs=1e-5
        )


def test_dnsmos_matches_speechmos_reference(clean, dnsmos_scores):
    from speechmos import dnsmos as speechmos_dnsmos

    ref = speechmos_dnsmos.run(clean, SR)
    ours = dnsmos_scores["clean"]
    assert ours["ovrl"] == pytest.approx(ref["ovrl_mos"], abs=1e-4)
    assert ours["sig"] == pytest.approx(ref["sig_mos"], abs=1e-4)
    assert ours["bak"] == pytest.approx(ref["bak_mos"], abs=1e-4)
    assert ours["p808"] == pytest.approx(ref["p808_mos"], abs=1e-4)


# -------------------------------------------------- speaker similarity


def test_speaker_similarity(clean):
    assert speaker_similarity(clean, clean, SR) == pytest.approx(1, abs=1e-5)
    other = voice(
        f0=220, formants=((400, 100), (2200, 150), (3000, 200)), seed=3
    )
    same_noisy = speaker_similarity(clean, add_noise(clean, 30), SR)
    different = speaker_similarity(clean, other, SR)
    assert same_noisy > different + 0.2


def test_speaker_encoder_custom_weights(tmp_path, clean):
    ckpt = torch.load(
        resemblyzer_weights(), map_location="cpu", weights_only=True
    )
    path = tmp_path / "encoder.pt"
    torch.save({"model_state": ckpt["model_state"]}, path)
    assert speaker_similarity(
        clean, add_noise(clean, 20), SR, weights_fpath=str(path)
    ) == pytest.approx(speaker_similarity(clean, add_noise(clean, 20), SR))
    bad = tmp_path / "bad.pt"
    torch.save({"model_state": {"linear.weight": torch.zeros(2, 2)}}, bad)
    with pytest.raises(RuntimeError, match="missing keys"):
        SpeakerEncoder.from_checkpoint(bad)
    with pytest.raises(FileNotFoundError, match="weights_fpath"):
        SpeakerEncoder.from_checkpoint(tmp_path / "missing.pt")


# --------------------------------------------- compute_metrics, tables


def test_compute_metrics_all_columns(clean):
    noisy = add_noise(clean, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = compute_metrics(clean, noisy, SR)
    assert tuple(scores) == CSV_COLUMNS[1:]
    assert scores["pesq"] == pytest.approx(pesq_wb(clean, noisy, SR))
    assert scores["lsd"] == pytest.approx(lsd(clean, noisy, SR))
    assert scores["si_sdr"] == pytest.approx(10, abs=0.2)
    assert all(np.isfinite(v) for v in scores.values())


def test_expand_metrics_and_table():
    assert expand_metrics("spk_sim,dnsmos,lsd") == (
        "lsd",
        "dnsmos_sig",
        "dnsmos_bak",
        "dnsmos_ovrl",
        "spk_sim_resemblyzer",
    )
    # the speaker-similarity columns name their encoder
    assert expand_metrics("spk_sim_ecapa,spk_sim_resemblyzer") == (
        "spk_sim_resemblyzer",
        "spk_sim_ecapa",
    )
    with pytest.raises(ValueError, match="unknown metric"):
        expand_metrics(["pesq", "mos"])
    means = mean_metrics(
        [{"lsd": 1.0, "pesq": 2.0}, {"lsd": 2.0, "pesq": np.nan}]
    )
    assert means == {"lsd": 1.5, "pesq": 2.0}
    table = metrics_table(
        {"Unprocessed": {"pesq": 1.25, "lsd": 2.0}, "Model": {"lsd": 0.5}},
        precision=2,
    )
    assert table.splitlines() == [
        "| system | lsd ↓ | pesq ↑ |",
        "|---|---|---|",
        "| Unprocessed | 2.00 | 1.25 |",
        "| Model | 0.50 | - |",
    ]


def test_bad_input_is_rejected_at_the_boundary(clean):
    with pytest.raises(AudioError, match="mono"):
        lsd(np.stack([clean, clean]), clean, SR)
    with pytest.raises(AudioError, match="NaN"):
        si_sdr(clean, np.full_like(clean, np.nan))
    with pytest.raises(AudioError, match="empty"):
        pesq_wb(np.zeros(0), clean, SR)


# ------------------------------------------------------- MetricStats


def test_metric_stats_batch_with_relative_lengths(clean):
    ref = torch.from_numpy(np.stack([clean, clean])).float()
    est = torch.from_numpy(
        np.stack([add_noise(clean, 10), add_noise(clean, 20, seed=2)])
    ).float()
    lengths = torch.tensor([1.0, 0.5])
    stats = metric_stats("si_sdr", SR)
    stats.append(["a", "b"], est, ref, lengths)
    half = int(round(0.5 * ref.shape[1]))
    expected = [si_sdr(ref[0], est[0]), si_sdr(ref[1, :half], est[1, :half])]
    summary = stats.summarize()
    assert summary["average"] == pytest.approx(np.mean(expected), abs=1e-6)
    assert summary["max_id"] == "b"


def test_metric_stats_sequential_pesq(clean):
    stats = metric_stats("pesq", SR, batch_eval=False)
    ref = torch.from_numpy(np.stack([clean, clean])).float()
    est = torch.from_numpy(np.stack([clean, add_noise(clean, 5)])).float()
    stats.append(["same", "noisy"], predict=est, target=ref)
    summary = stats.summarize()
    assert summary["max_id"] == "same" and summary["min_id"] == "noisy"
    assert summary["max_score"] == pytest.approx(4.64, abs=0.01)
    with pytest.raises(ValueError, match="unknown metric"):
        MetricFunction("dnsmos", SR)
