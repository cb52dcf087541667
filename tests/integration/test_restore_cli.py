"""masksr-restore: folders, progress, untouched inputs, clear errors.

Authors
 * speechbrain-masksr contributors 2026
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile
import torch
from speechbrain.dataio import audio_io

from speechbrain_masksr.cli.restore import main
from speechbrain_masksr.codecs.dac import save_tiny_dac
from speechbrain_masksr.dataio import save_audio
from speechbrain_masksr.inference.restoration import write_model_folder
from speechbrain_masksr.lobes.codec_lm import MaskedCodecLM
from speechbrain_masksr.lobes.masksr import MaskSR
from speechbrain_masksr.lobes.speech_encoder import SpeechEncoder

SR = 44100
CONFIG = dict(
    sample_rate=SR,
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


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny model folder."""
    root = tmp_path_factory.mktemp("cli_model")
    codec = save_tiny_dac(root / "weights.pth")
    torch.manual_seed(0)
    model = MaskSR(
        SpeechEncoder(d_model=32, num_layers=1, nhead=4),
        MaskedCodecLM(9, 1024, d_model=32, num_layers=1, nhead=4),
    )
    return write_model_folder(root / "model", model, CONFIG, codec)


def digest(folder):
    """SHA-256 of every file under ``folder``."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file()
    }


def make_inputs(root):
    """A folder with a 16 kHz stereo file, a 44.1 kHz file in a sub-folder
    and a file that is not audio."""
    inp = root / "in"
    save_audio(inp / "a.wav", 0.1 * torch.randn(2, 8000), 16000)
    save_audio(inp / "sub" / "b.flac", 0.1 * torch.randn(15000), SR)
    (inp / "sub" / "broken.wav").write_text("this is not audio")
    return inp


def test_cli_folder_progress_untouched_and_errors(model_dir, tmp_path):
    inp = make_inputs(tmp_path)
    before = digest(inp)
    out = tmp_path / "out"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    exe = Path(sys.executable).parent / "masksr-restore"
    cmd = [str(exe)]  # the console script
    if not exe.exists():  # not installed as a console script
        cmd = [sys.executable, "-m", "speechbrain_masksr.cli.restore"]
    proc = subprocess.run(
        [*cmd, str(inp), "-o", str(out), "--source", str(model_dir)]
        + ["--steps", "1", "--seed", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr  # one file failed
    assert "broken.wav" in proc.stderr  # named in the error
    assert "100%" in proc.stderr and "file" in proc.stderr  # progress bar
    assert "restored 2/3" in proc.stderr
    assert digest(inp) == before  # inputs untouched
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.wav"))
    assert written == ["a.wav", "sub/b.wav"]  # structure kept
    for name, n in (("a.wav", round(0.5 * SR)), ("sub/b.wav", 15000)):
        data, sr = audio_io.load(str(out / name))
        assert sr == SR and data.shape == (1, n)  # 44.1 kHz mono, same length
        assert torch.isfinite(data).all() and data.abs().sum() > 0
    assert soundfile.info(str(out / "a.wav")).subtype == "PCM_16"


def test_cli_refuses_to_overwrite_inputs(model_dir, tmp_path, capsys):
    inp = make_inputs(tmp_path)
    shutil.rmtree(inp / "sub")
    before = digest(inp)
    # output folder == input folder
    assert main([str(inp), "-o", str(inp), "--source", str(model_dir)]) == 2
    assert "input folder" in capsys.readouterr().err
    # an output path that is an input file
    code = main(
        [str(inp / "a.wav"), "-o", str(inp / "."), "--source", str(model_dir)]
    )
    assert code == 2
    assert "would overwrite the input" in capsys.readouterr().err
    assert digest(inp) == before
    # --suffix makes the same folder usable without touching the input
    code = main(
        [str(inp / "a.wav"), "-o", str(inp), "--source", str(model_dir)]
        + ["--suffix", "_restored", "--steps", "1"]
    )
    assert code == 0
    assert (inp / "a_restored.wav").exists()
    assert digest(inp)["a.wav"] == before["a.wav"]


def test_cli_clear_errors(model_dir, tmp_path, capsys):
    inp = make_inputs(tmp_path)
    out = tmp_path / "out"
    assert main([str(tmp_path / "nope.wav"), "-o", str(out), "--source", "x"])
    assert "nope.wav: no such file" in capsys.readouterr().err
    code = main([str(inp), "-o", str(out), "--source", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot load the model" in err and "hyperparams.yaml" in err
    assert not out.exists()
