"""End-to-end tests of the ``masksr-eval`` console script on generated files.

Authors
 * speechbrain-masksr contributors 2026
"""

import csv
import importlib.metadata
import io
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from functools import partial

import librosa
import numpy as np
import pytest
import torch
from helpers import speech_like

from speechbrain_masksr.cli.evaluate import main
from speechbrain_masksr.dataio import load_audio, save_audio
from speechbrain_masksr.metrics import (
    compute_nonintrusive_metrics,
    dnsmos,
    lsd,
    si_sdr,
)

SR = 16000
HEADER = (
    "file,lsd,pesq,estoi,si_sdr,dnsmos_sig,dnsmos_bak,dnsmos_ovrl,"
    "spk_sim_resemblyzer"
)
FREE_HEADER = "file,dnsmos_sig,dnsmos_bak,dnsmos_ovrl,dnsmos_p808"
FREE_KEYS = ("sig", "bak", "ovrl", "p808")
#: The clean voice of these tests (shared generator, 1.5 s at 130 Hz).
voice = partial(
    speech_like, rate=SR, duration=1.5, f0=130.0, peak=0.4, noise=0.003
)


def _write_folders(root):
    """ref/{a,b,sub/c}.wav; est/{a,sub/c (44.1 kHz), d}.wav under ``root``."""
    ref, est = root / "ref", root / "est"
    gen = torch.Generator().manual_seed(0)
    clean = {name: voice(seed=i) for i, name in enumerate("abc")}
    save_audio(ref / "a.wav", clean["a"], SR)
    save_audio(ref / "b.wav", clean["b"], SR)
    save_audio(ref / "sub" / "c.wav", clean["c"], SR)
    noisy_a = clean["a"] + 0.02 * torch.randn(len(clean["a"]), generator=gen)
    save_audio(est / "a.wav", noisy_a, SR)
    up = torch.from_numpy(
        librosa.resample(clean["c"].numpy(), orig_sr=SR, target_sr=44100)
    )
    save_audio(est / "sub" / "c.wav", up, 44100)
    save_audio(est / "d.wav", clean["b"], SR)
    return ref, est


@pytest.fixture
def folders(tmp_path):
    """ref/{a,b,sub/c}.wav; est/{a,sub/c (44.1 kHz), d}.wav."""
    return _write_folders(tmp_path)


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def pairs_run(tmp_path_factory):
    """One ``main`` run on :func:`_write_folders` with four metrics.

    Returns ``(ref, est, out, err, by_file)``: the folders, what it printed
    on stdout and stderr and the CSV rows by file name.
    """
    ref, est = _write_folders(tmp_path_factory.mktemp("eval_pairs"))
    out_csv = ref.parent / "out" / "scores.csv"
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        code = main(
            [
                "--ref",
                str(ref),
                "--est",
                str(est),
                "--csv",
                str(out_csv),
                "--metrics",
                "lsd,pesq,estoi,si_sdr",
                "--allow-partial",  # b.wav and d.wav have no partner
            ]
        )
    assert code == 0, stderr.getvalue()
    rows = read_csv(out_csv)
    assert ",".join(rows[0]) == HEADER  # exact columns
    by_file = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    return ref, est, stdout.getvalue(), stderr.getvalue(), by_file


def test_cli_lists_unpaired_files_both_ways(pairs_run):
    err = pairs_run[3]
    assert "reference file(s) without a matching estimate" in err
    assert "  b.wav" in err
    assert "estimate file(s) without a matching reference" in err
    assert "  d.wav" in err


def test_cli_prints_a_table_of_means(pairs_run):
    lines = pairs_run[2].strip().splitlines()
    assert lines[0].startswith("| system | files | lsd ↓ | pesq ↑")
    assert lines[2].startswith("| est | 2 |")
    by_file = pairs_run[4]
    means = np.mean([float(r["pesq"]) for r in by_file.values()])
    assert f"{means:.3f}" in lines[2]


