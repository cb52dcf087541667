"""Tests for the MAE speech enhancers: front ends, heads, loss, data, learning.

Covers :mod:`speechbrain_masksr.lobes.spectral`,
:mod:`speechbrain_masksr.lobes.mae_enhancer`, the restoration target and
``loss_on`` of :class:`~speechbrain_masksr.lobes.audio_mae.model.AudioMAE`, the
``"none"`` masking mode and :func:`speechbrain_masksr.data.enhancement
.enhancement_dataset`; ends with a tiny enhancer that must learn to remove
white noise from synthetic harmonic "speech".

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import pytest
import soundfile
import torch
from helpers import speech_like

from speechbrain_masksr.augment.levels import measure_snr
from speechbrain_masksr.augment.pipeline import GSRPipeline
from speechbrain_masksr.data.enhancement import (
    enhancement_dataset,
    read_crops,
)
from speechbrain_masksr.data.manifest import write_manifest
from speechbrain_masksr.dataio import load_audio, save_audio
from speechbrain_masksr.lobes.audio_mae import (
    AudioMAE,
    AudioMAEDecoder,
    AudioMAEEncoder,
)
from speechbrain_masksr.lobes.mae_enhancer import (
    VARIANTS,
    MAEEnhancer,
    build_mae_enhancer,
)
from speechbrain_masksr.lobes.patching import patchify, unpatchify
from speechbrain_masksr.lobes.spectral import (
    COMPRESSIONS,
    CompressedSTFT,
    HifiganMel,
)
from speechbrain_masksr.metrics import si_sdr

TINY = dict(
    d_model=32,
    depth=1,
    num_heads=2,
    decoder_dim=16,
    decoder_depth=1,
    decoder_num_heads=2,
)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: intra-op threads only add sync overhead on busy CPUs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def front_end(name):
    """``mel`` or ``stft<n_fft>-<compression>`` (hop = n_fft / 4)."""
    if name == "mel":
        return HifiganMel()
    size, compression = name[4:].split("-")
    n_fft = int(size)
    return CompressedSTFT(n_fft, n_fft // 4, compression, sample_rate=16000)


def build(fe, segment=4096, variant="vanilla", **kwargs):
    return build_mae_enhancer(fe, segment, variant, **{**TINY, **kwargs})


def add_white_noise(clean, generator, snr_db=0.0):
    noise = torch.randn(clean.shape, generator=generator)
    p_s = clean.pow(2).mean(dim=1, keepdim=True)
    p_n = noise.pow(2).mean(dim=1, keepdim=True)
    return clean + noise * (p_s / p_n / 10 ** (snr_db / 10)).sqrt()


def zero_head(model, bias=0.0):
    """Zero the decoder's output projection (constant ``bias`` output)."""
    pred = model.mae.decoder.decoder_pred
    with torch.no_grad():
        pred.weight.zero_()
        pred.bias.copy_(torch.as_tensor(bias).expand_as(pred.bias))


def scale_head(model, scale=30.0):
    """Large random output projection: masks pushed to their bounds."""
    pred = model.mae.decoder.decoder_pred
    with torch.no_grad():
        pred.weight.normal_(0, scale / math.sqrt(pred.in_features))
        pred.bias.normal_(0, scale)


# ---------------------------------------------------------------- shapes ---

FRONT_ENDS = ["mel"] + [
    f"stft{n}-{c}" for n in (512, 1024) for c in COMPRESSIONS
]


@pytest.mark.parametrize("name", FRONT_ENDS)
def test_grid_follows_front_end_frames_and_bins(name):
    fe = front_end(name)
    bins = 80 if name == "mel" else fe.n_fft // 2
    assert fe.n_bins == bins
    hop = fe.hop_length
    for segment in (4096, 8192, 11025, 22050):
        frames = fe(0.1 * torch.randn(1, segment)).shape[1]
        expected = segment // hop + (0 if name == "mel" else 1)
        assert frames == expected == fe.num_frames(segment)
        model = build(fe, segment)
        assert model.grid == (math.ceil(frames / 16), bins // 16)
        assert model.max_frames == 16 * model.grid[0] >= frames
        assert model.mae.encoder.num_patches == model.grid[0] * bins // 16


def test_front_end_values():
    # HiFi-GAN mel basis = librosa's Slaney mel filters
    librosa = pytest.importorskip("librosa")
    mel = HifiganMel()
    basis = librosa.filters.mel(
        sr=22050, n_fft=1024, n_mels=80, fmin=0.0, fmax=8000.0
    )
    torch.testing.assert_close(
        mel.mel_basis, torch.from_numpy(basis).T, atol=1e-7, rtol=1e-5
    )
    assert mel(torch.zeros(1, 2048)).eq(math.log(1e-5)).all()
    assert mel.silence == pytest.approx(math.log(1e-5))
    # a 1 kHz tone peaks in the mel band around 1 kHz
    tone = 0.5 * torch.sin(2 * math.pi * 1000 * torch.arange(4096) / 22050)
    band = int(mel(tone[None])[0].mean(0).argmax())
    hz = librosa.mel_frequencies(82, fmin=0.0, fmax=8000.0)[1:-1]
    assert abs(hz[band] - 1000) < 60
    # STFT compressions are inverted exactly; silence is compress(0)
    mag = torch.rand(3, 7) * 5
    for compression in COMPRESSIONS:
        stft = CompressedSTFT(512, 128, compression)
        back = stft.decompress(stft.compress(mag))
        torch.testing.assert_close(back, mag, rtol=1e-4, atol=1e-5)
        assert stft.silence == pytest.approx(
            float(stft.compress(torch.zeros(())))
        )
    assert CompressedSTFT(512, 128, "log1p").compress(
        torch.tensor(math.e - 1)
    ) == pytest.approx(1.0)
    assert CompressedSTFT(512, 128, "power", power=0.5).compress(
        torch.tensor(9.0)
    ) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="compression"):
        CompressedSTFT(512, 128, "sqrt")


