"""masksr-restore: folders, progress, untouched inputs, clear errors;
hidden inputs, killed and concurrent runs, unwritable outputs.

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
from helpers import write_tiny_model_folder
from speechbrain.dataio import audio_io

from speechbrain_masksr.cli.restore import main, restore_all
from speechbrain_masksr.dataio import save_audio
from speechbrain_masksr.utils.files import (
    atomic_write,
    claim_output,
    claim_path,
)

SR = 44100


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny model folder."""
    return write_tiny_model_folder(tmp_path_factory.mktemp("cli_model"))[0]


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


def test_cli_every_kind_of_input_file(model_dir, tmp_path, capsys):
    """Rates, channels, sample formats and containers are converted; empty,
    too short, NaN and non-audio files are named and skipped (status 1)."""
    inp = tmp_path / "mixed"
    (inp / "deep" / "er").mkdir(parents=True)
    gen = torch.Generator().manual_seed(0)

    def noise(*shape):
        return (0.1 * torch.randn(*shape, generator=gen)).numpy()

    good = {  # name: (samples, rate, subtype)
        "stereo8k.wav": ((1600, 2), 8000, "PCM_16"),
        "r96k.wav": ((19200,), 96000, "PCM_24"),
        "float.wav": ((8820,), SR, "FLOAT"),
        "a.flac": ((4000,), 22050, "PCM_16"),
        "b.ogg": ((8820,), SR, "VORBIS"),
        "deep/er/n.wav": ((3200,), 16000, "PCM_16"),
    }
    for name, (shape, sr, subtype) in good.items():
        soundfile.write(str(inp / name), noise(*shape), sr, subtype=subtype)
    soundfile.write(str(inp / "zero.wav"), noise(0), SR)
    soundfile.write(str(inp / "ten.wav"), noise(10), SR)
    bad = noise(8820).astype("float32")
    bad[50] = float("nan")
    soundfile.write(str(inp / "nan.wav"), bad, SR, subtype="FLOAT")
    (inp / "text.wav").write_text("not audio")
    before = digest(inp)
    out = tmp_path / "out"
    code = main(
        [str(inp), "-o", str(out), "--source", str(model_dir)]
        + ["--steps", "1", "--device", "cpu"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "zero.wav: audio is empty" in err
    assert "ten.wav: audio has 10 samples" in err
    assert "nan.wav: audio contains NaN" in err
    assert "text.wav: not a readable audio file" in err
    assert "restored 6/10" in err
    assert digest(inp) == before
    for name, (shape, sr, _) in good.items():
        dst = (out / name).with_suffix(".wav")
        data, rate = audio_io.load(str(dst))
        assert rate == SR and data.shape == (1, round(shape[0] * SR / sr))
        assert torch.isfinite(data).all() and data.abs().sum() > 0
    assert sorted(p.name for p in out.rglob("*.wav")) == sorted(
        Path(n).with_suffix(".wav").name for n in good
    )


def test_cli_existing_outputs_and_out_dir_inside_input(model_dir, tmp_path):
    inp = tmp_path / "in"
    save_audio(inp / "a.flac", 0.1 * torch.randn(6000), SR)
    save_audio(inp / "a.wav", 0.1 * torch.randn(5000), SR)  # not an input
    before = digest(inp)
    args = ["--source", str(model_dir), "--steps", "1"]
    # a.flac -> in/a.wav would replace a file that is not an input: skipped
    assert main([str(inp / "a.flac"), "-o", str(inp), *args]) == 1
    assert digest(inp) == before
    # an output folder inside the input folder: outputs are never inputs
    (inp / "a.flac").unlink()
    out = inp / "restored"
    assert main([str(inp), "-o", str(out), *args]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.wav"]
    assert main([str(inp), "-o", str(out), *args]) == 1  # exist already
    assert main([str(inp), "-o", str(out), *args, "--overwrite"]) == 0
    assert not (out / "restored").exists()
    assert digest(inp)["a.wav"] == before["a.wav"]
    # a separate output folder: a re-run needs --overwrite too
    other = tmp_path / "elsewhere"
    assert main([str(inp / "a.wav"), "-o", str(other), *args]) == 0
    assert main([str(inp / "a.wav"), "-o", str(other), *args]) == 1
    assert (
        main([str(inp / "a.wav"), "-o", str(other), *args, "--overwrite"]) == 0
    )


def test_cli_model_and_option_errors(model_dir, tmp_path, capsys):
    save_audio(tmp_path / "x.wav", 0.1 * torch.randn(5000), SR)
    base = [str(tmp_path / "x.wav"), "-o", str(tmp_path / "out")]
    good = ["--source", str(model_dir)]
    for bad in (
        ["--steps", "0"],
        ["--steps", "1001"],
        ["--steps", "x"],
        ["--seed", "-1"],
        ["--seed", str(2**63)],
        ["--guidance", "-1"],
        ["--guidance", "nan"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(base + good + bad)
        assert exc.value.code == 2
        assert bad[0] in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main(base + good + ["--device", "cuda"]) == 2
        err = capsys.readouterr().err
        assert "CUDA is not available" in err
        # the library names the device, the command line adds its flag
        assert "--device cuda:" in err and "use the device 'cpu'" in err
    assert main(base + good + ["--device", "gpu"]) == 2
    captured = capsys.readouterr()
    assert "--device gpu: unknown device" in captured.err
    assert captured.out == ""
    missing = str(tmp_path / "no" / "model")
    assert main(base + ["--source", missing]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(base + ["--source", str(model_dir / "model.ckpt")]) == 2
    assert "is a file" in capsys.readouterr().err
    corrupt = tmp_path / "corrupt"
    shutil.copytree(model_dir, corrupt)
    (corrupt / "model.ckpt").write_bytes(b"garbage")
    assert main(base + ["--source", str(corrupt)]) == 2
    assert "corrupt" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------
# MAE speech enhancer folders (model_type: mae_enhancer)
# --------------------------------------------------------------------------
ENH_SR = 16000  # the tiny folder's rate (exported enhancers: 22.05 kHz)


@pytest.fixture(scope="module")
def enhancer_dir(tmp_path_factory):
    """A tiny MAE enhancer model folder."""
    from speechbrain_masksr.inference.enhancement import write_enhancer_folder
    from speechbrain_masksr.lobes.mae_enhancer import build_mae_enhancer
    from speechbrain_masksr.lobes.spectral import CompressedSTFT

    arch = dict(
        d_model=32,
        depth=1,
        num_heads=2,
        decoder_dim=16,
        decoder_depth=1,
        decoder_num_heads=2,
    )
    values = dict(
        sample_rate=ENH_SR,
        n_fft=512,
        hop_length=128,
        segment_samples=4096,
        variant="complex_mask",
        **arch,
    )
    torch.manual_seed(0)
    model = build_mae_enhancer(
        CompressedSTFT(512, 128), 4096, "complex_mask", **arch
    )
    root = tmp_path_factory.mktemp("cli_enhancer")
    return write_enhancer_folder(root / "enh", model, values)


def test_cli_enhancer_folder(enhancer_dir, tmp_path, capsys):
    from speechbrain_masksr.inference.enhancement import MAEEnhancement

    inp = tmp_path / "in"
    save_audio(inp / "stereo8k.wav", 0.1 * torch.randn(2, 6000), 8000)
    save_audio(inp / "sub" / "mono16k.flac", 0.1 * torch.randn(9000), ENH_SR)
    (inp / "sub" / "broken.wav").write_text("not audio")
    before = digest(inp)
    out = tmp_path / "out"
    code = main(
        [str(inp), "-o", str(out), "--source", str(enhancer_dir)]
        + ["--device", "cpu"]
    )
    err = capsys.readouterr().err
    assert code == 1  # the broken file, named
    assert "broken.wav" in err and "restored 2/3" in err
    assert "100%" in err and "file" in err  # progress bar
    assert digest(inp) == before  # inputs untouched
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.wav"))
    assert written == ["stereo8k.wav", "sub/mono16k.wav"]
    for name, n in (("stereo8k.wav", 12000), ("sub/mono16k.wav", 9000)):
        data, sr = audio_io.load(str(out / name))
        assert sr == ENH_SR and data.shape == (1, n)  # model rate, mono
        assert torch.isfinite(data).all() and data.abs().sum() > 0
    assert soundfile.info(str(out / "stereo8k.wav")).subtype == "PCM_16"
    # the same result as the interface itself
    enhancer = MAEEnhancement.from_hparams(
        source=str(enhancer_dir), run_opts={"device": "cpu"}
    )
    ref = tmp_path / "ref"
    ref.mkdir()
    for name in ("stereo8k.wav", "sub/mono16k.flac"):
        dst = ref / Path(name).with_suffix(".wav").name
        enhancer.enhance_file(str(inp / name), str(dst))
        got, _ = audio_io.load(str(out / Path(name).with_suffix(".wav")))
        expected, _ = audio_io.load(str(dst))
        assert torch.allclose(got, expected, atol=1e-4)
    assert digest(inp) == before


def test_cli_enhancer_refuses_masksr_options(enhancer_dir, tmp_path, capsys):
    save_audio(tmp_path / "x.wav", 0.1 * torch.randn(5000), ENH_SR)
    out = tmp_path / "out"
    base = [str(tmp_path / "x.wav"), "-o", str(out)]
    base += ["--source", str(enhancer_dir)]
    for option in (
        ["--steps", "8"],
        ["--guidance", "1"],
        ["--seed", "3"],
        ["--noise", "gumbel"],
    ):
        assert main(base + option) == 2
        err = capsys.readouterr().err
        assert option[0] in err and "MAE speech enhancer" in err
        assert not out.exists()  # nothing written
    # the safety rules hold for enhancer folders too
    code = main(
        [str(tmp_path / "x.wav"), "-o", str(tmp_path)]
        + ["--source", str(enhancer_dir)]
    )
    assert code == 2
    assert "would overwrite the input" in capsys.readouterr().err


def test_cli_unknown_model_folder(tmp_path, capsys):
    save_audio(tmp_path / "x.wav", 0.1 * torch.randn(5000), ENH_SR)
    out = tmp_path / "out"
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "hyperparams.yaml").write_text(
        "sample_rate: 16000\nmodules:\n    model: !new:torch.nn.Identity\n"
    )
    base = [str(tmp_path / "x.wav"), "-o", str(out), "--source", str(folder)]
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "cannot load the model" in err
    assert "neither a MaskSR nor an MAE enhancer" in err
    (folder / "hyperparams.yaml").write_text("model_type: vocoder\n")
    assert main(base) == 2
    assert "unknown model_type 'vocoder'" in capsys.readouterr().err
    assert not out.exists()


# --------------------------------------------------------------------------
# Reliability: existing outputs, symlinks, suffixes, interrupted writes
# --------------------------------------------------------------------------
def test_cli_never_replaces_outputs_without_overwrite(
    model_dir, tmp_path, capsys
):
    for name in ("x", "y"):
        save_audio(tmp_path / f"{name}.wav", 0.1 * torch.randn(5000), SR)
    inputs = [str(tmp_path / "x.wav"), str(tmp_path / "y.wav")]
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.wav").write_bytes(b"earlier output")
    args = ["-o", str(out), "--source", str(model_dir), "--steps", "1"]
    assert main(inputs + args) == 1
    err = capsys.readouterr().err
    assert f"{out / 'x.wav'} exists" in err and "--overwrite" in err
    assert "restored 1/2" in err and "1 skipped" in err
    assert (out / "x.wav").read_bytes() == b"earlier output"
    assert soundfile.info(str(out / "y.wav")).frames == 5000
    # nothing left to do: no model is loaded (a missing one is not noticed)
    missing = ["-o", str(out), "--source", str(tmp_path / "no_model")]
    assert main(inputs + missing) == 1
    err = capsys.readouterr().err
    assert "cannot load" not in err and "restored 0/2" in err
    assert main(inputs + args + ["--overwrite"]) == 0
    assert soundfile.info(str(out / "x.wav")).frames == 5000


def test_cli_refuses_symlinks_out_of_out_dir(model_dir, tmp_path, capsys):
    save_audio(tmp_path / "in" / "sub" / "x.wav", 0.1 * torch.randn(5000), SR)
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "x.wav"
    victim.write_bytes(b"not yours")
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "x.wav").symlink_to(victim)
    args = ["-o", str(out), "--source", str(model_dir), "--steps", "1"]
    for extra in ([], ["--overwrite"]):
        assert main([str(tmp_path / "in"), *args, *extra]) == 2
        err = capsys.readouterr().err
        assert f"{out / 'sub' / 'x.wav'} is a symlink to {victim}" in err
    # a sub-folder of -o that is a symlink out of it
    shutil.rmtree(out / "sub")
    (out / "sub").symlink_to(outside, target_is_directory=True)
    assert main([str(tmp_path / "in"), *args, "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "outside the output folder" in err and str(out / "sub") in err
    assert victim.read_bytes() == b"not yours"
    assert sorted(p.name for p in outside.iterdir()) == ["x.wav"]
    # a link to a file inside -o is an existing output (skipped)
    (out / "sub").unlink()
    (out / "sub").mkdir()
    (out / "other.wav").write_bytes(b"inside")
    (out / "sub" / "x.wav").symlink_to(out / "other.wav")
    assert main([str(tmp_path / "in"), *args]) == 1
    assert "exists" in capsys.readouterr().err
    assert (out / "other.wav").read_bytes() == b"inside"


def test_cli_checks_outputs_before_the_model(tmp_path, capsys):
    """Suffixes that are paths, collisions and folders that cannot be made
    are usage errors found before the (here missing) model is looked at."""
    inp = tmp_path / "in"
    save_audio(inp / "a.wav", 0.1 * torch.randn(5000), SR)
    out = tmp_path / "out"
    base = [str(inp), "-o", str(out), "--source", str(tmp_path / "none")]
    for suffix in ("/../x", "../x", "a/b", ".."):
        assert main(base + ["--suffix", suffix]) == 2
        err = capsys.readouterr().err
        assert "--suffix" in err and "cannot load" not in err
    save_audio(inp / "a.flac", 0.1 * torch.randn(5000), SR)
    assert main(base) == 2
    assert "would both be written" in capsys.readouterr().err
    (inp / "a.flac").unlink()
    save_audio(inp / "sub" / "b.wav", 0.1 * torch.randn(5000), SR)
    out.mkdir()
    (out / "sub").write_text("a file where a folder is needed")
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "cannot create the output folder" in err and "cannot load" not in err
    assert sorted(p.name for p in out.iterdir()) == ["sub"]


def test_restore_all_names_the_input_in_errors(capsys):
    def restore_one(src, dst):
        raise RuntimeError("CUDA out of memory")

    pairs = [(Path("in") / "a.wav", Path("out") / "a.wav")]
    assert restore_all(pairs, restore_one, "out") == 1
    err = capsys.readouterr().err
    assert f"error: {Path('in') / 'a.wav'}: CUDA out of memory" in err


def test_cli_interrupted_write_keeps_earlier_output(
    model_dir, tmp_path, capsys, monkeypatch
):
    save_audio(tmp_path / "x.wav", 0.1 * torch.randn(5000), SR)
    out = tmp_path / "out"
    args = [str(tmp_path / "x.wav"), "-o", str(out), "--source"]
    args += [str(model_dir), "--steps", "1", "--overwrite"]
    assert main(args) == 0
    before = (out / "x.wav").read_bytes()
    real_write = soundfile.write

    def write_part_then_fail(file, data, *rest, **kwargs):
        real_write(file, data[: len(data) // 3], *rest, **kwargs)
        raise OSError("No space left on device")

    monkeypatch.setattr(soundfile, "write", write_part_then_fail)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert str(tmp_path / "x.wav") in err and "No space left" in err
    assert (out / "x.wav").read_bytes() == before  # complete, untouched
    assert [p.name for p in out.iterdir()] == ["x.wav"]  # no temp file


# --------------------------------------------------------------------------
# Killed runs, concurrent runs, unwritable outputs, odd options and inputs
# --------------------------------------------------------------------------
def truncated_copy(src, dst):
    """``dst``: the first half of the WAV file ``src`` (what a killed writer
    leaves: readable, but truncated)."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: len(data) // 2])
    return Path(dst)


def test_cli_skips_hidden_inputs_and_removes_stale_temp_files(
    model_dir, tmp_path, capsys
):
    inp = tmp_path / "in"
    save_audio(inp / "a.wav", 0.1 * torch.randn(5000), SR)
    hidden = truncated_copy(inp / "a.wav", inp / ".a.0123abcd.tmp.wav")
    assert audio_io.load(str(hidden))[0].numel() > 0  # readable
    save_audio(inp / ".cache" / "b.wav", 0.1 * torch.randn(5000), SR)
    out = tmp_path / "out"
    out.mkdir()
    # what killed runs left in -o: a temporary file and a claim (no process
    # holds them), plus files that are not this package's
    stale = truncated_copy(inp / "a.wav", out / ".a.89abcdef.tmp.wav")
    claim = claim_path(out / "a.wav")
    claim.write_text("999999999\n")
    others = [out / ".a.wav.swp", out / ".z.0123abcd.tmp.csv"]
    for path in others:
        path.write_text("not ours to remove")
    args = [str(inp), "-o", str(out), "--source", str(model_dir)]
    with atomic_write(out / "live.wav") as live:  # a live writer's file
        live.write_bytes(b"RIFF")
        assert main(args + ["--steps", "1"]) == 0
        assert live.exists()
    err = capsys.readouterr().err
    assert "restored 1/1" in err  # neither hidden file is an input
    assert f"removed {stale} (left by an interrupted run)" in err
    assert f"removed {claim}" in err and str(live) not in err
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["a.wav", "live.wav"] + [p.name for p in others]
    )
    assert soundfile.info(str(out / "a.wav")).frames == 5000


def test_cli_output_claimed_by_a_live_run_is_left_to_it(
    model_dir, tmp_path, capsys
):
    for name in ("x", "y"):
        save_audio(tmp_path / "in" / f"{name}.wav", 0.1 * torch.randn(5000), SR)
    out = tmp_path / "out"
    args = [str(tmp_path / "in"), "-o", str(out), "--source", str(model_dir)]
    args += ["--steps", "1"]
    with claim_output(out / "x.wav"):  # another run is restoring x.wav
        assert main(args) == 1
        for extra in (["--overwrite"], []):  # neither may take it
            assert main(args + extra) == 1
    err = capsys.readouterr().err
    taken = (
        f"skipped {tmp_path / 'in' / 'x.wav'}: output {out / 'x.wav'} is "
        f"being written by another process (process {os.getpid()})"
    )
    assert err.count(taken) == 3
    assert "1 skipped (written by another run)" in err
    assert not (out / "x.wav").exists()  # left to the claimant
    assert soundfile.info(str(out / "y.wav")).frames == 5000


def test_cli_output_written_meanwhile_is_not_replaced(
    model_dir, tmp_path, capsys, monkeypatch
):
    from speechbrain_masksr.cli import restore

    save_audio(tmp_path / "in" / "x.wav", 0.1 * torch.randn(5000), SR)
    save_audio(tmp_path / "in" / "y.wav", 0.1 * torch.randn(5000), SR)
    out = tmp_path / "out"
    args = [str(tmp_path / "in"), "-o", str(out), "--source", str(model_dir)]
    args += ["--steps", "1"]
    # y.wav: another run finishes it between this run's plan and its claim
    real_claim = restore.claim_output

    def claim_after_the_other(dst):
        if dst.name == "y.wav":
            dst.write_bytes(b"first run's y")
        return real_claim(dst)

    monkeypatch.setattr(restore, "claim_output", claim_after_the_other)
    # x.wav: a writer that takes no claim publishes it while this run writes
    real_write = soundfile.write

    def write_then_other_publishes(file, *rest, **kwargs):
        real_write(file, *rest, **kwargs)
        if Path(file).name.startswith(".x."):
            (out / "x.wav").write_bytes(b"first run's x")

    monkeypatch.setattr(soundfile, "write", write_then_other_publishes)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"{out / 'x.wav'} was created by another writer" in err
    assert f"{out / 'y.wav'} was written by another run" in err
    assert "restored 0/2" in err and "2 skipped (written by another run)" in err
    assert (out / "x.wav").read_bytes() == b"first run's x"
    assert (out / "y.wav").read_bytes() == b"first run's y"
    assert sorted(p.name for p in out.iterdir()) == ["x.wav", "y.wav"]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_cli_unwritable_out_dir_fails_before_the_model(
    model_dir, tmp_path, capsys, monkeypatch
):
    from speechbrain_masksr.cli import restore

    calls = []
    monkeypatch.setattr(restore, "model_kind", lambda *a: calls.append(a))
    monkeypatch.setattr(restore, "_load", lambda *a: calls.append(a))
    save_audio(tmp_path / "x.wav", 0.1 * torch.randn(5000), SR)
    for out in ("/proc/masksr_out", "/proc/sys/masksr/out"):
        code = main([str(tmp_path / "x.wav"), "-o", out, "--source", "m"])
        assert code == 2
        err = capsys.readouterr().err
        assert f"cannot write the output folder {out}" in err
    assert calls == []  # no model work at all


def test_interfaces_check_the_output_path_before_any_work(
    model_dir, enhancer_dir, tmp_path, monkeypatch
):
    from speechbrain_masksr.errors import OutputError
    from speechbrain_masksr.inference.enhancement import MAEEnhancement
    from speechbrain_masksr.inference.restoration import SpeechRestoration

    src = tmp_path / "in.wav"
    save_audio(src, 0.1 * torch.randn(4000), SR)
    (tmp_path / "exists.wav").write_bytes(b"earlier output")
    restorer = SpeechRestoration.from_folder(source=str(model_dir))
    enhancer = MAEEnhancement.from_folder(source=str(enhancer_dir))

    def no_work(*args, **kwargs):
        raise AssertionError("model work before the output check")

    bad = [tmp_path / "a_file.wav" / "out.wav"]
    (tmp_path / "a_file.wav").write_bytes(b"x")
    if Path("/proc/self").is_dir():
        bad.append(Path("/proc/masksr/out.wav"))
    for interface, method in (
        (restorer, "restore_file"),
        (enhancer, "enhance_file"),
    ):
        monkeypatch.setattr(interface, "load_audio", no_work)
        for out in bad:
            with pytest.raises(OutputError, match=f"cannot write {out}"):
                getattr(interface, method)(src, out)
        with pytest.raises(OutputError, match="exists.wav exists"):
            getattr(interface, method)(
                src, tmp_path / "exists.wav", overwrite=False
            )
    assert (tmp_path / "exists.wav").read_bytes() == b"earlier output"
    # MaskSR steps: integers >= 1 only, refused before any work
    for steps in (2.7, True, 0, "3"):
        with pytest.raises(ValueError, match="steps must be"):
            restorer.restore_file(src, steps=steps)
    with pytest.raises(ValueError, match="integer"):
        restorer.restore_batch(0.1 * torch.randn(1, 4410), steps=2.7)


def test_cli_refuses_fractional_steps_and_warns_on_loud_input(
    model_dir, tmp_path, capsys
):
    src = tmp_path / "in" / "loud.wav"
    src.parent.mkdir()
    x = 0.5 * torch.sin(torch.arange(5000) / 7.0)
    soundfile.write(str(src), (1000 * x).numpy(), SR, subtype="FLOAT")
    base = [str(src), "-o", str(tmp_path / "out"), "--source", str(model_dir)]
    for steps in ("2.7", "1e1", "true"):
        with pytest.raises(SystemExit) as exc:
            main(base + ["--steps", steps])
        assert exc.value.code == 2
        assert "--steps: must be an integer" in capsys.readouterr().err
    assert main(base + ["--steps", "1"]) == 0
    err = capsys.readouterr().err
    assert f"warning: {src}: samples reach 500" in err
    assert "restored 1/1" in err
