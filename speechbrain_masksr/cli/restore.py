"""``masksr-restore``: restore audio files with a trained MaskSR model.

Usage::

    masksr-restore INPUT... -o OUT_DIR --source MODEL \\
        [--savedir DIR] [--steps N] [--guidance W] [--seed S] \\
        [--noise gaussian|gumbel] [--device D] [--suffix SUFFIX] \\
        [--overwrite]

``INPUT`` is any mix of audio files and folders (searched recursively; the
folder structure is kept under ``OUT_DIR``). Every output is a 44.1 kHz mono
16-bit WAV with the duration of its input. Inputs are never overwritten: an
``OUT_DIR`` that is an input folder, or an output path that is an input
file, is refused. ``OUT_DIR`` may lie inside an input folder: files already
under ``OUT_DIR`` are then not taken as inputs. Existing files that lie in
an input folder or next to an input file (where originals live) are not
replaced unless ``--overwrite`` is given; an input is never replaced. In a
separate output folder, earlier outputs are replaced (re-runs). A file
that cannot be read is reported (naming it) and skipped.

Exit status: 0 if every file was restored, 1 if some failed, 2 for usage
errors (bad options, missing inputs, outputs that would overwrite files)
and model errors (missing or unusable model folder, unavailable device);
nothing is written in the last case.

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import math
import sys
from pathlib import Path

from speechbrain_masksr.dataio import AUDIO_EXTENSIONS

__all__ = ["main", "parse_args", "plan_outputs"]


class UsageError(ValueError):
    """Bad command-line arguments (reported without a traceback).

    Example
    -------
    >>> raise UsageError("no input")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.cli.restore.UsageError: no input
    """


def parse_args(argv=None):
    """Parse the command line.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    argparse.Namespace
        The options.

    Example
    -------
    >>> args = parse_args(["a.wav", "-o", "out", "--source", "m"])
    >>> args.inputs, args.out_dir, args.steps
    (['a.wav'], 'out', None)
    """
    parser = argparse.ArgumentParser(
        prog="masksr-restore",
        description=(
            "Restore degraded speech with a MaskSR model. Outputs are "
            "44.1 kHz mono 16-bit WAV files of the inputs' duration."
        ),
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="audio files or folders"
    )
    parser.add_argument(
        "-o", "--out-dir", dest="out_dir", required=True, help="output folder"
    )
    parser.add_argument(
        "--source",
        required=True,
        help="model folder or Hugging Face repo (hyperparams.yaml, "
        "model.ckpt, codec.pth; see recipes/DNS/export_model.py)",
    )
    parser.add_argument(
        "--savedir", default=None, help="where to link/download model files"
    )
    parser.add_argument(
        "--steps", type=_positive_int, default=None, help="sampling steps"
    )
    parser.add_argument(
        "--guidance",
        type=_non_negative_float,
        default=None,
        help="guidance weight w (>= 0)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="sampling seed (default 0)"
    )
    parser.add_argument(
        "--noise",
        choices=("gaussian", "gumbel", "none"),
        default=None,
        help="sampler noise (default: the model's)",
    )
    parser.add_argument(
        "--device",
        default=None,
        help="torch device, e.g. cpu or cuda:0 (default: cuda if available)",
    )
    parser.add_argument(
        "--suffix",
        default="",
        help="added to each output file stem (default: none)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing output files (inputs are never replaced)",
    )
    return parser.parse_args(argv)


def _positive_int(text):
    """``--steps`` values: integers >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative_float(text):
    """``--guidance`` values: finite floats >= 0."""
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            f"must be a finite number >= 0, got {text}"
        )
    return value