@pytest.mark.parametrize(
    "name", ["mel", "stft512-log1p", "stft1024-power", "stft512-log"]
)
@pytest.mark.parametrize("variant", VARIANTS)
def test_variants_shapes_and_lengths(name, variant):
    fe = front_end(name)
    if variant == "complex_mask" and name == "mel":
        with pytest.raises(ValueError, match="CompressedSTFT"):
            build(fe, 4096, variant)
        return
    model = build(fe, 4096, variant).eval()
    scale_head(model, 1.0)  # the output layer starts at zero
    g = torch.Generator().manual_seed(1)
    for n in (1500, 3001, 4096):  # all shorter than or equal to the window
        wav = 0.1 * torch.randn(2, n, generator=g)
        with torch.no_grad():
            out = model(wav)
        frames = fe.num_frames(n)
        assert out["feats"].shape == (2, frames, fe.n_bins)
        assert torch.isfinite(out["feats"]).all()
        assert out["num_samples"] == n
        assert out["mask"].shape == (2, model.grid[0] * model.grid[1])
        assert not out["mask"].any()  # mask_mode "none" by default
        if not model.is_stft:
            assert out["spec"] is None
            with pytest.raises(ValueError, match="vocoder"):
                model.waveform(out)
            continue
        assert out["spec"].shape == (2, frames, fe.n_bins)
        assert out["spec"].is_complex()
        wave = model.waveform(out)
        assert wave.shape == (2, n)
        assert torch.isfinite(wave).all()
        if variant != "complex_mask":  # noisy phase kept
            noisy = fe.stft(wav)
            keep = (noisy.abs() > 1e-3) & (out["spec"].abs() > 1e-9)
            assert keep.float().mean() > 0.2
            ratio = out["spec"][keep] / noisy[keep]
            assert ratio.imag.abs().max() < 1e-3 * ratio.real.abs().max()
            assert (ratio.real > 0).all()
    too_long = torch.zeros(1, 4096 + 16 * fe.hop_length)
    with pytest.raises(ValueError, match="windows"):
        model(too_long)


def test_invalid_configurations():
    with pytest.raises(ValueError, match="multiple of the patch"):
        build(CompressedSTFT(400, 100), 4096)
    with pytest.raises(ValueError, match="variant"):
        build(CompressedSTFT(512, 128), 4096, "subtractive")
    model = build(CompressedSTFT(512, 128), 4096)
    encoder, decoder = model.mae.encoder, model.mae.decoder
    with pytest.raises(ValueError, match="norm_pix_loss"):
        MAEEnhancer(AudioMAE(encoder, decoder), CompressedSTFT(512, 128))
    mae = AudioMAE(encoder, decoder, norm_pix_loss=False)
    with pytest.raises(ValueError, match="in_chans=2"):
        MAEEnhancer(mae, CompressedSTFT(512, 128), "complex_mask")
    with pytest.raises(ValueError, match="does not cover"):
        MAEEnhancer(mae, CompressedSTFT(1024, 128))


# ------------------------------------------------- Audio-MAE restoration ---


def _mae(grid=(4, 2), **kwargs):
    encoder = AudioMAEEncoder(grid=grid, d_model=32, depth=1, num_heads=2)
    decoder = AudioMAEDecoder(grid, 32, 16, depth=1, num_heads=2)
    return AudioMAE(encoder, decoder, **kwargs).eval()


def test_restoration_target_loss_on_all_patches():
    grid = (4, 2)
    model = _mae(grid, mask_ratio=0.5, norm_pix_loss=False, loss_on="all")
    x = torch.randn(2, 64, 32)
    y = 0.5 * x + 2.0  # a target other than the input
    noise = torch.rand(2, 8)
    out = model(x, noise=noise, target=y)
    assert int(out["mask"].sum()) == 2 * 4  # half of each grid masked
    pred = unpatchify(out["pred"], grid)
    expected = ((pred - y) ** 2).mean()
    torch.testing.assert_close(out["loss"], expected)
    wrong = ((pred - x) ** 2).mean()
    assert abs(float(out["loss"] - wrong)) > 1.0
    # without a target the input is the target (MAE reconstruction)
    same = model(x, noise=noise)
    torch.testing.assert_close(same["pred"], out["pred"])
    torch.testing.assert_close(same["loss"], wrong)
    # with norm_pix_loss a restoration target is refused
    strict = _mae(grid, norm_pix_loss=True, loss_on="all")
    with pytest.raises(ValueError, match="norm_pix_loss"):
        strict(x, target=y)
    assert torch.isfinite(strict(x)["loss"])


