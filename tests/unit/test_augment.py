"""Tests of the distortion toolkit: levels, RIRs, effects and GSR pipeline.

Authors
 * speechbrain-masksr contributors 2026
"""

import json
import math

import numpy as np
import pytest
import scipy.signal
import torch
import torchaudio
from helpers import speech_like

from speechbrain_masksr.augment import (
    FILTER_FAMILIES,
    BandLimit,
    Clip,
    GSRPipeline,
    InterferingSpeaker,
    NoiseMixer,
    RandomApply,
    RoomReverb,
    active_power,
    align_rir,
    degrade,
    lowpass,
    measure_snr,
    simulate_rir,
)
from speechbrain_masksr.augment.distortions import (
    _mix_at_ratio,
    design_lowpass,
    fft_convolve,
)
from speechbrain_masksr.augment.rir import measure_drr, set_drr
from speechbrain_masksr.augment.sources import AudioBank
from speechbrain_masksr.dataio import AudioError, save_audio

SR = 44100
FRAME = 882  # 20 ms, the default measurement frame at 44.1 kHz


@pytest.fixture(autouse=True)
def _one_thread():
    """These small ops are faster (and far less load-sensitive) on 1 thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def bursts(batch=2, frames=60, seed=0):
    """Shared speech-like voices gated into frame-aligned bursts separated
    by exact silences (10 frames on, 5 off, shifted per row).

    Returns the signal and a bool mask of the samples inside bursts.
    """
    time = frames * FRAME
    wav = speech_like(
        samples=time,
        rate=SR,
        seed=seed,
        batch=batch,
        n_harmonics=7,
        syllables=False,
        peak=0.6,
    )
    frame_idx = torch.arange(time) // FRAME
    on = torch.stack([((frame_idx + 3 * b) % 15) < 10 for b in range(batch)])
    return wav * on, on


def band_energy(x, lo, hi, sr=SR):
    spec = np.abs(np.fft.rfft(np.asarray(x, dtype=np.float64))) ** 2
    f = np.fft.rfftfreq(len(x), 1 / sr)
    return spec[(f >= lo) & (f < hi)].sum()


# ---------------------------------------------------------------- RIRs


def schroeder_rt60(rir, sr):
    """RT60 from the -5..-25 dB range of the Schroeder decay curve (T20)."""
    e = rir.double().numpy() ** 2
    edc = np.cumsum(e[::-1])[::-1]
    edc_db = 10 * np.log10(edc / edc[0] + 1e-30)
    i5, i25 = np.argmax(edc_db < -5), np.argmax(edc_db < -25)
    return 3.0 * (i25 - i5) / sr


@pytest.mark.parametrize("rt60", [0.3, 0.8])
def test_simulate_rir_peak_and_decay(rt60):
    rir = simulate_rir(SR, rt60, duration=2.0, generator=gen(1))
    assert rir.shape == (2 * SR,)
    assert int(rir.abs().argmax()) == round(0.0025 * SR)
    assert float(rir[: round(0.0025 * SR)].abs().max()) == 0.0
    assert schroeder_rt60(rir, SR) == pytest.approx(rt60, rel=0.2)


def test_simulate_rir_seeded_and_errors():
    a = simulate_rir(16000, 0.5, generator=gen(4))
    assert torch.equal(a, simulate_rir(16000, 0.5, generator=gen(4)))
    assert not torch.equal(a, simulate_rir(16000, 0.5, generator=gen(5)))
    with pytest.raises(ValueError, match="rt60"):
        simulate_rir(16000, 0.0)
    with pytest.raises(ValueError, match="duration"):
        simulate_rir(16000, 0.5, duration=0.001, direct_delay=0.01)


def test_align_rir():
    rir = torch.tensor([0.0, 0.1, -0.5, 0.25, 0.1])
    out = align_rir(rir)
    assert torch.allclose(out, torch.tensor([1.0, -0.5, -0.2]))
    with pytest.raises(ValueError, match="all zeros"):
        align_rir(torch.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        align_rir(torch.tensor([1.0, float("nan")]))


@pytest.mark.parametrize("rt60", [0.2, 0.6, 1.0])
@pytest.mark.parametrize("drr", [-15.0, -6.0, 0.0, 4.5, 12.0])
def test_set_drr_then_measure_drr(rt60, drr):
    # a "measured" RIR: pre-delay, negative peak
    rir = -0.3 * simulate_rir(SR, rt60, direct_delay=0.004, generator=gen(2))
    peak = int(rir.abs().argmax())
    out = set_drr(rir, drr, SR)
    assert out.shape == rir.shape and out.dtype == rir.dtype
    got = float(measure_drr(out, SR, direct_index=peak))
    assert abs(got - drr) < 0.1
    # only the +-2.5 ms direct window is changed
    half = round(0.0025 * SR)
    outside = torch.ones(rir.shape[0], dtype=torch.bool)
    outside[peak - half : peak + half + 1] = False
    assert torch.equal(out[outside], rir[outside])
    assert float(out[peak] / rir[peak]) > 0  # polarity kept


def test_set_drr_batched_fallback_and_errors():
    rirs = torch.stack(
        [
            align_rir(simulate_rir(SR, t, duration=0.6, generator=gen(3)))
            for t in (0.3, 0.5)
        ]
    )
    rirs[0, 60] = 0.8  # strong early reflection inside the window
    drr = torch.tensor([-30.0, 8.0])  # -30 dB: needs the flat fallback
    out = set_drr(rirs, drr, SR, direct_index=0)
    got = measure_drr(out, SR, direct_index=0)
    assert torch.allclose(got, drr.double(), atol=0.1)
    gain = out / rirs
    assert float(gain[0, 60]) == pytest.approx(float(gain[0, 0]))  # flat
    assert float(gain[1, 60]) != pytest.approx(float(gain[1, 0]))  # taper
    # the default direct window is the standard +-2.5 ms around the peak
    single = torch.zeros(SR // 10)
    single[[50, 50 + round(0.0024 * SR), 50 + round(0.0026 * SR)]] = 1.0
    assert float(measure_drr(single, SR)) == pytest.approx(10 * math.log10(2))
    with pytest.raises(ValueError, match="no energy outside"):
        set_drr(torch.tensor([0.0, 1.0, 0.5]), 0.0, SR)
    with pytest.raises(ValueError, match="NaN"):
        measure_drr(torch.tensor([1.0, float("nan")]), SR)


# ---------------------------------------------------------------- levels


def test_active_power_ignores_silence_and_padding():
    x, on = bursts(batch=1)
    expected = float(x[on].double().pow(2).mean())
    assert float(active_power(x, frame_length=FRAME)) == pytest.approx(
        expected, rel=1e-5
    )
    # garbage in the padded tail is not counted
    padded = torch.cat([x, 5 * torch.ones(1, 1000)], dim=1)
    rel = torch.tensor([x.shape[1] / padded.shape[1]])
    assert float(active_power(padded, rel, FRAME)) == pytest.approx(
        expected, rel=1e-5
    )
    assert float(active_power(torch.zeros(1, 100))) == 0.0


# ---------------------------------------------------------------- noise


@pytest.mark.parametrize("snr", [-5.0, 0.0, 7.3, 20.0])
def test_add_noise_hits_requested_snr(snr):
    clean, on = bursts(batch=2)
    noise = torch.randn(3, 5 * SR, generator=gen(2))
    noisy = NoiseMixer(noise, snr, snr, SR)(clean, generator=gen(3))
    added = noisy - clean
    for b in range(2):
        # independent measurement: speech power over its bursts, noise
        # power over the whole signal (white noise is active everywhere)
        p_s = clean[b][on[b]].double().pow(2).mean()
        p_n = added[b].double().pow(2).mean()
        achieved = 10 * math.log10(p_s / p_n)
        assert abs(achieved - snr) < 0.1
    assert torch.allclose(
        measure_snr(clean, added), torch.full((2,), snr).double(), atol=1e-3
    )


def test_add_noise_random_range_lengths_and_generated_noise():
    clean, _ = bursts(batch=4, frames=40)
    lengths = torch.tensor([1.0, 0.75, 0.5, 1.0])
    out = NoiseMixer(None, 0.0, 10.0, SR)(clean, lengths, generator=gen(0))
    n_valid = (lengths * clean.shape[1]).round().long()
    snrs = []
    for b in range(4):
        n = int(n_valid[b])
        assert torch.equal(out[b, n:], clean[b, n:])  # tail untouched
        s = measure_snr(clean[b : b + 1, :n], out[b : b + 1, :n] - clean[b, :n])
        snrs.append(float(s))
    assert all(-0.01 < s < 10.01 for s in snrs)
    assert max(snrs) - min(snrs) > 0.5  # drawn per example


def test_add_noise_from_files_manifest_and_bad_files(tmp_path):
    # noise written at 22.05 kHz is resampled to 44.1 kHz on reading
    noise = 0.1 * torch.randn(22050, generator=gen(1))
    save_audio(str(tmp_path / "noise" / "a.wav"), noise, 22050)
    save_audio(str(tmp_path / "noise" / "b.flac"), noise.flip(0), 22050)
    manifest = tmp_path / "noise.json"
    manifest.write_text(
        json.dumps({"a": {"wav": "{root}/noise/a.wav", "duration": 1.0}})
    )
    clean, _ = bursts(batch=2, frames=20)
    for source in (str(tmp_path / "noise"), str(manifest)):
        add = NoiseMixer(source, 5, 5, SR, replacements={"root": str(tmp_path)})
        out = add(clean, generator=gen(0))
        assert torch.allclose(
            measure_snr(clean, out - clean),
            torch.full((2,), 5.0).double(),
            atol=1e-3,
        )
    with pytest.raises(AudioError, match="missing.wav"):
        NoiseMixer([str(tmp_path / "missing.wav")])
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    with pytest.raises(AudioError, match="bad.wav"):
        NoiseMixer(str(bad))(clean)
    (tmp_path / "empty").mkdir()
    with pytest.raises(AudioError, match="no noise clips"):
        NoiseMixer(str(tmp_path / "empty"))


# ---------------------------------------------------------------- speaker


def test_interfering_speaker_sir():
    target, _ = bursts(batch=2, frames=30, seed=1)
    other, _ = bursts(batch=1, frames=20, seed=2)  # shorter: padded
    mix = InterferingSpeaker(other, 3.0, 3.0, SR)(target, generator=gen(0))
    sir = measure_snr(target, mix - target)
    assert torch.allclose(sir, torch.full((2,), 3.0).double(), atol=1e-3)
    with pytest.raises(ValueError, match="speakers"):
        InterferingSpeaker(None)
    with pytest.raises(ValueError, match="drr_low and drr_high"):
        InterferingSpeaker(other, drr_low=-3.0)
    with pytest.raises(ValueError, match="rirs are only used"):
        InterferingSpeaker(other, rirs=torch.ones(100))
    with pytest.raises(ValueError, match="n_speakers_low"):
        InterferingSpeaker(other, n_speakers_low=0, n_speakers_high=2)
    with pytest.raises(ValueError, match="n_speakers"):
        InterferingSpeaker(other, n_speakers_low=3, n_speakers_high=2)


def test_interfering_speaker_default_is_unchanged():
    """Defaults reproduce the single dry interferer draw for draw."""
    target, _ = bursts(batch=3, frames=30, seed=1)
    # two clips longer than the target (cropped), one shorter (padded)
    bank = [bursts(2, 40, seed=2)[0], bursts(1, 20, seed=3)[0][0]]
    time = target.shape[1]
    new = InterferingSpeaker(bank, -2.0, 9.0, SR)(target, generator=gen(5))
    explicit = InterferingSpeaker(
        bank, -2.0, 9.0, SR, n_speakers_low=1, n_speakers_high=1
    )(target, generator=gen(5))
    # the original code path: SIR draw, one excerpt per example, mix
    g = gen(5)
    u = torch.rand(3, generator=g, dtype=torch.float64)
    sir = -2.0 + 11.0 * u
    other = AudioBank(bank, SR, "speaker").sample(3, time, g, tile=False)
    full = torch.full((3,), time)
    old = _mix_at_ratio(target, other, full, sir, FRAME, 40.0)
    assert torch.equal(new, old)
    assert torch.equal(explicit, old)


def test_interferer_drr_and_sir():
    target, _ = bursts(batch=2, frames=30, seed=1)
    time = target.shape[1]
    # an impulse as "speech": mix - target is the interferer's scaled RIR
    impulse = torch.zeros(time - 20)
    impulse[0] = 1.0
    for drr in (-4.0, 2.0):
        far = InterferingSpeaker(
            impulse, 6.0, 6.0, SR, drr_low=drr, drr_high=drr, rt60_high=0.4
        )
        diff = far(target, generator=gen(1)) - target
        for b in range(2):
            start = int(diff[b].abs().argmax())
            assert start <= 20
            got = float(measure_drr(diff[b].double(), SR))
            assert abs(got - drr) < 0.1
    # speech interferers with reverberation: SIR on their sum still exact
    speech, _ = bursts(batch=3, frames=40, seed=2)
    for n in (1, 3):
        far = InterferingSpeaker(
            speech,
            3.0,
            3.0,
            SR,
            n_speakers_low=n,
            n_speakers_high=n,
            drr_low=-6.0,
            drr_high=0.0,
            rt60_high=0.5,
        )
        mix = far(target, generator=gen(2))
        sir = measure_snr(target, mix - target)
        assert torch.allclose(sir, torch.full((2,), 3.0).double(), atol=0.1)


def test_interferer_drr_from_measured_rirs(tmp_path):
    rir = simulate_rir(SR, 0.3, direct_delay=0.002, generator=gen(4))
    save_audio(str(tmp_path / "rir.wav"), 0.5 * rir, SR)
    target, _ = bursts(batch=2, frames=30, seed=1)
    impulse = torch.zeros(target.shape[1] - 20)
    impulse[0] = 1.0
    far = InterferingSpeaker(
        impulse,
        0.0,
        0.0,
        SR,
        drr_low=-2.0,
        drr_high=-2.0,
        rirs=str(tmp_path),
    )
    diff = far(target, generator=gen(0)) - target
    for b in range(2):
        assert abs(float(measure_drr(diff[b].double(), SR)) + 2.0) < 0.1


FREQS = (700.0, 1900.0, 4100.0)


def _peaks_present(diff):
    """Which of FREQS carry at least 10 % of the energy of ``diff``."""
    total = band_energy(diff, 0, SR / 2)
    return [band_energy(diff, f - 50, f + 50) / total > 0.1 for f in FREQS]


def test_several_interferers_are_distinct_excerpts():
    t = torch.arange(SR) / SR
    bank = torch.stack([torch.sin(2 * math.pi * f * t) for f in FREQS])
    target = 0.5 * torch.sin(2 * math.pi * 200 * t[: SR // 2]).repeat(4, 1)
    three = InterferingSpeaker(
        bank, 0.0, 0.0, SR, n_speakers_low=3, n_speakers_high=3
    )
    mix = three(target, generator=gen(0))
    for b in range(4):
        assert all(_peaks_present((mix[b] - target[b]).numpy()))
    assert torch.allclose(
        measure_snr(target, mix - target), torch.zeros(4).double(), atol=1e-3
    )
    # a range: 1 to 3 distinct talkers per example
    some = InterferingSpeaker(
        bank, 0.0, 0.0, SR, n_speakers_low=1, n_speakers_high=3
    )
    target = target[:1].repeat(24, 1)
    mix = some(target, generator=gen(1))
    counts = [sum(_peaks_present((m - x).numpy())) for m, x in zip(mix, target)]
    assert set(counts) == {1, 2, 3}
    # reproducible, and a different seed changes the draw
    again = some(target, generator=gen(1))
    assert torch.equal(mix, again)
    assert not torch.equal(mix, some(target, generator=gen(2)))


# ---------------------------------------------------------------- reverb


def test_reverb_longer_tail_but_aligned(tmp_path):
    time = SR // 2
    dry = torch.zeros(2, time)
    burst = torch.randn(2, 2000, generator=gen(0))
    dry[:, 5000:7000] = burst
    # a "measured" RIR with 300 samples of pre-delay and a negative peak
    rir = -simulate_rir(SR, 0.4, direct_delay=300 / SR, generator=gen(1))
    save_audio(str(tmp_path / "rir.wav"), 0.5 * rir, SR)
    for rirs in (None, str(tmp_path / "rir.wav")):
        wet = RoomReverb(rirs, SR)(dry, generator=gen(2))
        assert wet.shape == dry.shape
        for b in range(2):
            xcorr = scipy.signal.correlate(
                wet[b].numpy(), dry[b].numpy(), mode="full"
            )
            lag = int(np.argmax(xcorr)) - (time - 1)
            assert lag == 0
            # direct path kept at unit gain and polarity
            assert float(xcorr.max()) == pytest.approx(
                float(dry[b].pow(2).sum()), rel=0.05
            )
            # causal (up to FFT round-off)
            assert float(wet[b, :5000].abs().max()) < 1e-5
            tail = wet[b, 7000:12000].pow(2).sum()
            assert float(tail) > 0.01 * float(burst[b].pow(2).sum())


def test_reverb_respects_lengths():
    x = torch.randn(2, 8000, generator=gen(0))
    x[1, 4000:] = 0.0
    out = RoomReverb(None, 16000)(x, torch.tensor([1.0, 0.5]), generator=gen(1))
    assert float(out[1, 4000:].abs().max()) == 0.0
    assert float(out[0, 4000:].abs().max()) > 0.0


# ---------------------------------------------------------------- clip


def test_clip_threshold_respected():
    x = torch.randn(6, 4000, generator=gen(0))
    x[0] *= 3.0
    out = Clip(0.1, 0.5)(x, generator=gen(1))
    peak = x.abs().amax(1)
    ratio = out.abs().amax(1) / peak
    assert bool(((ratio >= 0.1 - 1e-6) & (ratio <= 0.5 + 1e-6)).all())
    assert ratio.std() > 0.01  # drawn per example
    thr = (ratio * peak).unsqueeze(1)
    below = x.abs() < thr
    assert torch.equal(out[below], x[below])  # untouched under threshold
    assert torch.allclose(out[~below].abs(), thr.expand_as(x)[~below])
    fixed = Clip(0.25, 0.25)(x)
    assert torch.allclose(fixed.abs().amax(1), 0.25 * peak)
    with pytest.raises(ValueError, match="fractions"):
        Clip(0.0, 0.5)


# ---------------------------------------------------------------- band limit


@pytest.mark.parametrize("family", FILTER_FAMILIES)
def test_bandlimit_attenuates_above_cutoff(family):
    x = torch.randn(1, SR, generator=gen(0))
    cutoff = 4000.0
    bl = BandLimit(cutoff, cutoff, SR, (family,), order_low=8, order_high=8)
    y = bl(x, generator=gen(1))[0].numpy()
    x = x[0].numpy()
    # transition margin: Bessel filters trade roll-off for flat group delay
    edge = (2.0 if family == "bessel" else 1.5) * cutoff
    stop = band_energy(y, edge, SR / 2) / band_energy(x, edge, SR / 2)
    assert 10 * math.log10(stop) < -30.0
    passband = band_energy(y, 50, 0.5 * cutoff) / band_energy(
        x, 50, 0.5 * cutoff
    )
    assert abs(10 * math.log10(passband)) < 1.0
    # zero phase: the pass band is not delayed
    lp_x = lowpass(torch.from_numpy(x), 1000, SR, "stft").numpy()
    assert (
        np.corrcoef(lp_x, lowpass(torch.from_numpy(y), 1000, SR, "stft"))[0, 1]
        > 0.99
    )


@pytest.mark.parametrize("family", ["butter", "cheby1", "ellip", "bessel"])
def test_design_matches_scipy_and_is_stable(family):
    ref = {
        "butter": lambda o, w: scipy.signal.butter(o, w, output="sos"),
        "cheby1": lambda o, w: scipy.signal.cheby1(o, 0.1, w, output="sos"),
        "ellip": lambda o, w: scipy.signal.ellip(o, 0.1, 60, w, output="sos"),
        "bessel": lambda o, w: scipy.signal.bessel(
            o, w, output="sos", norm="mag"
        ),
    }[family]
    for order in (1, 2, 5, 10):
        for cutoff in (60.0, 1000.0, 21000.0, 22049.0):
            sos = design_lowpass(family, order, cutoff, SR)
            h = scipy.signal.sosfreqz(sos, 1024)[1]
            h_ref = scipy.signal.sosfreqz(ref(order, cutoff / (SR / 2)), 1024)[
                1
            ]
            assert np.allclose(h, h_ref, atol=1e-7)
            poles = np.concatenate([np.roots(s[3:]) for s in sos])
            assert np.abs(poles).max() < 1.0
    # order 10 at a very low cutoff, then through the zero-phase filter
    x = torch.randn(SR // 4, generator=gen(0))
    y = lowpass(x, 60.0, SR, family, order=10)
    assert bool(torch.isfinite(y).all()) and float(y.abs().max()) < 2.0


def test_bandlimit_near_and_above_nyquist():
    x = torch.randn(3, 4096, generator=gen(0))
    same = BandLimit(22050, 22050, SR)(x, generator=gen(1))
    assert torch.equal(same, x)  # cutoff at Nyquist: no-op
    near = BandLimit(21900, 22049, SR, order_low=10, order_high=10)
    out = near(x, generator=gen(1))
    assert bool(torch.isfinite(out).all())
    assert float((out - x).pow(2).mean() / x.pow(2).mean()) < 0.05
    short = BandLimit(1000, 2000, SR)(torch.randn(2, 5), generator=gen(2))
    assert bool(torch.isfinite(short).all())
    with pytest.raises(ValueError, match="unknown filter"):
        BandLimit(filters=("butterworth",))
    with pytest.raises(ValueError, match="cutoff_low"):
        BandLimit(9000, 9000, 16000)


# ---------------------------------------------------------------- seeding


def _all_effects(speech):
    return [
        NoiseMixer(None),
        RoomReverb(None, rt60_high=0.4),
        Clip(),
        BandLimit(),
        InterferingSpeaker(speech),
        InterferingSpeaker(
            speech,
            n_speakers_low=1,
            n_speakers_high=3,
            drr_low=-6.0,
            drr_high=0.0,
            rt60_high=0.4,
        ),
        GSRPipeline(reverb_prob=0.5, clip_prob=0.5, rt60_high=0.4),
    ]


def test_same_seed_same_output():
    x, _ = bursts(batch=3, frames=25)
    for effect in _all_effects(x[:1]):
        a = effect(x, generator=gen(7))
        assert torch.equal(a, effect(x, generator=gen(7))), effect
        assert not torch.equal(a, effect(x, generator=gen(8))), effect
    # a generator given at construction is used when none is passed
    c1 = Clip(generator=gen(3))(x)
    assert torch.equal(c1, Clip(generator=gen(3))(x))


def test_inside_speechbrain_augmenter():
    from speechbrain.augment.augmenter import Augmenter

    x, _ = bursts(batch=4, frames=20)
    lengths = torch.tensor([1.0, 1.0, 0.5, 0.75])
    n = (lengths * x.shape[1]).round().long()
    x = x * (torch.arange(x.shape[1]) < n.unsqueeze(1))  # zero padding
    augment = Augmenter(
        parallel_augment=False,
        concat_original=True,
        min_augmentations=2,
        max_augmentations=2,
        augmentations=[NoiseMixer(None, 10, 10, SR), Clip(0.3, 0.3)],
    )
    out, out_lens = augment(x, lengths)
    assert out.shape == (8, x.shape[1])
    assert torch.equal(out[:4], x)  # the originals
    assert torch.allclose(out_lens, torch.cat([lengths, lengths]))
    aug = out[4:]
    for b in range(4):
        assert float(aug[b, n[b] :].abs().sum()) == 0.0
        assert not torch.allclose(aug[b, : n[b]], x[b, : n[b]])


# ---------------------------------------------------------------- pipeline


def test_random_apply_probability():
    x = torch.ones(400, 10)
    out = RandomApply(Clip(0.5, 0.5), p=0.3)(x * 2 - 1e-3, generator=gen(0))
    frac = float((out[:, 0] < 1.5).float().mean())
    assert 0.22 < frac < 0.38


def test_gsr_pipeline_order_and_probabilities():
    x = torch.randn(4, SR // 2, generator=gen(0)) * 0.1
    off = dict(
        reverb_prob=0.0, clip_prob=0.0, bandlimit_prob=0.0, noise_prob=0.0
    )
    assert torch.equal(GSRPipeline(**off)(x, generator=gen(1)), x)
    only_clip = GSRPipeline(**{**off, "clip_prob": 1.0})
    clip_out = only_clip(x, generator=gen(1))
    ratio = clip_out.abs().amax(1) / x.abs().amax(1)
    assert bool(((ratio > 0.1 - 1e-6) & (ratio < 0.5 + 1e-6)).all())
    # band-limit then add white noise: the noise alone fills the stop band,
    # unless the noise is band-limited too
    common = dict(
        cutoff_low=2000,
        cutoff_high=2000,
        filters=("butter",),
        order_low=8,
        order_high=8,
        snr_low=10,
        snr_high=10,
        reverb_prob=0.0,
        clip_prob=0.0,
    )
    noises = torch.randn(2, SR, generator=gen(5))
    raw_noise = GSRPipeline(noises=noises, noise_bandlimit_prob=0.0, **common)
    lp_noise = GSRPipeline(noises=noises, noise_bandlimit_prob=1.0, **common)
    for b, (a, c) in enumerate(
        zip(raw_noise(x, generator=gen(2)), lp_noise(x, generator=gen(2)))
    ):
        hf_x = band_energy(x[b].numpy(), 4000, SR / 2)
        hf_raw = band_energy(a.numpy(), 4000, SR / 2)
        hf_lp = band_energy(c.numpy(), 4000, SR / 2)
        # noise is matched (10 dB) to the *band-limited* speech, whose power
        # is ~2000/22050 of the white stand-in's; white noise fills the band
        expected = 0.1 * 2000 / 22050
        assert 0.7 * expected < hf_raw / hf_x < 1.4 * expected
        assert hf_lp / hf_x < 1e-3


def test_gsr_pipeline_effect_order():
    """Default: reverb then clip; VoiceFixer's order: clip then reverb."""
    from speechbrain_masksr.augment.pipeline import EFFECTS, VOICEFIXER_ORDER

    x, _ = bursts(batch=2, frames=20)
    only = dict(
        reverb_prob=1.0,
        clip_prob=1.0,
        clip_low=0.3,
        clip_high=0.3,
        rt60_low=0.3,
        rt60_high=0.3,
        bandlimit_prob=0.0,
        noise_prob=0.0,
    )

    def clip(wavs, g):
        return RandomApply(Clip(0.3, 0.3), 1.0)(wavs, generator=g)

    def reverb(wavs, g):
        room = RoomReverb(None, SR, 0.3, 0.3)
        return RandomApply(room, 1.0)(wavs, generator=g)

    default_order = ("interferer", "reverb", "clip", "bandlimit", "noise")
    assert GSRPipeline().order == EFFECTS == default_order
    default = GSRPipeline(**only)(x, generator=gen(3))
    g = gen(3)
    assert torch.equal(default, clip(reverb(x, g), g))
    voicefixer = GSRPipeline(order=VOICEFIXER_ORDER, **only)
    vf = voicefixer(x, generator=gen(3))
    g = gen(3)
    assert torch.equal(vf, reverb(clip(x, g), g))
    # clipping last leaves flat tops at 0.3 of the peak; reverb smooths them
    for out in default:
        assert float((out.abs() >= 0.999 * out.abs().max()).sum()) > 20
    for out in vf:
        assert float((out.abs() >= 0.999 * out.abs().max()).sum()) < 5
    with pytest.raises(ValueError, match="order must list each of"):
        GSRPipeline(order=("clip", "reverb", "bandlimit", "noise"))