def test_cli_csv_has_one_row_per_pair_and_empty_skipped_metrics(pairs_run):
    by_file = pairs_run[4]
    assert sorted(by_file) == ["a.wav", "sub/c.wav"]
    for row in by_file.values():
        assert row["dnsmos_ovrl"] == "" and row["spk_sim_resemblyzer"] == ""
        assert 1.0 <= float(row["pesq"]) <= 4.65


def test_cli_values_agree_with_the_library(pairs_run):
    """On the files as written."""
    ref, est, _, _, by_file = pairs_run
    ref_a, _ = load_audio(ref / "a.wav")
    est_a, _ = load_audio(est / "a.wav")
    row_a = by_file["a.wav"]
    assert float(row_a["si_sdr"]) == pytest.approx(
        si_sdr(ref_a, est_a), abs=1e-5
    )
    assert float(row_a["lsd"]) == pytest.approx(lsd(ref_a, est_a, SR), abs=1e-5)


def test_cli_resamples_the_estimate_to_the_reference_rate(pairs_run):
    """The 44.1 kHz estimate of c is scored at the reference's 16 kHz."""
    by_file = pairs_run[4]
    row_c = by_file["sub/c.wav"]
    assert float(row_c["si_sdr"]) > 25
    assert float(row_c["pesq"]) > float(by_file["a.wav"]["pesq"])


def test_cli_all_metrics_fill_every_column(folders, tmp_path, capsys):
    ref, est = folders
    out_csv = tmp_path / "all.csv"
    code = main(
        [
            "--ref",
            str(ref / "a.wav"),
            "--est",
            str(est / "a.wav"),
            "--csv",
            str(out_csv),
            "--no-progress",
        ]
    )
    assert code == 0
    rows = read_csv(out_csv)
    assert ",".join(rows[0]) == HEADER
    assert len(rows) == 2
    values = [float(v) for v in rows[1][1:]]
    assert all(np.isfinite(values))
    assert 1 <= values[6] <= 5 and 0 < values[7] <= 1.0  # dnsmos_ovrl, spk


def test_cli_skips_unreadable_audio_and_fails_when_nothing_left(
    folders, capsys
):
    ref, est = folders
    (est / "b.wav").write_text("this is not audio")
    args = ["--ref", str(ref), "--est", str(est), "--metrics", "si_sdr"]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 1  # some pairs were not scored
    assert "skipping b.wav" in err and "not a readable audio file" in err
    assert "1 unreadable pair(s)" in err
    assert main(args + ["--allow-partial"]) == 0
    capsys.readouterr()
    # Only unreadable pairs: nothing evaluated, non-zero exit status.
    code = main(
        [
            "--ref",
            str(ref / "b.wav"),
            "--est",
            str(est / "b.wav"),
            "--metrics",
            "si_sdr",
        ]
    )
    assert code == 1
    assert "no pair could be evaluated" in capsys.readouterr().err


def test_cli_bad_arguments(folders, tmp_path, capsys):
    ref, est = folders
    assert main(["--ref", str(tmp_path / "nope"), "--est", str(est)]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["--ref", str(ref), "--est", str(est), "--metrics", "x"]) == 2
    assert "unknown metric" in capsys.readouterr().err
    missing = str(tmp_path / "nope.pt")
    args = ["--ref", str(ref), "--est", str(est), "--spk-weights", missing]
    assert main(args + ["--metrics", "spk_sim"]) == 2
    assert f"--spk-weights {missing} not found" in capsys.readouterr().err


def test_cli_keeps_going_on_a_clip_too_short_to_score(tmp_path, capsys):
    ref, est = tmp_path / "ref", tmp_path / "est"
    for name, n in (("long.wav", SR), ("tiny.wav", 200)):
        save_audio(ref / name, voice(seed=0)[:n], SR)
        save_audio(est / name, voice(seed=0)[:n], SR)
    out_csv = tmp_path / "s.csv"
    code = main(
        [
            "--ref",
            str(ref),
            "--est",
            str(est),
            "--metrics",
            "estoi,si_sdr",
            "--csv",
            str(out_csv),
            "--no-progress",
        ]
    )
    assert code == 0
    assert "tiny.wav: estoi: clip too short" in capsys.readouterr().err
    rows = {r[0]: r for r in read_csv(out_csv)[1:]}
    assert rows["tiny.wav"][3] == "nan" and float(rows["long.wav"][3]) > 0.99