def test_restoration_target_loss_on_masked_patches():
    grid = (4, 2)
    model = _mae(grid, mask_ratio=0.75, norm_pix_loss=False, loss_on="masked")
    x, y = torch.randn(3, 64, 32), torch.randn(3, 64, 32)
    out = model(x, noise=torch.rand(3, 8), target=y)
    mask = out["mask"]
    assert mask.sum(dim=1).tolist() == [6.0, 6.0, 6.0]
    per_patch = ((out["pred"] - patchify(y)) ** 2).mean(dim=-1)
    expected = (per_patch * mask).sum() / mask.sum()
    torch.testing.assert_close(out["loss"], expected)
    assert abs(float(out["loss"] - per_patch.mean())) > 1e-3
    # visible patches get no gradient
    (grad,) = torch.autograd.grad(out["loss"], out["pred"])
    visible = mask < 0.5
    assert grad[visible].abs().max() == 0
    assert grad[~visible].abs().min() > 0


def test_mask_mode_none_keeps_every_token():
    grid = (4, 2)
    model = _mae(grid, mask_mode="none", norm_pix_loss=False, loss_on="all")
    x, y = torch.randn(2, 64, 32), torch.randn(2, 64, 32)
    latent, mask, ids_restore = model.forward_encoder(x, mask_ratio=0.9)
    assert latent.shape == (2, 1 + 8, 32)
    assert not mask.any()
    assert torch.equal(ids_restore, torch.arange(8).expand(2, -1))
    out = model(x, mask_ratio=0.9, target=y)
    expected = ((unpatchify(out["pred"], grid) - y) ** 2).mean()
    torch.testing.assert_close(out["loss"], expected)
    with pytest.raises(ValueError, match="loss_on='all'"):
        _mae(grid, mask_mode="none", loss_on="masked")
    with pytest.raises(ValueError, match="loss_on='all'"):
        _mae(grid, mask_mode="none")  # default loss_on is "masked"
    with pytest.raises(ValueError, match="loss_on"):
        _mae(grid, loss_on="visible")


def test_enhancer_loss_is_the_mean_over_real_frames():
    fe = CompressedSTFT(512, 128)
    g = torch.Generator().manual_seed(2)
    noisy = 0.1 * torch.randn(2, 3000, generator=g)
    clean = 0.1 * torch.randn(2, 3000, generator=g)
    for variant in ("vanilla", "multiplicative", "complex_mask"):
        model = build(fe, 4096, variant, complex_weight=0.5).eval()
        out = model(noisy)
        ref_feats, ref_spec = model.analyse(clean)
        expected = ((out["feats"] - ref_feats) ** 2).mean()
        if variant == "complex_mask":
            est = out["spec"]
            c_est = est.abs().clamp(min=1e-8) ** -0.7 * est
            c_ref = ref_spec.abs().clamp(min=1e-8) ** -0.7 * ref_spec
            expected = expected + 0.5 * ((c_est - c_ref).abs() ** 2).mean()
        torch.testing.assert_close(model.loss(out, clean), expected)
    # loss on the masked patches only: a masked-weighted patch average
    model = build(
        fe,
        4096,
        "vanilla",
        mask_mode="random",
        mask_ratio=0.5,
        loss_on="masked",
    ).eval()
    out = model(noisy)
    mask = out["mask"]
    assert mask.sum(dim=1).tolist() == [24.0, 24.0]
    err = (out["feats"] - model.analyse(clean)[0]) ** 2
    err = torch.nn.functional.pad(err, (0, 0, 0, 48 - err.shape[1]))
    per_patch = patchify(err).mean(dim=-1) * 48 / fe.num_frames(3000)
    expected = (per_patch * mask).sum() / mask.sum()
    torch.testing.assert_close(model.loss(out, clean), expected)
    (grad,) = torch.autograd.grad(model.loss(out, clean), out["feats"])
    assert grad.abs().sum() > 0


def test_time_freq_masking_is_off_at_inference():
    model = build(
        CompressedSTFT(512, 128), 4096, mask_mode="time+freq", mask_ratio=0.5
    ).eval()
    out = model(0.1 * torch.randn(1, 4000), mask_ratio=0.0)
    assert not out["mask"].any()


def test_masked_loss_without_masking_uses_all_patches():
    model = build(
        CompressedSTFT(512, 128),
        4096,
        mask_mode="random",
        mask_ratio=0.5,
        loss_on="masked",
    ).eval()
    g = torch.Generator().manual_seed(9)
    noisy = 0.1 * torch.randn(1, 3000, generator=g)
    clean = 0.1 * torch.randn(1, 3000, generator=g)
    out = model(noisy, mask_ratio=0.0)
    assert not out["mask"].any()
    expected = ((out["feats"] - model.analyse(clean)[0]) ** 2).mean()
    torch.testing.assert_close(model.loss(out, clean), expected)


