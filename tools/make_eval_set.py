"""Make a fixed noisy/clean evaluation set from folders of real audio.

Each clean file is (with probability ``--reverb-prob``) convolved with a room
impulse response of ``--rir`` (direct path kept aligned, so the dry clean
file stays the target) and mixed with a random excerpt of a noise of
``--noise`` at an SNR drawn uniformly in ``[--snr-low, --snr-high]`` dB, with
the GSR pipeline of the training recipes
(:class:`speechbrain_masksr.augment.pipeline.GSRPipeline`, only its reverb
and noise stages). Writes::

    OUT/noisy/<id>.wav   the degraded input
    OUT/clean/<id>.wav   the dry clean reference (same scale)
    OUT/manifest.csv     id, source file, noise, rir, snr of each item

16-bit mono WAV at ``--sample-rate``. The same seed gives the same set;
an existing OUT is never touched (choose a new folder). Typical use, the
developers' held-out set (speakers, noises and RIRs never used in
training)::

    python tools/make_eval_set.py --clean $D/librispeech/val \\
        --noise $D/noise_ambient/blanket --rir heldout_rirs/ \\
        --n 16 --reverb-prob 0.5 --out eval/heldout

``masksr-restore`` and ``masksr-eval --ref OUT/clean`` then score any system.

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import csv
import shutil
import sys
from pathlib import Path

import torch

from speechbrain_masksr.augment.pipeline import GSRPipeline
from speechbrain_masksr.dataio import find_audio_files, load_audio, save_audio

PEAK = 0.99


def parse_args(argv=None):
    """Parse the command line.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    argparse.Namespace
    """
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clean", required=True, help="folder of clean speech")
    p.add_argument("--noise", required=True, help="folder of noises")
    p.add_argument("--rir", default=None, help="folder of measured RIRs")
    p.add_argument("--out", required=True, help="new output folder")
    p.add_argument("--n", type=int, default=16, help="items (first n files)")
    p.add_argument("--snr-low", type=float, default=0.0)
    p.add_argument("--snr-high", type=float, default=15.0)
    p.add_argument("--reverb-prob", type=float, default=0.0)
    p.add_argument("--sample-rate", type=int, default=16000)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None):
    """Write the evaluation set; returns the exit status.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 for bad usage.
    """
    args = parse_args(argv)
    out = Path(args.out)
    if out.exists():
        print(f"error: {out} exists; choose a new folder", file=sys.stderr)
        return 2
    if args.reverb_prob > 0 and args.rir is None:
        print("error: --reverb-prob > 0 needs --rir", file=sys.stderr)
        return 2
    files = sorted(map(Path, find_audio_files(args.clean)))[: args.n]
    noises = sorted(map(Path, find_audio_files(args.noise)))
    rirs = sorted(map(Path, find_audio_files(args.rir))) if args.rir else []
    if not files or not noises:
        print("error: no clean or no noise files found", file=sys.stderr)
        return 2
    sr = args.sample_rate
    tmp = out.with_name(f".{out.name}.partial")
    if tmp.exists():  # left by a killed run of this tool
        shutil.rmtree(tmp)
    (tmp / "noisy").mkdir(parents=True)
    (tmp / "clean").mkdir()
    rows = []
    for index, path in enumerate(files):
        g = torch.Generator().manual_seed(args.seed * 100003 + index)
        clean, _ = load_audio(str(path), sr)
        reverb = bool(rirs) and float(torch.rand(1, generator=g)) < (
            args.reverb_prob
        )
        noise_index = int(torch.randint(len(noises), (1,), generator=g))
        rir_index = int(torch.randint(max(len(rirs), 1), (1,), generator=g))
        snr = float(
            args.snr_low
            + (args.snr_high - args.snr_low) * torch.rand(1, generator=g)
        )
        pipeline = GSRPipeline(
            sample_rate=sr,
            noises=[str(noises[noise_index])],
            snr_low=snr,
            snr_high=snr,
            noise_prob=1.0,
            noise_bandlimit_prob=0.0,
            rirs=[str(rirs[rir_index])] if reverb else None,
            reverb_prob=1.0 if reverb else 0.0,
            clip_prob=0.0,
            bandlimit_prob=0.0,
            order=("interferer", "reverb", "clip", "bandlimit", "noise"),
        )
        noisy = pipeline(clean[None], generator=g)[0]
        scale = min(1.0, PEAK / float(noisy.abs().max().clamp_min(1e-8)))
        scale = min(scale, PEAK / float(clean.abs().max().clamp_min(1e-8)))
        name = f"{path.stem}.wav"
        save_audio(str(tmp / "noisy" / name), noisy * scale, sr)
        save_audio(str(tmp / "clean" / name), clean * scale, sr)
        rows.append(
            dict(
                id=path.stem,
                source=path.name,
                noise=noises[noise_index].name,
                rir=rirs[rir_index].name if reverb else "",
                snr_db=f"{snr:.2f}",
            )
        )
    with open(tmp / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tmp.rename(out)
    print(f"wrote {len(rows)} noisy/clean pairs to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