def test_console_script_is_declared_and_runs(folders):
    scripts = importlib.metadata.entry_points(group="console_scripts")
    targets = {ep.name: ep.value for ep in scripts}
    assert targets["masksr-eval"] == "speechbrain_masksr.cli.evaluate:main"
    ref, est = folders
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechbrain_masksr.cli.evaluate",
            "--ref",
            str(ref),
            "--est",
            str(est),
            "--metrics",
            "si_sdr",
            "--allow-partial",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "| est | 2 |" in proc.stdout


@pytest.fixture
def unpaired(tmp_path):
    """est/{clean.wav, sub/noisy.wav (+ loud white noise), up.wav (44.1k)}."""
    est = tmp_path / "est"
    clean = voice(seed=3, duration=2.0)
    gen = torch.Generator().manual_seed(1)
    noisy = clean + 0.2 * torch.randn(len(clean), generator=gen)
    save_audio(est / "clean.wav", clean, SR)
    save_audio(est / "sub" / "noisy.wav", noisy / noisy.abs().max() * 0.9, SR)
    up = librosa.resample(voice(seed=4).numpy(), orig_sr=SR, target_sr=44100)
    save_audio(est / "up.wav", torch.from_numpy(up), 44100)
    return est


def test_cli_reference_free_scores_every_file_with_dnsmos(
    unpaired, tmp_path, capsys
):
    out_csv = tmp_path / "free.csv"
    code = main(
        ["--est", str(unpaired), "--csv", str(out_csv), "--name", "mine"]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows = read_csv(out_csv)
    assert ",".join(rows[0]) == FREE_HEADER
    by_file = {r[0]: [float(v) for v in r[1:]] for r in rows[1:]}
    assert sorted(by_file) == ["clean.wav", "sub/noisy.wav", "up.wav"]
    # Per-file values equal the library's dnsmos on the files as written.
    for key, values in by_file.items():
        wav, sr = load_audio(unpaired / key)
        expected = dnsmos(wav, sr)
        assert values == pytest.approx(
            [expected[k] for k in FREE_KEYS], abs=1e-6
        )
        lib = compute_nonintrusive_metrics(wav, sr)
        assert values == pytest.approx(list(lib.values()), abs=1e-6)
        assert all(1.0 <= v <= 5.0 for v in values)
    # Loud white noise lowers the background score (BAK) clearly.
    assert by_file["clean.wav"][1] > by_file["sub/noisy.wav"][1] + 0.5
    # Markdown table of means, named by --name.
    lines = captured.out.strip().splitlines()
    assert lines[0] == (
        "| system | files | dnsmos_sig ↑ | dnsmos_bak ↑ | dnsmos_ovrl ↑ "
        "| dnsmos_p808 ↑ |"
    )
    means = np.mean(list(by_file.values()), axis=0)
    assert (
        lines[2]
        == "| mine | 3 | " + " | ".join(f"{m:.3f}" for m in means) + " |"
    )


def test_cli_reference_free_metric_subset_and_single_file(
    unpaired, tmp_path, capsys
):
    out_csv = tmp_path / "p808.csv"
    args = ["--est", str(unpaired / "clean.wav"), "--no-progress"]
    code = main(args + ["--metrics", "dnsmos_p808", "--csv", str(out_csv)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert lines[0] == "| system | files | dnsmos_p808 ↑ |"
    assert lines[2].startswith("| clean.wav | 1 |")
    rows = read_csv(out_csv)
    assert ",".join(rows[0]) == FREE_HEADER
    assert rows[1][:4] == ["clean.wav", "", "", ""]
    wav, sr = load_audio(unpaired / "clean.wav")
    assert float(rows[1][4]) == pytest.approx(dnsmos(wav, sr)["p808"], abs=1e-6)


def test_cli_reference_free_rejects_intrusive_metrics(unpaired, capsys):
    for metrics in ("pesq", "dnsmos,si_sdr", "spk_sim"):
        code = main(["--est", str(unpaired), "--metrics", metrics])
        err = capsys.readouterr().err
        assert code == 2
        assert "need(s) a reference signal" in err and "--ref" in err
        assert metrics.split(",")[-1] in err
    assert main(["--est", str(unpaired), "--metrics", "wer"]) == 2
    assert "unknown metric 'wer'" in capsys.readouterr().err
    assert main(["--est", str(unpaired / "nope")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_cli_reference_free_reports_unreadable_files(
    unpaired, tmp_path, capsys
):
    (unpaired / "broken.wav").write_text("this is not audio")
    out_csv = tmp_path / "s.csv"
    code = main(
        [
            "--est",
            str(unpaired),
            "--metrics",
            "dnsmos_bak",
            "--csv",
            str(out_csv),
            "--no-progress",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "could not score broken.wav" in captured.err
    assert "1 file(s) could not be scored:" in captured.err
    assert "  broken.wav" in captured.err
    # The readable files are still scored, tabled and written.
    assert "| est | 3 |" in captured.out
    files = [r[0] for r in read_csv(out_csv)[1:]]
    assert files == ["clean.wav", "sub/noisy.wav", "up.wav"]
    # Only unreadable files, or none at all: exit status 1.
    code = main(["--est", str(unpaired / "broken.wav")])
    assert code == 1
    assert "no file could be scored" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["--est", str(tmp_path / "empty")]) == 1
    assert "no audio files" in capsys.readouterr().err


def test_console_script_reference_free(unpaired):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechbrain_masksr.cli.evaluate",
            "--est",
            str(unpaired),
            "--metrics",
            "dnsmos_ovrl",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "| est | 3 |" in proc.stdout
    help_text = subprocess.run(
        [sys.executable, "-m", "speechbrain_masksr.cli.evaluate", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "without --ref" in " ".join(help_text.split()).lower()


# --------------------------------------------------------------------------
# Reliability: silent estimates, counted failures, exit status, atomic CSV
# --------------------------------------------------------------------------
def test_cli_silent_or_constant_estimate_is_nan_not_zero(tmp_path, capsys):
    ref, est = tmp_path / "ref", tmp_path / "est"
    clean = voice(seed=0)
    for name, estimate in (
        ("silent.wav", torch.zeros_like(clean)),
        ("constant.wav", torch.full_like(clean, 0.25)),
        ("good.wav", clean),
    ):
        save_audio(ref / name, clean, SR)
        save_audio(est / name, estimate, SR)
    out_csv = tmp_path / "s.csv"
    args = ["--ref", str(ref), "--est", str(est), "--csv", str(out_csv)]
    args += ["--no-progress", "--name", "x"]
    code = main(args + ["--metrics", "si_sdr"])
    captured = capsys.readouterr()
    assert code == 1  # two files could not be scored
    for name in ("silent.wav", "constant.wav"):
        assert f"{name}: si_sdr: the estimate is silent or constant" in (
            captured.err
        )
        assert f"could not score {name}" in captured.err
    assert "2 pair(s) every metric failed on" in captured.err
    rows = {r[0]: r for r in read_csv(out_csv)[1:]}
    assert rows["silent.wav"][4] == "nan" and rows["constant.wav"][4] == "nan"
    assert float(rows["good.wav"][4]) > 40
    assert "| x | 1 |" in captured.out  # the mean is over scored files only
    # another metric still scores it: counted, not a failure
    code = main(args + ["--metrics", "lsd,si_sdr"])
    err = capsys.readouterr().err
    assert code == 0
    assert "scored, but 2 pair(s) with a NaN metric" in err
    rows = {r[0]: r for r in read_csv(out_csv)[1:]}
    assert rows["silent.wav"][4] == "nan" and rows["silent.wav"][1] != "nan"


def test_cli_counts_what_it_could_not_score(folders, capsys):
    """Missing partners, unreadable and length-mismatched files are counted
    in the summary; any unscored file makes the status 1."""
    ref, est = folders  # b.wav: no estimate; d.wav: no reference
    save_audio(ref / "e.wav", voice(seed=5), SR)
    (est / "e.wav").write_text("not audio")
    save_audio(ref / "f.wav", voice(seed=6), SR)
    save_audio(est / "f.wav", voice(seed=6)[: SR // 2], SR)  # shorter
    args = ["--ref", str(ref), "--est", str(est), "--metrics", "si_sdr"]
    args += ["--no-progress"]
    assert main(args) == 1
    err = capsys.readouterr().err
    summary = next(x for x in err.splitlines() if "file(s) scored" in x)
    assert "3 file(s) scored; 3 not scored" in summary
    for text in (
        "1 reference(s) without an estimate",
        "1 estimate(s) without a reference",
        "1 unreadable pair(s)",
    ):
        assert text in summary
    assert "1 pair(s) whose lengths differ by more than 100 samples" in err
    assert "--allow-partial" in err
    assert main(args + ["--allow-partial"]) == 0
    capsys.readouterr()


def test_cli_reference_free_allow_partial(tmp_path, capsys):
    est = tmp_path / "est"
    save_audio(est / "a.wav", voice(seed=1), SR)
    (est / "broken.wav").write_text("not audio")
    args = ["--est", str(est), "--metrics", "dnsmos_p808", "--no-progress"]
    assert main(args) == 1
    assert "1 file(s) scored; 1 not scored" in capsys.readouterr().err
    assert main(args + ["--allow-partial"]) == 0


def test_write_csv_is_atomic(tmp_path, monkeypatch):
    from speechbrain_masksr.cli import evaluate

    path = tmp_path / "scores.csv"
    evaluate.write_csv(path, [{"file": "a.wav", "si_sdr": 1.0}])
    before = path.read_bytes()
    calls = []

    def cell_then_die(row, column):
        calls.append(column)
        if len(calls) > 3:
            raise KeyboardInterrupt("killed")
        return "1"

    monkeypatch.setattr(evaluate, "_csv_cell", cell_then_die)
    with pytest.raises(KeyboardInterrupt):
        evaluate.write_csv(path, [{"file": "b.wav"}] * 1000)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]


def test_cli_never_scores_hidden_files(tmp_path, capsys):
    """A killed ``masksr-restore`` leaves ``.<stem>.<random>.tmp.wav``
    (readable, truncated) next to its outputs; it and files in hidden
    folders are neither scored nor paired."""
    ref, est = tmp_path / "ref", tmp_path / "est"
    clean = voice(seed=1)
    save_audio(ref / "a.wav", clean, SR)
    save_audio(est / "a.wav", clean, SR)
    data = (est / "a.wav").read_bytes()
    temp = est / ".a.0123abcd.tmp.wav"
    temp.write_bytes(data[: len(data) // 2])
    assert load_audio(temp)[0].numel() > 0  # readable, so it would count
    save_audio(est / ".cache" / "b.wav", clean, SR)
    out_csv = tmp_path / "free.csv"
    args = ["--est", str(est), "--metrics", "dnsmos_p808", "--no-progress"]
    assert main(args + ["--csv", str(out_csv)]) == 0
    captured = capsys.readouterr()
    assert "| est | 1 |" in captured.out
    assert [r[0] for r in read_csv(out_csv)[1:]] == ["a.wav"]
    paired = ["--ref", str(ref), "--est", str(est), "--metrics", "si_sdr"]
    assert main(paired + ["--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "without a matching" not in err and "1 file(s) scored" in err


def test_cli_warns_about_audio_far_outside_unit_range(tmp_path, capsys):
    import soundfile

    ref, est = tmp_path / "ref", tmp_path / "est"
    clean = voice(seed=2)
    save_audio(ref / "a.wav", clean, SR)
    est.mkdir()
    loud = est / "a.wav"
    soundfile.write(str(loud), (1000 * clean).numpy(), SR, subtype="FLOAT")
    args = ["--ref", str(ref), "--est", str(est), "--metrics", "si_sdr"]
    assert main(args + ["--no-progress"]) == 0  # scored, with a warning
    assert f"a.wav: {loud}: samples reach 40" in capsys.readouterr().err
