#!/usr/bin/env python3
"""Compare restoration systems on noisy/clean folder pairs, one table per set.

Each set is a folder with ``noisy/`` and ``clean/`` files of the same names
(``tools/make_eval_set.py`` writes such folders; the VoiceBank-DEMAND
layout is the same). Each system restores ``noisy/`` with the
``masksr-restore`` command (any model folder it accepts: MaskSR, MaskSR-mel
or an MAE enhancer); ``Unprocessed`` is the noisy input itself and
``--codec`` adds the codec's copy-synthesis of the *clean* files (the
ceiling of a model that predicts that codec's tokens). Every output is then
scored against ``clean/`` by ``masksr-eval`` (PESQ, ESTOI, DNSMOS, speaker
similarity at 16 kHz) and the means are written as Markdown tables to
``OUT/results.md`` (per-file scores: ``OUT/<set>/<system>.csv``).

Example::

    python recipes/DNS/compare_systems.py --out results/compare \\
        --set heldout=eval/heldout --set p287=dev-data/vbdemand_16k_p287 \\
        --system MaskSR-mel=speechbrain_masksr/pretrained/masksr_mel \\
        --system "MAE enhancer=demo/enhancer" \\
        --codec speechbrain_masksr/pretrained/masksr_mel/codec.ckpt \\
        --steps 40 --guidance 2

Restored files are kept (``OUT/<set>/<system>/``); a rerun only restores
what is missing, so a new system can be added to an earlier comparison.

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

from speechbrain_masksr.cli.restore import MASKSR, model_kind
from speechbrain_masksr.dataio import find_audio_files, load_audio, save_audio
from speechbrain_masksr.metrics import mean_metrics, metrics_table

METRICS = "pesq,estoi,dnsmos,spk_sim"


def _pair(text, what):
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"{what} must be NAME=PATH: {text}")
    return name, value


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
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--set",
        action="append",
        required=True,
        type=lambda t: _pair(t, "--set"),
        help="NAME=FOLDER with noisy/ and clean/",
    )
    p.add_argument(
        "--system",
        action="append",
        default=[],
        type=lambda t: _pair(t, "--system"),
        help="NAME=MODEL_FOLDER for masksr-restore",
    )
    p.add_argument("--codec", help="mel codec file: add its copy-synthesis")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--guidance", type=float, default=None)
    p.add_argument("--metrics", default=METRICS)
    return p.parse_args(argv)


def resynthesize(codec_path, clean_dir, out_dir):
    """Write the codec's copy-synthesis of every clean file.

    Arguments
    ---------
    codec_path : str
        Mel codec file (:func:`~speechbrain_masksr.codecs.mel.load_mel_codec`).
    clean_dir : Path
        Clean files.
    out_dir : Path
        Output folder (files of the same names, at the codec's rate).
    """
    import torch

    from speechbrain_masksr.codecs.mel import load_mel_codec

    codec = load_mel_codec(codec_path)
    for path in map(Path, find_audio_files(clean_dir)):
        target = out_dir / path.relative_to(clean_dir).with_suffix(".wav")
        if target.exists():
            continue
        wav, _ = load_audio(path, codec.sample_rate)
        with torch.no_grad():
            out = codec.decode(codec.encode(wav[None]))[0, ..., : len(wav)]
        save_audio(target, out.reshape(-1), codec.sample_rate)


def restore(model, noisy_dir, out_dir, steps, guidance):
    """Restore a folder with ``masksr-restore``; returns the seconds it took.

    Arguments
    ---------
    model : str
        Model folder.
    noisy_dir, out_dir : Path
        Input and output folders.
    steps : int or None
        Sampling steps (MaskSR models).
    guidance : float or None
        Guidance weight (MaskSR models).

    Returns
    -------
    float
        Wall time of the command (0 when every output existed).
    """
    missing = [
        p
        for p in map(Path, find_audio_files(noisy_dir))
        if not (out_dir / p.relative_to(noisy_dir).with_suffix(".wav")).exists()
    ]
    if not missing:
        return 0.0
    cmd = [sys.executable, "-m", "speechbrain_masksr.cli.restore"]
    cmd += [str(noisy_dir), "-o", str(out_dir), "--source", model]
    cmd += ["--device", "cpu"]
    if model_kind(model) == MASKSR:
        if steps is not None:
            cmd += ["--steps", str(steps)]
        if guidance is not None:
            cmd += ["--guidance", str(guidance)]
    start = time.time()
    # Existing outputs are skipped (exit 1 names them): only missing ones
    # are restored.
    subprocess.run(cmd, check=False)
    return time.time() - start


def score(clean_dir, est_dir, csv_path, metrics):
    """Score a folder with ``masksr-eval``; returns the mean of each column.

    Arguments
    ---------
    clean_dir, est_dir : Path
        References and estimates (paired by name).
    csv_path : Path
        Per-file scores written here.
    metrics : str
        ``masksr-eval --metrics``.

    Returns
    -------
    dict
        ``{column: mean}`` over the files (NaN cells skipped) and ``files``.
    """
    cmd = [sys.executable, "-m", "speechbrain_masksr.cli.evaluate"]
    cmd += ["--ref", str(clean_dir), "--est", str(est_dir)]
    cmd += ["--metrics", metrics, "--csv", str(csv_path), "--no-progress"]
    csv_path.unlink(missing_ok=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(csv_path) as f:
        rows = [
            {k: float(v) for k, v in row.items() if k != "file" and v != ""}
            for row in csv.DictReader(f)
        ]
    return {"files": len(rows), **mean_metrics(rows)}


def main(argv=None):
    """Run the comparison.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).
    """
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = []
    for set_name, folder in args.set:
        noisy_dir, clean_dir = Path(folder) / "noisy", Path(folder) / "clean"
        systems = {"Unprocessed": noisy_dir}
        if args.codec:
            ceiling = out / set_name / "codec_ceiling"
            resynthesize(args.codec, clean_dir, ceiling)
            systems["Codec copy-synthesis (ceiling)"] = ceiling
        for name, model in args.system:
            target = out / set_name / name.replace(" ", "_")
            seconds = restore(
                model, noisy_dir, target, args.steps, args.guidance
            )
            if seconds:
                print(f"{set_name}/{name}: restored in {seconds:.0f} s")
            systems[name] = target
        table = {}
        for name, est_dir in systems.items():
            csv_path = out / set_name / f"{name.replace(' ', '_')}.csv"
            table[name] = score(clean_dir, est_dir, csv_path, args.metrics)
        text = f"## {set_name} ({folder})\n\n{metrics_table(table)}\n"
        print(text)
        report.append(text)
    (out / "results.md").write_text("\n".join(report))
    print(f"wrote {out / 'results.md'}")


if __name__ == "__main__":
    main()