def test_gsr_pipeline_lengths_config_and_degrade(tmp_path):
    x, _ = bursts(batch=2, frames=20)
    lengths = torch.tensor([1.0, 0.5])
    x[1, x.shape[1] // 2 :] = 0
    gsr = GSRPipeline(reverb_prob=1.0, clip_prob=1.0, rt60_high=0.4)
    out = gsr(x, lengths, generator=gen(0))
    assert float(out[1, x.shape[1] // 2 :].abs().max()) == 0.0
    cfg = tmp_path / "gsr.yaml"
    cfg.write_text("sample_rate: 16000\ncutoff_high: 8000\nclip_prob: 0.5\n")
    from_yaml = GSRPipeline.from_config(str(cfg), reverb_prob=0.0)
    assert from_yaml.sample_rate == 16000 and from_yaml.reverb is None
    assert from_yaml.probs["clip_prob"] == 0.5
    with pytest.raises(ValueError, match="unknown GSRPipeline option"):
        GSRPipeline.from_config({"snr": 3})
    with pytest.raises(ValueError, match="speakers"):
        GSRPipeline(interferer_prob=0.5)
    plain = GSRPipeline(speakers=x, interferer_prob=1.0)
    assert plain.interferer.effect.reverb is None
    assert plain.interferer.effect.n_speakers_high == 1
    # per-example function: numpy in/out and torch in/out, seeded
    wav = x[0].numpy()
    y1 = degrade(wav, SR, pipeline=gsr, seed=11)
    assert isinstance(y1, np.ndarray) and y1.shape == wav.shape
    assert np.array_equal(y1, degrade(wav, SR, pipeline=gsr, seed=11))
    y2 = degrade(x[0], SR, pipeline=gsr, seed=11)
    assert torch.is_tensor(y2) and np.allclose(y2.numpy(), y1)
    with pytest.raises(ValueError, match="mono waveform"):
        degrade(x, SR, pipeline=gsr)
    with pytest.raises(ValueError, match="16000 Hz"):
        degrade(wav, 44100, pipeline=from_yaml)


def test_bad_inputs_are_reported():
    with pytest.raises(ValueError, match="NaN"):
        Clip()(torch.tensor([[0.1, float("nan")]]))
    with pytest.raises(ValueError, match="batch, time"):
        Clip()(torch.zeros(1, 2, 3))
    with pytest.raises(TypeError, match="float"):
        Clip()(torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="relative"):
        Clip()(torch.zeros(2, 3), lengths=torch.tensor([3.0, 2.0]))


def test_gsr_pipeline_far_interferers():
    target, _ = bursts(batch=2, frames=30, seed=1)
    speech, _ = bursts(batch=3, frames=40, seed=2)
    only = dict(
        reverb_prob=0.0, clip_prob=0.0, bandlimit_prob=0.0, noise_prob=0.0
    )
    gsr = GSRPipeline(
        speakers=speech,
        sir_low=4.0,
        sir_high=4.0,
        interferer_prob=1.0,
        interferer_speakers_low=2,
        interferer_speakers_high=2,
        interferer_drr_low=-5.0,
        interferer_drr_high=-5.0,
        rt60_low=0.3,
        rt60_high=0.3,
        **only,
    )
    effect = gsr.interferer.effect
    assert effect.n_speakers_low == effect.n_speakers_high == 2
    assert effect.drr_low == effect.drr_high == -5.0
    assert effect.reverb.bank is None and effect.reverb.rt60_high == 0.3
    mix = gsr(target, generator=gen(3))
    sir = measure_snr(target, mix - target)
    assert torch.allclose(sir, torch.full((2,), 4.0).double(), atol=0.1)
    assert torch.equal(mix, gsr(target, generator=gen(3)))
    # measured RIRs are shared with the reverberation step
    rirs = simulate_rir(SR, 0.3, generator=gen(4))
    shared = GSRPipeline(
        speakers=speech,
        rirs=rirs,
        interferer_prob=1.0,
        interferer_drr_low=-5.0,
        interferer_drr_high=0.0,
        **only,
    )
    assert len(shared.interferer.effect.reverb.bank) == 1


def test_fft_convolve_equals_torchaudio_fftconvolve():
    g = torch.Generator().manual_seed(3)
    wavs = torch.randn(3, 1001, generator=g)
    kernels = torch.randn(3, 77, generator=g)
    full = torchaudio.functional.fftconvolve(wavs, kernels)
    assert torch.allclose(
        fft_convolve(wavs, kernels), full[:, :1001], atol=1e-4
    )
    got = fft_convolve(wavs, kernels, length=full.shape[-1])
    assert torch.allclose(got, full, atol=1e-4)
    shared = fft_convolve(wavs, kernels[0])  # one kernel for every row
    ref = torchaudio.functional.fftconvolve(wavs, kernels[:1].expand(3, -1))
    assert torch.allclose(shared, ref[:, :1001], atol=1e-4)