def plan_outputs(inputs, out_dir, suffix="", overwrite=False):
    """Map every input audio file to its output path.

    A file maps to ``OUT_DIR/<stem><suffix>.wav``; a folder's audio files
    map to the same names under ``OUT_DIR``, keeping their sub-folders
    (files already inside ``OUT_DIR`` are not inputs).

    Arguments
    ---------
    inputs : list of str
        Files and folders.
    out_dir : str or Path
        Output folder.
    suffix : str
        Added to each output file stem.
    overwrite : bool
        Allow replacing existing files (never inputs) in an input folder
        or next to an input file; elsewhere existing files are replaced.

    Returns
    -------
    plan : list of (Path, Path)
        ``(input file, output file)`` pairs.

    Raises
    ------
    UsageError
        Missing inputs, no audio found, ``out_dir`` equal to an input
        folder, two inputs mapping to one output, an output that would
        overwrite an input file, or (without ``overwrite``) an output that
        already exists where the inputs live.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> _ = (tmp / "in" / "sub").ensure(dir=True)
    >>> _ = (tmp / "in" / "sub" / "a.flac").write("")
    >>> plan = plan_outputs([str(tmp / "in")], tmp / "out", "_r")
    >>> [str(o.relative_to(tmp)) for _, o in plan]
    ['out/sub/a_r.wav']
    >>> plan_outputs([str(tmp / "in")], tmp / "in")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.cli.restore.UsageError: ...is an input folder...
    """
    out_dir = Path(out_dir).resolve()
    plan = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            if path.resolve() == out_dir:
                raise UsageError(
                    f"output folder {out_dir} is an input folder; choose "
                    "another -o so that inputs are never overwritten"
                )
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in AUDIO_EXTENSIONS
                and not p.resolve().is_relative_to(out_dir)
            )
            if not files:
                raise UsageError(f"{path}: no audio files found")
            for f in files:
                rel = f.relative_to(path)
                plan.append((f, out_dir / rel.parent / (rel.stem + suffix)))
        elif path.is_file():
            plan.append((path, out_dir / (path.stem + suffix)))
        else:
            raise UsageError(f"{path}: no such file or folder")
    plan = [(src, dst.with_name(dst.name + ".wav")) for src, dst in plan]
    resolved_inputs = {src.resolve(): src for src, _ in plan}
    protected = [Path(i).resolve() for i in inputs if Path(i).is_dir()]
    protected += [src.parent for src in resolved_inputs]
    seen, existing = {}, []
    for src, dst in plan:
        if dst.resolve() in resolved_inputs:
            raise UsageError(
                f"output {dst} (from {src}) would overwrite the input "
                f"{resolved_inputs[dst.resolve()]}; use another -o or --suffix"
            )
        if dst in seen:
            raise UsageError(
                f"{seen[dst]} and {src} would both be written to {dst}; "
                "restore them into different output folders"
            )
        seen[dst] = src
        if dst.exists() or dst.is_symlink():
            if dst.is_dir():
                raise UsageError(f"output {dst} is an existing folder")
            where = dst.resolve()
            if any(where.is_relative_to(root) for root in protected):
                existing.append(dst)
    if existing and not overwrite:
        raise UsageError(
            f"{len(existing)} output file(s) already exist among the "
            f"inputs' files (first: {existing[0]}); pass --overwrite to "
            "replace them, or use another -o or --suffix"
        )
    return plan


def main(argv=None):
    """Run ``masksr-restore``.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 if every file was restored, 1 if some failed, 2 for usage or
        model-loading errors.

    Example
    -------
    >>> main(["missing.wav", "-o", "out", "--source", "m"])
    2
    """
    args = parse_args(argv)
    try:
        plan = plan_outputs(
            args.inputs, args.out_dir, args.suffix, args.overwrite
        )
    except UsageError as err:
        print(f"masksr-restore: error: {err}", file=sys.stderr)
        return 2

    import torch
    from tqdm import tqdm

    from speechbrain_masksr.inference.restoration import (
        SpeechRestoration,
        check_device,
    )

    device = args.device
    if device is None:
        device = "cuda:0" if torch.cuda.is_available() else "cpu"
    try:
        run_opts = {"device": check_device(device)}
    except ValueError as err:
        print(f"masksr-restore: error: {err}", file=sys.stderr)
        return 2
    try:
        model = SpeechRestoration.from_hparams(
            source=args.source, savedir=args.savedir, run_opts=run_opts
        )
    except Exception as err:  # reported, not a traceback
        print(
            f"masksr-restore: error: cannot load the model from "
            f"'{args.source}': {err}",
            file=sys.stderr,
        )
        return 2

    settings = dict(steps=args.steps, guidance=args.guidance, seed=args.seed)
    if args.noise is not None:
        settings["noise"] = args.noise
    failed = []
    bar = tqdm(plan, desc="masksr-restore", unit="file", file=sys.stderr)
    for src, dst in bar:
        bar.set_postfix_str(src.name)
        try:
            model.restore_file(src, dst, **settings)
        except Exception as err:  # one bad file must not stop the rest
            failed.append(src)
            tqdm.write(f"masksr-restore: error: {err}", file=sys.stderr)
    bar.close()
    done = len(plan) - len(failed)
    print(
        f"restored {done}/{len(plan)} file(s) into {args.out_dir}",
        file=sys.stderr,
    )
    if failed:
        print(
            f"masksr-restore: {len(failed)} file(s) failed: "
            + ", ".join(str(f) for f in failed),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
