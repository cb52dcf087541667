#!/usr/bin/env python3
"""Restore the VoiceFixer VCTK test sets with a trained MaskSR model.

Restores the degraded files of VoiceFixer's general speech restoration test
sets (``ALL_GSR``), super-resolution (``SR/<filter>/<cutoff>``) and
declipping (``DECLI/<threshold>``) -- and, when asked, ``denoise`` /
``derev`` -- with :class:`speechbrain_masksr.inference.SpeechRestoration`,
scores the inputs and the restored files against the clean references with
:func:`speechbrain_masksr.metrics.compute_metrics`, and prints a
Table-1-style Markdown table (DNSMOS SIG/BAK/OVRL, LSD, WB-PESQ, ESTOI,
speaker similarity; Unprocessed vs MaskSR) per set.

Usage::

    python recipes/VCTK/evaluate.py --source MODEL_FOLDER \\
        --data_folder /path/to/TestSets --output_folder results/vctk_eval \\
        [--sets gsr,sr,decli] [--steps 40 --guidance 2.0 --device cuda]

``MODEL_FOLDER`` is a folder written by ``recipes/DNS/export_model.py`` (or
a hub repo with the same files). ``TestSets`` is VoiceFixer's test-set
folder (https://zenodo.org/record/5528144, ``GSR_and_SSR_testsets.zip``).

Outputs in ``--output_folder``: ``<set>/<id>.wav`` (restored, 44.1 kHz),
``scores.json`` (per-file scores), ``metrics.md`` (the tables). As in
VoiceFixer's evaluation, the SR sets are peak-normalised (reference and
estimate) before scoring (``--no_unify_energy`` turns it off).

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import torch

from speechbrain_masksr.data.manifest import load_manifest
from speechbrain_masksr.dataio import load_audio
from speechbrain_masksr.utils.files import atomic_open

#: Set names accepted by ``--sets`` -> manifest name prefixes.
SET_PREFIXES = {
    "gsr": "test_gsr",
    "sr": "test_sr_",
    "decli": "test_decli_",
    "denoise": "test_denoise",
    "derev": "test_derev",
}
#: Metrics of MaskSR's Table 1.
TABLE_METRICS = ("dnsmos", "lsd", "pesq", "estoi", "spk_sim")
SAMPLE_RATE = 44100


def parse_args(argv=None):
    """Parse the command line.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    argparse.Namespace
        The options.

    Example
    -------
    >>> args = parse_args(["--source", "m", "--data_folder", "d",
    ...                    "--output_folder", "o", "--sets", "gsr,sr"])
    >>> args.sets, args.steps, args.metrics
    (['gsr', 'sr'], None, 'dnsmos,lsd,pesq,estoi,spk_sim')
    """
    parser = argparse.ArgumentParser(
        description=(
            "Restore the VoiceFixer GSR / SR / DECLI test sets with a MaskSR "
            "model and print a Table-1-style metrics table."
        )
    )
    parser.add_argument(
        "--source",
        required=True,
        help="model folder (export_model.py) or hub id",
    )
    parser.add_argument(
        "--data_folder", required=True, help="VoiceFixer TestSets folder"
    )
    parser.add_argument(
        "--output_folder", required=True, help="restored files and tables"
    )
    parser.add_argument(
        "--sets",
        default="gsr,sr,decli",
        type=lambda s: [x.strip().lower() for x in s.split(",") if x.strip()],
        help=f"comma-separated among {', '.join(SET_PREFIXES)}",
    )
    parser.add_argument(
        "--steps", type=int, default=None, help="decoding steps"
    )
    parser.add_argument(
        "--guidance", type=float, default=None, help="guidance weight w"
    )
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1...")
    parser.add_argument(
        "--metrics",
        default=",".join(TABLE_METRICS),
        help="metrics (see speechbrain_masksr.metrics.compute_metrics)",
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="at most N files per set"
    )
    parser.add_argument(
        "--savedir", default=None, help="where hub models are downloaded"
    )
    parser.add_argument(
        "--trust_source",
        "--trust-source",
        action="store_true",
        help="load the model folder without the allowlist check of the "
        "constructors its hyperparams.yaml names (only for trusted sources)",
    )
    parser.add_argument(
        "--no_unify_energy",
        action="store_true",
        help="do not peak-normalise the SR sets before scoring",
    )
    args = parser.parse_args(argv)
    unknown = [s for s in args.sets if s not in SET_PREFIXES]
    if unknown or not args.sets:
        parser.error(
            f"--sets: unknown {unknown}; choose from {list(SET_PREFIXES)}"
        )
    return args


def _vctk_prepare():
    """Import ``vctk_prepare.py`` from this recipe folder."""
    path = Path(__file__).resolve().parent / "vctk_prepare.py"
    spec = importlib.util.spec_from_file_location("vctk_prepare", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def select_manifests(manifests, sets):
    """Pick the prepared manifests that belong to the requested sets.

    Arguments
    ---------
    manifests : dict
        ``{name: path}`` from ``prepare_voicefixer_testsets``.
    sets : list of str
        Keys of :data:`SET_PREFIXES`.

    Returns
    -------
    dict
        ``{set: {condition: path}}`` in request order.

    Raises
    ------
    FileNotFoundError
        If a requested set has no manifest.

    Example
    -------
    >>> m = {"test_gsr": "g.json", "test_sr_cheby1_2000": "b.json",
    ...      "test_sr_cheby1_1000": "a.json"}
    >>> select_manifests(m, ["sr", "gsr"])
    {'sr': {'test_sr_cheby1_1000': 'a.json', 'test_sr_cheby1_2000': 'b.json'}, 'gsr': {'test_gsr': 'g.json'}}
    """
    out = {}
    for name in sets:
        prefix = SET_PREFIXES[name]
        found = {
            k: v for k, v in sorted(manifests.items()) if k.startswith(prefix)
        }
        if not found:
            raise FileNotFoundError(
                f"no {name!r} test set prepared (manifests: {sorted(manifests)})"
            )
        out[name] = found
    return out


def peak_normalize(wav):
    """Scale to a peak of 1 (VoiceFixer's ``unify_energy`` for SR).

    Arguments
    ---------
    wav : torch.Tensor
        Audio ``[time]``.

    Returns
    -------
    torch.Tensor
        ``wav / max|wav|`` (unchanged if silent).

    Example
    -------
    >>> peak_normalize(torch.tensor([0.5, -0.25]))
    tensor([ 1.0000, -0.5000])
    """
    peak = wav.abs().max()
    return wav / peak if peak > 0 else wav


def summarize(scores, conditions):
    """Mean scores per condition (and over the whole set) per system.

    Arguments
    ---------
    scores : dict
        ``{condition: {file id: {system: {metric: value}}}}``.
    conditions : list of str
        Conditions of one set, in order.

    Returns
    -------
    dict
        ``{row name: {metric: mean}}`` with rows ``"<condition> /
        <system>"`` and, for sets with several conditions, ``"all /
        <system>"``.

    Example
    -------
    >>> s = {"c1": {"a": {"MaskSR": {"lsd": 1.0}}},
    ...      "c2": {"b": {"MaskSR": {"lsd": 3.0}}}}
    >>> summarize(s, ["c1", "c2"])
    {'c1 / MaskSR': {'lsd': 1.0}, 'c2 / MaskSR': {'lsd': 3.0}, 'all / MaskSR': {'lsd': 2.0}}
    """
    from speechbrain_masksr.metrics import mean_metrics

    rows, pooled = {}, {}
    for cond in conditions:
        per_system = {}
        for file_scores in scores.get(cond, {}).values():
            for system, values in file_scores.items():
                per_system.setdefault(system, []).append(values)
                pooled.setdefault(system, []).append(values)
        for system, values in per_system.items():
            rows[f"{cond} / {system}"] = mean_metrics(values)
    if len(conditions) > 1:
        for system, values in pooled.items():
            rows[f"all / {system}"] = mean_metrics(values)
    return rows


def evaluate(args):
    """Prepare, restore, score and print (see the module docstring).

    Arguments
    ---------
    args : argparse.Namespace
        Options from :func:`parse_args`.

    Returns
    -------
    str
        The Markdown tables.
    """
    from speechbrain_masksr.inference import SpeechRestoration
    from speechbrain_masksr.metrics import compute_metrics, metrics_table

    out = Path(args.output_folder)
    out.mkdir(parents=True, exist_ok=True)
    prep = _vctk_prepare()
    manifests = prep.prepare_voicefixer_testsets(
        args.data_folder, out / "manifests"
    )
    selected = select_manifests(manifests, args.sets)
    model = SpeechRestoration.from_folder(
        source=args.source,
        savedir=args.savedir or str(out / "pretrained"),
        run_opts={"device": args.device},
        trust_source=args.trust_source,
    )
    metrics = [m for m in args.metrics.split(",") if m.strip()]
    scores, parts = {}, ["# MaskSR on the VoiceFixer test sets", ""]
    for set_name, conditions in selected.items():
        for cond, manifest in conditions.items():
            entries = load_manifest(manifest, data_root=args.data_folder)
            ids = sorted(entries)[: args.limit]
            scores[cond] = {}
            for i, uid in enumerate(ids):
                entry = entries[uid]
                restored = model.restore_file(
                    entry["noisy_wav"],
                    out / cond / f"{uid}.wav",
                    steps=args.steps,
                    guidance=args.guidance,
                    seed=args.seed + i,
                ).cpu()
                noisy, _ = load_audio(entry["noisy_wav"], SAMPLE_RATE)
                clean, _ = load_audio(entry["clean_wav"], SAMPLE_RATE)
                if set_name == "sr" and not args.no_unify_energy:
                    clean, noisy = peak_normalize(clean), peak_normalize(noisy)
                    restored = peak_normalize(restored)
                scores[cond][uid] = {
                    system: compute_metrics(clean, est, SAMPLE_RATE, metrics)
                    for system, est in (
                        ("Unprocessed", noisy),
                        ("MaskSR", restored),
                    )
                }
                print(f"{cond} {i + 1}/{len(ids)} {uid}", flush=True)
        rows = summarize(scores, list(conditions))
        parts += [f"## {set_name.upper()}", "", metrics_table(rows), ""]
    text = "\n".join(parts)
    with atomic_open(out / "metrics.md") as fout:
        fout.write(text + "\n")
    with atomic_open(out / "scores.json") as fout:
        json.dump(scores, fout, indent=1)
    print(text)
    return text


def main(argv=None):
    """Command-line entry point.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 done, 1 for a reported error (missing data or
        model files, unreadable audio, unavailable device).
    """
    args = parse_args(argv)
    try:
        with torch.no_grad():
            evaluate(args)
    except (OSError, ValueError) as err:  # AudioError, ModelFileError...
        print(f"evaluate.py: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
