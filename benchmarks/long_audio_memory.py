"""Peak memory of ``masksr-restore`` on long files (MaskSR and MAE enhancer).

The script writes a tiny MaskSR model folder (d 32, one encoder and one LM
block, 2 sampling steps, the tiny random-weight DAC; 3 s windows with 0.5 s
cross-fade, as the real template) and a tiny MAE enhancer folder (STFT
variant at 22.05 kHz, 2 s windows, 0.25 s cross-fade), then, for each input
length, restores one WAV file with ``masksr-restore`` (its ``main``, run in
a fresh child process) and prints the child's peak resident set size
(``ru_maxrss``) and wall time. A ``load only`` row is the same child
loading the model folder without restoring anything: the floor (Python,
torch, SpeechBrain, the model).

Random weights: the audio is meaningless, the memory and time are those of
the real code path (reading, resampling, windowing, sampling, DAC decoding,
cross-fading, writing). The input is random noise at ``--input-rate``
(default 16 kHz, so the 16 -> 44.1 kHz and 16 -> 22.05 kHz resampling of
the reader is included).

Usage::

    python benchmarks/long_audio_memory.py [--seconds 10 20 60 600]
        [--models masksr mae] [--input-rate 16000] [--threads 1]

To measure another checkout (e.g. the code before a change), run the same
script with that checkout first on ``PYTHONPATH``; the children inherit it.

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

TINY_MASKSR = dict(
    sample_rate=44100,
    segment_seconds=3.0,
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
    window_seconds=3.0,
    overlap_seconds=0.5,
)
TINY_MAE = dict(
    sample_rate=22050,
    n_fft=1024,
    hop_length=256,
    segment_samples=44032,
    variant="complex_mask",
    d_model=32,
    depth=1,
    num_heads=2,
    decoder_dim=16,
    decoder_depth=1,
    decoder_num_heads=2,
    overlap_seconds=0.25,
)


def write_masksr_folder(root):
    """Tiny MaskSR + tiny DAC model folder; returns its path."""
    from speechbrain_masksr.codecs.dac import save_tiny_dac
    from speechbrain_masksr.inference.restoration import write_model_folder
    from speechbrain_masksr.lobes.masksr import build_masksr

    codec = save_tiny_dac(root / "codec" / "weights.pth")
    torch.manual_seed(0)
    model = build_masksr(
        d_model=32,
        nhead=4,
        encoder_layers=1,
        lm_layers=1,
        n_codebooks=9,
        codebook_size=1024,
        hop_length=512,
    )
    return write_model_folder(root / "masksr", model, TINY_MASKSR, codec)


def write_mae_folder(root):
    """Tiny STFT MAE enhancer model folder; returns its path."""
    from speechbrain_masksr.inference.enhancement import write_enhancer_folder
    from speechbrain_masksr.lobes.mae_enhancer import build_mae_enhancer
    from speechbrain_masksr.lobes.spectral import CompressedSTFT

    torch.manual_seed(0)
    model = build_mae_enhancer(
        CompressedSTFT(TINY_MAE["n_fft"], TINY_MAE["hop_length"]),
        TINY_MAE["segment_samples"],
        TINY_MAE["variant"],
        d_model=32,
        depth=1,
        num_heads=2,
        decoder_dim=16,
        decoder_depth=1,
        decoder_num_heads=2,
    )
    return write_enhancer_folder(root / "mae", model, TINY_MAE)


def write_input(path, seconds, rate):
    """Random-noise WAV of ``seconds`` at ``rate`` (written in blocks)."""
    import soundfile

    gen = torch.Generator().manual_seed(0)
    block = 60 * rate
    total = round(seconds * rate)
    with soundfile.SoundFile(str(path), "w", rate, 1, subtype="PCM_16") as out:
        for start in range(0, total, block):
            n = min(block, total - start)
            out.write((0.1 * torch.randn(n, generator=gen)).numpy())


def child(args):
    """Run in the child: restore one file, print peak RSS as JSON."""
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    if args.input is None:  # load only
        from speechbrain_masksr.cli.restore import _load, model_kind

        kind = model_kind(args.source, None)
        _load(kind, args.source, None, {"device": "cpu"})
        status = 0
    else:
        from speechbrain_masksr.cli.restore import main

        argv = [args.input, "-o", args.out, "--source", args.source]
        argv += ["--device", "cpu", "--overwrite"]
        status = main(argv)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"status": status, "peak_kib": peak_kib, "s": seconds}))


def run_case(source, wav, out, threads):
    """One child process; returns its JSON report."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child"]
    cmd += ["--source", str(source), "--threads", str(threads)]
    if wav is not None:
        cmd += ["--input", str(wav), "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    if proc.returncode or not lines:
        raise RuntimeError(f"child failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(lines[-1])


def main(argv=None):
    """Build the folders, run every case, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--seconds", type=float, nargs="+", default=[10, 20, 60, 600]
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=["masksr", "mae"],
        choices=["masksr", "mae"],
    )
    parser.add_argument("--input-rate", type=int, default=16000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    import speechbrain_masksr

    print(f"speechbrain_masksr from {Path(speechbrain_masksr.__file__).parent}")
    print(f"input: noise at {args.input_rate} Hz; {args.threads} thread(s)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folders = {}
        if "masksr" in args.models:
            folders["masksr"] = write_masksr_folder(tmp)
        if "mae" in args.models:
            folders["mae"] = write_mae_folder(tmp)
        for name, folder in folders.items():
            report = run_case(folder, None, None, args.threads)
            rows.append((name, "load only", report))
            print(name, "load only", report, flush=True)
        for seconds in args.seconds:
            wav = tmp / f"in_{seconds:g}s.wav"
            write_input(wav, seconds, args.input_rate)
            for name, folder in folders.items():
                report = run_case(folder, wav, tmp / "out", args.threads)
                rows.append((name, f"{seconds:g} s", report))
                print(name, f"{seconds:g} s", report, flush=True)
                for f in (tmp / "out").glob("*"):
                    f.unlink()
            wav.unlink()

    print()
    print("| model | input | peak RSS (MiB) | vs. load only | wall (s) |")
    print("|---|---|---|---|---|")
    base = {n: r["peak_kib"] for n, c, r in rows if c == "load only"}
    for name, case, report in rows:
        mib = report["peak_kib"] / 1024
        extra = (report["peak_kib"] - base[name]) / 1024
        print(
            f"| {name} | {case} | {mib:.0f} | +{extra:.0f} | "
            f"{report['s']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