# ------------------------------------------------------------ head maths ---


@pytest.mark.parametrize("name", ["stft512-log1p", "stft512-power", "mel"])
def test_multiplicative_mask_is_bounded(name):
    fe = front_end(name)
    bound = 2.0
    model = build(
        fe,
        4096,
        "multiplicative",
        mask_bound=bound,
        feat_mean=0.3,
        feat_std=0.5,
    ).eval()
    wav = 0.2 * torch.randn(2, 3500, generator=torch.Generator().manual_seed(3))
    if model.is_stft:
        noisy = fe.stft(wav).abs()
    else:
        noisy = fe.mel(wav).clamp(min=fe.floor)
    floor = 0.0 if model.is_stft else fe.floor  # the log-mel clamp

    def enhanced(out):
        if model.is_stft:
            return out["spec"].abs()
        return fe.decompress(model.denormalize(out["feats"]))

    def masked(gain):
        return (gain * noisy).clamp(min=floor)

    with torch.no_grad():
        zero_head(model)  # a zero prediction is a gain of 0.9
        torch.testing.assert_close(
            enhanced(model(wav)), masked(0.9), rtol=1e-4, atol=1e-6
        )
        scale_head(model)
        out = enhanced(model(wav))
        ceiling = masked(bound)
        assert (out <= ceiling * (1 + 1e-4) + 1e-6).all()
        ratio = out / ceiling
        assert ratio.max() > 0.99 and ratio.min() < 0.01  # both ends used
        zero_head(model, 30.0)  # sigmoid = 1: exactly bound * noisy
        torch.testing.assert_close(
            enhanced(model(wav)), ceiling, rtol=1e-4, atol=1e-6
        )
        zero_head(model, -30.0)  # sigmoid ~ 0: silence
        silent = enhanced(model(wav))
        assert silent.max() <= (1e-9 if model.is_stft else fe.floor * 1.0001)
    with pytest.raises(ValueError, match="mask_bound"):
        build(fe, 4096, "multiplicative", mask_bound=0.9)


@pytest.mark.parametrize("name", ["stft512-log1p", "mel"])
def test_additive_with_zero_head_is_identity(name):
    fe = front_end(name)
    model = build(fe, 4096, "additive", feat_mean=0.4, feat_std=0.7).eval()
    rate = fe.sample_rate
    t = torch.arange(3000) / rate
    wav = (0.3 * torch.sin(2 * math.pi * 440 * t))[None]
    zero_head(model)
    with torch.no_grad():
        out = model(wav)
    assert torch.equal(out["feats"], model.analyse(wav)[0])
    torch.testing.assert_close(model.denormalize(out["feats"]), fe(wav))
    if model.is_stft:  # no Nyquist content: back to the input
        torch.testing.assert_close(model.waveform(out), wav, atol=2e-4, rtol=0)
    vanilla = build(fe, 4096, "vanilla", feat_mean=0.4, feat_std=0.7).eval()
    zero_head(vanilla)
    with torch.no_grad():
        out = vanilla(wav)
    assert torch.equal(out["feats"], torch.zeros_like(out["feats"]))
    assert model.denormalize(out["feats"]).eq(0.4).all()


def test_complex_mask_gain_is_bounded():
    fe = CompressedSTFT(512, 128, "power")
    bound = 1.5
    model = build(fe, 4096, "complex_mask", mask_bound=bound).eval()
    wav = 0.2 * torch.randn(2, 4000, generator=torch.Generator().manual_seed(4))
    noisy = fe.stft(wav)

    def expected_gain(m):  # m = 1 + prediction, |gain| = b tanh(|m| / b)
        return bound * math.tanh(abs(m) / bound) * m / abs(m)

    with torch.no_grad():
        zero_head(model)  # a zero prediction: m = 1, a real gain near 1
        out = model(wav)
        torch.testing.assert_close(
            out["spec"], noisy * expected_gain(1.0), rtol=1e-4, atol=1e-6
        )
        scale_head(model, 10.0)
        gain = model(wav)["spec"].abs() / noisy.abs().clamp(min=1e-12)
        assert gain.max() <= bound * (1 + 1e-4)
        assert gain.max() > 0.95 * bound
        assert gain.min() < 0.5
        # constant prediction p = -0.7 - 0.4j: m = 0.3 - 0.4j
        size = 16 * 16
        bias = torch.cat([torch.full((size,), -0.7), torch.full((size,), -0.4)])
        zero_head(model, bias)
        out = model(wav)
        factor = expected_gain(complex(0.3, -0.4))
        assert abs(factor) < bound
        torch.testing.assert_close(
            out["spec"], noisy * factor, rtol=1e-4, atol=1e-6
        )
        torch.testing.assert_close(
            model.denormalize(out["feats"]), fe.compress(out["spec"].abs())
        )


