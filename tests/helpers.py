"""Shared test helpers: a speech-like signal, the tiny MaskSR config,
loading and running recipe scripts.

Importable from any test as ``from helpers import ...`` (``tests/`` is on
pytest's ``pythonpath``); ``tests/conftest.py`` wraps them as fixtures.

Authors
 * speechbrain-masksr contributors 2026
"""

import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import scipy.signal
import torch

#: The repository root (recipes are found from it).
ROOT = Path(__file__).resolve().parents[1]

#: The tiny MAE enhancer architecture of the tests (d 32, one encoder and
#: one decoder block).
TINY_MAE_ARCH = dict(
    d_model=32,
    depth=1,
    num_heads=2,
    decoder_dim=16,
    decoder_depth=1,
    decoder_num_heads=2,
)


#: The tiny MaskSR model-folder config (``write_model_folder``) of the tests:
#: d 32, one encoder and one LM block, the tiny DAC's 9 x 1024 codebooks.
TINY_MASKSR = dict(
    sample_rate=44100,
    segment_seconds=0.5,
    d_model=32,
    nhead=4,
    encoder_layers=1,
    lm_layers=1,
    n_codebooks=9,
    codebook_size=1024,
    variant="flat",
    cond_dropout=0.1,
    sampling_steps=2,
    guidance=2.0,
    overlap_seconds=0.1,
)


def tiny_masksr(seed=0, **overrides):
    """A randomly initialised MaskSR of the :data:`TINY_MASKSR` size."""
    from speechbrain_masksr.lobes.masksr import build_masksr

    size = {
        k: TINY_MASKSR[k]
        for k in ("d_model", "nhead", "encoder_layers", "lm_layers")
    }
    size.update(n_codebooks=9, codebook_size=1024, hop_length=512)
    torch.manual_seed(seed)
    return build_masksr(**{**size, **overrides})


def write_tiny_model_folder(root, seed=0, codec_path=None, **config):
    """Tiny DAC + tiny MaskSR written by ``write_model_folder``.

    Returns ``(folder, model)``; ``config`` overrides :data:`TINY_MASKSR`.
    """
    from speechbrain_masksr.codecs.dac import save_tiny_dac
    from speechbrain_masksr.inference.restoration import write_model_folder

    if codec_path is None:
        codec_path = save_tiny_dac(root / "codec" / "weights.pth")
    model = tiny_masksr(seed)
    folder = write_model_folder(
        root / "model", model, {**TINY_MASKSR, **config}, codec_path
    )
    return folder, model


def speech_like(
    duration=1.0,
    rate=16000,
    seed=0,
    batch=None,
    f0=None,
    n_harmonics=30,
    formants=None,
    syllables=True,
    floor=0.05,
    noise=0.0,
    peak=0.3,
    samples=None,
):
    """Voiced speech-like audio: a harmonic source, optional formants,
    syllable-rate amplitude modulation, optional white noise.

    The f0 (random in 100-250 Hz unless given) has a slow vibrato; harmonic
    ``k`` has a random amplitude ``~1/k`` and phase and is kept below 0.45 x
    ``rate``; ``formants`` is a list of ``(centre Hz, bandwidth Hz)``
    two-pole resonators; the syllable envelope is a half-wave rectified sine
    at 2-5 Hz above ``floor``. Each row is scaled to ``peak``, then white
    noise of standard deviation ``noise`` is added.

    Arguments
    ---------
    duration : float
        Seconds (ignored when ``samples`` is given).
    rate : int
        Sample rate (Hz).
    seed : int or torch.Generator
        Seed, or a generator to draw from (advanced in place).
    batch : int or None
        Rows; ``None`` returns a single ``[samples]`` signal.
    f0 : float or None
        Mean fundamental (Hz); random per row when ``None``.
    n_harmonics : int
        Most harmonics.
    formants : list of (float, float) or None
        Resonators applied to the source.
    syllables : bool
        Apply the syllable envelope.
    floor : float
        Envelope floor (between syllables).
    noise : float
        Standard deviation of the added white noise.
    peak : float
        Peak of each row before the noise.
    samples : int or None
        Exact length in samples.

    Returns
    -------
    torch.Tensor
        ``[batch, samples]`` or ``[samples]``, float32.
    """
    g = seed if isinstance(seed, torch.Generator) else None
    if g is None:
        g = torch.Generator().manual_seed(int(seed))
    rows = 1 if batch is None else batch
    n = int(samples if samples is not None else round(duration * rate))

    def rand(*shape):
        return torch.rand(*shape, generator=g, dtype=torch.float64)

    t = torch.arange(n, dtype=torch.float64) / rate
    mean_f0 = (
        100 + 150 * rand(rows, 1)
        if f0 is None
        else torch.full((rows, 1), float(f0), dtype=torch.float64)
    )
    vibrato = 2 + 3 * rand(rows, 1)
    pitch = mean_f0 * (
        1 + 0.05 * torch.sin(2 * math.pi * (vibrato * t + rand(rows, 1)))
    )
    phase = 2 * math.pi * torch.cumsum(pitch, dim=1) / rate
    top = mean_f0 * 1.05
    out = torch.zeros(rows, n, dtype=torch.float64)
    for k in range(1, n_harmonics + 1):
        below = (k * top < 0.45 * rate).double()
        amp = (0.5 + 0.5 * rand(rows, 1)) / k
        out += below * amp * torch.sin(k * phase + 2 * math.pi * rand(rows, 1))
    if formants:
        x = out.numpy()
        for fc, bw in formants:
            r = math.exp(-math.pi * bw / rate)
            den = [1, -2 * r * math.cos(2 * math.pi * fc / rate), r * r]
            x = scipy.signal.lfilter([1 - r], den, x, axis=-1)
        out = torch.from_numpy(np.ascontiguousarray(x))
    if syllables:
        syl = 2 + 3 * rand(rows, 1)
        wave = torch.sin(2 * math.pi * (syl * t + rand(rows, 1)))
        out = out * (floor + (1 - floor) * wave.clamp(min=0))
    out = peak * out / out.abs().amax(dim=1, keepdim=True).clamp(min=1e-12)
    if noise:
        out = out + noise * torch.randn(out.shape, generator=g, dtype=out.dtype)
    out = out.float()
    return out[0] if batch is None else out


def run_recipe_script(script, hparams_file, output, args=(), nproc=None):
    """Runs a recipe script in a subprocess; fails with its log tail.

    ``python [-m torch.distributed.run ...] script hparams_file
    --output_folder=output *args``, with one thread and an offline hub.
    """
    cmd = [sys.executable]
    if nproc:
        cmd += ["-m", "torch.distributed.run", "--standalone"]
        cmd += [f"--nproc_per_node={nproc}"]
    cmd += [str(script), str(hparams_file)]
    cmd += [f"--output_folder={output}", *args]
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc


def read_train_log(path):
    """Per-epoch stats of a FileTrainLogger file."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        stats = dict(re.findall(r"(\w+ \w+|\w+): ([-+.\deE]+)", line))
        rows.append({k: float(v) for k, v in stats.items()})
    return rows


def load_recipe(rel, name=None):
    """A recipe script (not a package) as a module, imported once.

    ``rel`` is relative to :data:`ROOT`; the module is registered in
    ``sys.modules`` as ``name`` (default: the file stem).
    """
    name = name or Path(rel).stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / rel)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