@pytest.mark.parametrize("variant", VARIANTS)
def test_heads_start_at_zero(variant):
    fe = CompressedSTFT(512, 128)
    model = build(fe, 4096, variant, mask_bound=1.5).eval()
    pred = model.mae.decoder.decoder_pred
    assert not pred.weight.any() and not pred.bias.any()
    wav = 0.2 * torch.randn(1, 3000, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        out = model(wav)
    noisy = fe.stft(wav)
    gain = {
        "vanilla": None,
        "additive": 1.0,
        "multiplicative": 0.9,
        "complex_mask": 1.5 * math.tanh(1 / 1.5),
    }[variant]
    if gain is None:  # vanilla predicts the normalised features: zero
        assert not out["feats"].any()
    else:
        torch.testing.assert_close(
            out["spec"], noisy * gain, rtol=1e-4, atol=1e-5
        )


def _trainable(module):
    """``requires_grad`` flags of ``module`` (fixed sin-cos tables left out)."""
    return {
        p.requires_grad
        for name, p in module.named_parameters()
        if "pos_embed" not in name
    }


@pytest.fixture
def three_block_model():
    return build(CompressedSTFT(512, 128), 4096, depth=3)


def test_encoder_and_decoder_train_by_default(three_block_model):
    encoder = three_block_model.mae.encoder
    decoder = three_block_model.mae.decoder
    assert not encoder.pos_embed.requires_grad
    assert not decoder.decoder_pos_embed.requires_grad
    assert _trainable(encoder) == _trainable(decoder) == {True}


def test_set_trainable_encoder_zero_freezes_the_encoder(three_block_model):
    three_block_model.set_trainable_encoder(0)
    assert _trainable(three_block_model.mae.encoder) == {False}
    assert _trainable(three_block_model.mae.decoder) == {True}


def test_set_trainable_encoder_trains_the_top_blocks(three_block_model):
    three_block_model.set_trainable_encoder(2)
    encoder = three_block_model.mae.encoder
    assert _trainable(encoder.blocks[0]) == {False}
    assert _trainable(encoder.blocks[1]) == {True}
    assert _trainable(encoder.blocks[2]) == {True}
    assert _trainable(encoder.norm) == {True}
    assert _trainable(encoder.patch_embed) == {False}
    assert not encoder.cls_token.requires_grad
    assert not encoder.pos_embed.requires_grad
    assert _trainable(three_block_model.mae.decoder) == {True}


def test_set_trainable_encoder_none_unfreezes_all(three_block_model):
    three_block_model.set_trainable_encoder(0)
    three_block_model.set_trainable_encoder(None)
    encoder = three_block_model.mae.encoder
    trainable = {n for n, p in encoder.named_parameters() if p.requires_grad}
    frozen = {n for n, p in encoder.named_parameters() if not p.requires_grad}
    assert frozen == {"pos_embed"}
    assert {"cls_token", "norm.weight", "blocks.0.attn.qkv.weight"} <= trainable


def test_frozen_encoder_blocks_get_no_gradient(three_block_model):
    model = three_block_model
    model.set_trainable_encoder(1)
    scale_head(model, 1.0)  # a zero output layer passes no gradient back
    model(0.1 * torch.randn(1, 3000))["feats"].pow(2).sum().backward()
    encoder = model.mae.encoder
    assert encoder.blocks[0].attn.qkv.weight.grad is None
    assert encoder.blocks[2].attn.qkv.weight.grad.abs().sum() > 0
    assert model.mae.decoder.decoder_pred.weight.grad.abs().sum() > 0


# ------------------------------------------------------------------ data ---

RATE = 16000
SEGMENT = 4000


def _write(path, wav):
    save_audio(str(path), wav, RATE)
    return str(path)


@pytest.fixture
def speech_files(tmp_path):
    g = torch.Generator().manual_seed(5)
    entries = {}
    for i, n in enumerate((16000, 12345, 20000)):
        wav = speech_like(
            samples=n, rate=RATE, seed=g, batch=1, n_harmonics=15
        )[0] + 0.001 * torch.randn(n, generator=g)
        entries[f"utt{i}"] = {"wav": _write(tmp_path / f"utt{i}.wav", wav)}
    write_manifest(entries, tmp_path / "data.json")
    return tmp_path / "data.json", entries


def _gsr(snr_low=0.0, snr_high=10.0):
    noise = torch.randn(RATE * 2, generator=torch.Generator().manual_seed(6))
    return GSRPipeline(
        sample_rate=RATE,
        noises=[noise],
        snr_low=snr_low,
        snr_high=snr_high,
        noise_prob=1.0,
        noise_bandlimit_prob=0.0,
        reverb_prob=0.0,
        clip_prob=0.0,
        bandlimit_prob=0.0,
    )


def _offset(segment, wav):
    """Start of ``segment`` inside ``wav`` (exact match), or None."""
    for start in (wav == segment[0]).nonzero().flatten().tolist():
        if torch.equal(wav[start : start + len(segment)], segment):
            return start
    return None


def test_single_layout_target_is_the_clean_crop(speech_files):
    manifest, entries = speech_files
    low, high = 0.0, 10.0
    data = enhancement_dataset(
        manifest, "train", "single", RATE, SEGMENT, distortion=_gsr(low, high)
    )
    snrs = []
    offsets = []
    for index, uid in enumerate(entries):
        loaded = load_audio(entries[uid]["wav"])[0]
        for _ in range(2):
            item = data[index]
            assert item["id"] == uid
            target, noisy = item["target_sig"], item["input_sig"]
            assert target.shape == noisy.shape == (SEGMENT,)
            start = _offset(target, loaded)
            assert start is not None, "target is not a crop of the file"
            offsets.append(start)
            noise = noisy - target
            assert noise.pow(2).mean() > 1e-5
            snr = float(measure_snr(target[None], noise[None], None, 320))
            assert low - 0.01 <= snr <= high + 0.01
            snrs.append(snr)
    assert len(set(round(s, 3) for s in snrs)) == len(snrs)  # fresh SNRs
    assert len(set(offsets)) > 1  # fresh crops
    # a train item differs between calls
    first, second = data[0], data[0]
    assert not torch.equal(first["input_sig"], second["input_sig"])


def test_single_layout_valid_and_test_are_fixed(speech_files):
    manifest, entries = speech_files

    def dataset(stage, seed=0):
        return enhancement_dataset(
            manifest, stage, "single", RATE, SEGMENT, _gsr(), eval_seed=seed
        )

    valid = dataset("valid")
    a, b = valid[1], valid[1]
    assert torch.equal(a["input_sig"], b["input_sig"])
    assert torch.equal(a["target_sig"], b["target_sig"])
    loaded = load_audio(entries["utt1"]["wav"])[0]
    assert torch.equal(a["target_sig"], loaded[:SEGMENT])  # fixed crop
    assert not torch.equal(a["input_sig"], a["target_sig"])
    again = dataset("valid")[1]  # a new dataset, same distortion
    assert torch.equal(again["input_sig"], a["input_sig"])
    other = dataset("valid", seed=1)[1]
    assert not torch.equal(other["input_sig"], a["input_sig"])
    noise_0 = valid[0]["input_sig"] - valid[0]["target_sig"]
    noise_1 = a["input_sig"] - a["target_sig"]
    assert not torch.allclose(noise_0, noise_1)  # seeded per utterance
    test = dataset("test")
    whole = test[1]
    assert torch.equal(whole["target_sig"], loaded)  # whole file
    assert torch.equal(whole["input_sig"], test[1]["input_sig"])
    assert not torch.equal(whole["input_sig"], whole["target_sig"])


def test_paired_layout_crops_both_at_the_same_offset(tmp_path):
    shift = 37
    g = torch.Generator().manual_seed(7)
    entries = {}
    for i, n in enumerate((15000, 9000, 3000)):  # the last one < segment
        base = speech_like(
            samples=n + shift, rate=RATE, seed=g, batch=1, n_harmonics=15
        )[0]
        base = base + 0.05 * torch.randn(n + shift, generator=g)
        noisy = _write(tmp_path / f"noisy{i}.wav", base[:n])
        # clean[j] == noisy[j + shift]; 50 more samples (trimmed)
        clean_wav = torch.cat([base[shift:], torch.zeros(50)])
        clean = _write(tmp_path / f"clean{i}.wav", clean_wav)
        entries[f"p{i}"] = {"noisy_wav": noisy, "clean_wav": clean}
    write_manifest(entries, tmp_path / "pairs.json")
    loaded = load_audio(entries["p0"]["noisy_wav"])[0]
    for stage in ("train", "valid"):
        data = enhancement_dataset(
            tmp_path / "pairs.json", stage, "paired", RATE, SEGMENT
        )
        offsets = set()
        for index in range(3):
            for _ in range(4 if stage == "train" else 2):
                item = data[index]
                noisy, clean = item["input_sig"], item["target_sig"]
                assert noisy.shape == clean.shape == (SEGMENT,)
                n = (15000, 9000, 3000)[index]
                valid = min(n, SEGMENT)
                # aligned: the clean crop is the noisy crop advanced by shift
                assert torch.equal(clean[: valid - shift], noisy[shift:valid])
                assert clean[:valid].abs().max() > 0.01
                if n < SEGMENT:  # zero-padded short pair
                    assert not noisy[n:].any() and not clean[n:].any()
                if index == 0:
                    offsets.add(_offset(noisy, loaded))
        assert None not in offsets
        if stage == "train":
            assert len(offsets) > 1  # random crops
        else:
            assert offsets == {0}  # fixed crop at the start
    with pytest.raises(ValueError, match="distortion"):
        enhancement_dataset(tmp_path / "pairs.json", "train", "single", RATE, 1)


def test_crops_read_before_resampling_match_the_resampled_file(tmp_path):
    # 16 kHz files read at 22.05 kHz: only the crop is decoded and
    # resampled; it equals the same excerpt of the whole resampled file.
    g = torch.Generator().manual_seed(8)
    wav = speech_like(
        samples=40000, rate=16000, seed=g, batch=1, n_harmonics=15
    )[0] + 0.01 * torch.randn(40000)
    path = tmp_path / "a.wav"
    soundfile.write(str(path), wav.numpy(), 16000, subtype="FLOAT")
    whole = load_audio(str(path), sample_rate=22050)[0]
    starts = set()
    for seed in range(6):
        gen = torch.Generator().manual_seed(seed)
        (crop,) = read_crops([str(path)], 22050, 4410, gen, random=True)
        start = int(
            torch.randint(
                0,
                whole.shape[0] - 4410 + 1,
                (1,),
                generator=torch.Generator().manual_seed(seed),
            )
        )
        starts.add(start)
        assert crop.shape == (4410,)
        ref = whole[start : start + 4410]
        assert (crop - ref).abs().max() < 1e-5
    assert len(starts) > 1
    (first,) = read_crops([str(path)], 22050, 4410, None, random=False)
    assert (first - whole[:4410]).abs().max() < 1e-5


def test_paired_test_items_have_equal_lengths(tmp_path):
    noisy = _write(tmp_path / "noisy.wav", 0.1 * torch.randn(6000))
    clean = _write(tmp_path / "clean.wav", 0.1 * torch.randn(6050))
    write_manifest(
        {"p": {"noisy_wav": noisy, "clean_wav": clean}}, tmp_path / "m.json"
    )
    data = enhancement_dataset(tmp_path / "m.json", "test", "paired", RATE, 1)
    item = data[0]
    assert item["input_sig"].shape == item["target_sig"].shape


# -------------------------------------------------------------- learning ---


#: The size of the models of the learning tests (deeper than TINY).
LEARNING = dict(
    d_model=32,
    depth=2,
    num_heads=2,
    decoder_dim=32,
    decoder_depth=1,
    decoder_num_heads=2,
)


def _learn_white_noise_removal(model, rate, segment, steps, pass_noisy):
    """Train ``model`` to remove white noise; mean SI-SDR before / after.

    Also checks that the training loss drops by 30 %. ``pass_noisy``: the
    waveform is made from the noisy input too (``mel_mask`` synthesis).
    """
    held_out = torch.Generator().manual_seed(123)
    clean_eval = speech_like(
        samples=segment, rate=rate, seed=held_out, batch=16, n_harmonics=15
    )
    noisy_eval = add_white_noise(clean_eval, held_out)
    train = torch.Generator().manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(steps):
        clean = speech_like(
            samples=segment, rate=rate, seed=train, batch=8, n_harmonics=15
        )
        loss = model.loss(model(add_white_noise(clean, train)), clean)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert last < 0.7 * first, (first, last)
    model.eval()
    with torch.no_grad():
        noisy = (noisy_eval,) if pass_noisy else ()
        enhanced = model.waveform(model(noisy_eval), *noisy)
    before = sum(si_sdr(c, n) for c, n in zip(clean_eval, noisy_eval)) / 16
    after = sum(si_sdr(c, e) for c, e in zip(clean_eval, enhanced)) / 16
    return before, after


@pytest.mark.parametrize("variant", ["multiplicative", "complex_mask"])
def test_tiny_enhancer_learns_to_remove_white_noise(variant):
    rate, segment, steps = 8000, 2048, 150
    torch.manual_seed(0)
    model = build_mae_enhancer(
        CompressedSTFT(256, 64, "log1p", sample_rate=rate),
        segment,
        variant,
        **LEARNING,
        feat_mean=0.3,
        feat_std=0.3,
    )
    assert model.grid == (3, 8)
    before, after = _learn_white_noise_removal(
        model, rate, segment, steps, pass_noisy=False
    )
    assert abs(before) < 0.5  # 0 dB input
    assert after > before + 2.0, (before, after)


def test_tiny_mel_mask_enhancer_learns_to_remove_white_noise():
    """Multiplicative mel model, waveform by its gains on the noisy STFT."""
    rate, segment, steps = 8000, 2048, 150
    torch.manual_seed(0)
    mel = HifiganMel(rate, 256, 64, 256, n_mels=32, f_max=4000.0)
    model = build_mae_enhancer(
        mel,
        segment,
        "multiplicative",
        **LEARNING,
        feat_mean=-4.0,
        feat_std=3.0,
        loss_power=0.3,
        synthesis="mel_mask",
    )
    assert not model.needs_vocoder
    before, after = _learn_white_noise_removal(
        model, rate, segment, steps, pass_noisy=True
    )
    assert after > before + 2.0, (before, after)


def test_band_gains_keep_passed_bands_and_remove_stopped_ones():
    rate = 22050
    mel = HifiganMel()
    t = torch.arange(rate) / rate
    low = torch.sin(2 * math.pi * 500 * t)
    high = torch.sin(2 * math.pi * 5000 * t)
    frames = mel.num_frames(rate)
    centres = mel.mel_basis.argmax(dim=0) * rate / mel.n_fft  # Hz per band
    gains = (centres < 2000).float().expand(1, frames, -1)
    out = mel.apply_band_gains((low + high)[None], gains)[0]
    core = slice(2048, -2048)  # away from the edges
    err_low = (out[core] - low[core]).pow(2).mean() / low[core].pow(2).mean()
    assert float(err_low) < 1e-3  # the passed tone is untouched
    spectrum = torch.fft.rfft(out[core]).abs()
    freqs = torch.fft.rfftfreq(out[core].shape[0], 1 / rate)
    kept = spectrum[(freqs - 500).abs() < 20].max()
    stopped = spectrum[(freqs - 5000).abs() < 20].max()
    assert float(20 * torch.log10(kept / stopped)) > 60  # stopped tone gone


def test_mel_mask_synthesis_is_the_gain_on_the_noisy_stft():
    model = build(HifiganMel(), 8192, "multiplicative", synthesis="mel_mask")
    model.eval()
    scale_head(model, 1.0)  # gains that vary over bins and frames
    wav = 0.1 * torch.randn(2, 7000, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        out = model(wav)
        wave = model.waveform(out, wav)
    gain = out["gain"]
    assert gain.shape == (2, 27, 80)
    assert float(gain.std()) > 0.01
    expected = model.front_end.apply_band_gains(wav, gain)
    assert torch.allclose(wave, expected)
    assert not torch.allclose(wave, wav, atol=1e-3)
    with pytest.raises(ValueError, match="noisy input"):
        model.waveform(out)
    vocoded = build(HifiganMel(), 8192, "multiplicative")
    assert vocoded.needs_vocoder
    with pytest.raises(ValueError, match="vocoder"):
        vocoded.waveform(out, wav)
    with pytest.raises(ValueError, match="multiplicative mel"):
        build(HifiganMel(), 8192, "additive", synthesis="mel_mask")
    with pytest.raises(ValueError, match="synthesis"):
        build(HifiganMel(), 8192, "multiplicative", synthesis="griffin")


@pytest.mark.parametrize("variant", ["multiplicative", "complex_mask"])
def test_patch_size_8_grid_and_identity_start(variant):
    """Smaller patches: the grid follows, and the zero-initialised head
    starts near the identity (gain 0.9 for masks)."""
    fe = CompressedSTFT(256, 64) if variant == "complex_mask" else HifiganMel()
    model = build(fe, 4096, variant, patch_size=8).eval()
    frames = fe.num_frames(4096)
    assert model.grid == (math.ceil(frames / 8), fe.n_bins // 8)
    wav = 0.1 * torch.randn(1, 4000)
    out = model(wav, mask_ratio=0.0)
    assert out["feats"].shape == (1, fe.num_frames(4000), fe.n_bins)
    if variant == "multiplicative":
        lin = fe.decompress(model.denormalize(model.analyse(wav)[0]))
        est = fe.decompress(model.denormalize(out["feats"]))
        ratio = est / lin
        torch.testing.assert_close(
            ratio[lin > 1e-3], torch.full_like(ratio[lin > 1e-3], 0.9)
        )
    else:
        gain = out["spec"].abs() / fe.stft(wav).abs().clamp(min=1e-6)
        bound = model.mask_bound
        expected = bound * math.tanh(1 / bound)
        assert torch.allclose(
            gain[fe.stft(wav).abs() > 1e-3],
            torch.tensor(expected),
            atol=1e-4,
        )


def test_input_skip_starts_at_zero_and_hides_masked_patches():
    """The skip starts at zero (same output as without it) and adds nothing
    on masked patches (their input stays hidden from the output)."""
    fe = CompressedSTFT(256, 64)
    torch.manual_seed(0)
    plain = build(fe, 4096, "vanilla", mask_mode="random", mask_ratio=0.5)
    torch.manual_seed(0)
    skip = build(
        fe, 4096, "vanilla", mask_mode="random", mask_ratio=0.5, input_skip=True
    )
    wav = 0.1 * torch.randn(1, 4000)
    torch.testing.assert_close(
        skip(wav, mask_ratio=0.0)["feats"], plain(wav, mask_ratio=0.0)["feats"]
    )
    with torch.no_grad():
        skip.skip.weight.normal_()
    torch.manual_seed(1)
    with_skip = skip(wav)
    with torch.no_grad():
        skip.skip.weight.zero_()
    torch.manual_seed(1)
    without = skip(wav)
    real = skip.grid[1] * (with_skip["feats"].shape[1] // 16)  # no padding
    masked = with_skip["mask"][0].bool()[:real]
    diff = (
        patchify(skip._to_grid(with_skip["feats"] - without["feats"]), 16)
        .abs()[0, :real]
        .sum(-1)
    )
    assert masked.any() and (~masked).any()
    assert float(diff[masked].max()) == 0.0
    assert float(diff[~masked].min()) > 0.0


def test_power_compressed_loss_values():
    # loss_power=p: MSE of |X| ** p of the linear magnitudes, not of the
    # normalised log-mel; a silent-bin floor error weighs little.
    front = HifiganMel()
    model = build_mae_enhancer(
        front,
        4096,
        "multiplicative",
        feat_mean=-6.0,
        feat_std=2.0,
        loss_power=0.5,
        **TINY,
    )
    g = torch.Generator().manual_seed(0)
    clean = 0.1 * torch.randn(1, 4096, generator=g)
    noisy = clean + 0.05 * torch.randn(1, 4096, generator=g)
    out = model(noisy)
    est = model.denormalize(out["feats"]).exp()
    ref = front(clean).exp()
    expected = (est.sqrt() - ref.sqrt()).pow(2).mean()
    assert torch.allclose(model.loss(out, clean), expected, rtol=1e-4)
    with pytest.raises(ValueError, match="loss_power"):
        build_mae_enhancer(front, 4096, loss_power=0.0, **TINY)
