"""``masksr-restore``: restore audio files with a trained model folder.

Usage::

    masksr-restore INPUT... -o OUT_DIR --source MODEL \\
        [--savedir DIR] [--steps N] [--guidance W] [--seed S] \\
        [--noise gaussian|gumbel] [--device D] [--suffix SUFFIX] \\
        [--overwrite]

``MODEL`` is any model folder (or Hugging Face repo) of this project; its
kind is read from the top-level keys of its ``hyperparams.yaml`` (the text
only; nothing is executed before the kind is known):

* a MaskSR folder (no ``model_type`` key; ``hyperparams.yaml``,
  ``model.ckpt``, ``codec.pth``, see ``recipes/DNS/export_model.py``) is
  loaded with ``SpeechRestoration``
  (:mod:`speechbrain_masksr.inference.restoration`); outputs are 44.1
  kHz. ``--steps``, ``--guidance``, ``--seed`` and ``--noise`` set its
  sampler.
* an MAE speech enhancer folder (``model_type: mae_enhancer``;
  ``hyperparams.yaml``, ``enhancer.ckpt``, written by
  :func:`~speechbrain_masksr.inference.enhancement.write_enhancer_folder`)
  is loaded with ``MAEEnhancement``
  (:mod:`speechbrain_masksr.inference.enhancement`); outputs are at the
  model's rate (22.05 kHz for the project's enhancers). The MaskSR
  sampler options are refused (usage error).

``INPUT`` is any mix of audio files and folders (searched recursively; the
folder structure is kept under ``OUT_DIR``). Every output is a mono 16-bit
WAV at the model's rate with the duration of its input. Inputs are never
overwritten: an ``OUT_DIR`` that is an input folder, or an output path that
is an input file, is refused. ``OUT_DIR`` may lie inside an input folder:
files already under ``OUT_DIR`` are then not taken as inputs. Existing
files that lie in an input folder or next to an input file (where
originals live) are not replaced unless ``--overwrite`` is given; an input
is never replaced. In a separate output folder, earlier outputs are
replaced (re-runs). A file that cannot be read is reported (naming it) and
skipped.

Exit status: 0 if every file was restored, 1 if some failed, 2 for usage
errors (bad options, missing inputs, outputs that would overwrite files,
MaskSR options with an enhancer folder) and model errors (missing, unknown
or unusable model folder, unavailable device); nothing is written in the
last case.

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import math
import re
import sys
from pathlib import Path

from speechbrain_masksr.dataio import AUDIO_EXTENSIONS
from speechbrain_masksr.errors import ModelFileError, UsageError

__all__ = [
    "MASKSR",
    "MAE_ENHANCER",
    "main",
    "model_kind",
    "parse_args",
    "plan_outputs",
    "restore_all",
]

MASKSR = "masksr"
MAE_ENHANCER = "mae_enhancer"
HPARAMS_FILE = "hyperparams.yaml"
# Options that only MaskSR's sampler understands.
MASKSR_OPTIONS = ("steps", "guidance", "seed", "noise")
_FOLDER_HINT = (
    "A model folder holds hyperparams.yaml and either model.ckpt + "
    "codec.pth (MaskSR, written by recipes/DNS/export_model.py) or "
    "enhancer.ckpt (MAE speech enhancer, model_type: mae_enhancer, "
    "written by the enhancement recipes' export)."
)


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
    >>> args.inputs, args.out_dir, args.steps, args.seed
    (['a.wav'], 'out', None, None)
    """
    parser = argparse.ArgumentParser(
        prog="masksr-restore",
        description=(
            "Restore degraded speech with a model folder of this project: "
            "MaskSR or MAE speech enhancer, detected from the folder's "
            "hyperparams.yaml (MAE enhancer folders have 'model_type: "
            "mae_enhancer'). Outputs are mono 16-bit WAV files at the "
            "model's rate (MaskSR 44.1 kHz, enhancers usually 22.05 kHz) "
            "with the inputs' duration."
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
        help="model folder or Hugging Face repo: MaskSR (hyperparams.yaml, "
        "model.ckpt, codec.pth; see recipes/DNS/export_model.py) or MAE "
        "speech enhancer (hyperparams.yaml with model_type: mae_enhancer, "
        "enhancer.ckpt); the kind is detected",
    )
    parser.add_argument(
        "--savedir", default=None, help="where to link/download model files"
    )
    parser.add_argument(
        "--steps",
        type=_positive_int,
        default=None,
        help="sampling steps (MaskSR only)",
    )
    parser.add_argument(
        "--guidance",
        type=_non_negative_float,
        default=None,
        help="guidance weight w >= 0 (MaskSR only)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="sampling seed (MaskSR only; default 0)",
    )
    parser.add_argument(
        "--noise",
        choices=("gaussian", "gumbel", "none"),
        default=None,
        help="sampler noise (MaskSR only; default: the model's)",
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
    speechbrain_masksr.errors.UsageError: ...is an input folder...
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


def _top_level(text):
    r"""Top-level ``key: value`` pairs of a YAML text (not executed).

    Values are the text after the colon with comments and quotes removed
    (empty for a nested mapping; a tag such as ``!new:...`` is kept).

    Example
    -------
    >>> _top_level("# c\nmodel_type: mae_enhancer  # x\nm:\n  a: 1\n")
    {'model_type': 'mae_enhancer', 'm': ''}
    """
    keys = {}
    for line in text.lstrip("\ufeff").splitlines():
        match = re.match(r"([A-Za-z_][\w.-]*)\s*:(?:\s+(.*))?$", line)
        if match:
            value = re.sub(r"(^|\s)#.*$", "", match.group(2) or "").strip()
            keys[match.group(1)] = value.strip("'\"")
    return keys


def model_kind(source, savedir=None):
    r"""Kind of a model folder, from its ``hyperparams.yaml`` text.

    The file is read as text (a hub repo's is fetched first); nothing in
    it is executed. ``model_type: mae_enhancer`` is an MAE speech enhancer
    folder; a file without ``model_type`` that has MaskSR's sampler keys
    (``sampling_steps``, ``guidance``) is a MaskSR folder.

    Arguments
    ---------
    source : str
        Local folder or Hugging Face repo id.
    savedir : str, optional
        Where a hub repo's ``hyperparams.yaml`` is placed.

    Returns
    -------
    str
        :data:`MASKSR` or :data:`MAE_ENHANCER`.

    Raises
    ------
    ModelFileError
        A source that is a file or a missing folder, no
        ``hyperparams.yaml``, or a file of neither kind (also a
        ``ValueError``, as before).

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> _ = tmp.join("hyperparams.yaml").write("model_type: mae_enhancer\n")
    >>> model_kind(str(tmp))
    'mae_enhancer'
    >>> _ = tmp.join("hyperparams.yaml").write("sample_rate: 16000\n")
    >>> model_kind(str(tmp))
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.ModelFileError: ...neither a MaskSR nor an MAE enhancer model folder...
    """
    source = str(source)
    path = Path(source).expanduser()
    if path.exists() and not path.is_dir():
        raise ModelFileError(
            f"source '{source}' is a file; give the model folder. "
            + _FOLDER_HINT
        )
    if path.is_dir():
        hparams = path / HPARAMS_FILE
        if not hparams.is_file():
            raise ModelFileError(
                f"no {HPARAMS_FILE} in '{source}'. {_FOLDER_HINT}"
            )
    elif (
        path.is_absolute()
        or source.startswith((".", "~"))
        or source.count("/") > 1
        or "\\" in source
    ):  # written like a local path: not tried on the hub
        raise ModelFileError(
            f"model folder '{source}' does not exist. {_FOLDER_HINT}"
        )
    else:
        from speechbrain.utils.fetching import fetch

        try:
            hparams = Path(
                fetch(filename=HPARAMS_FILE, source=source, savedir=savedir)
            )
        except Exception as err:  # hub, network and value errors alike
            raise ModelFileError(
                f"cannot fetch '{HPARAMS_FILE}' from '{source}' ({err}). "
                + _FOLDER_HINT
            ) from err
    try:
        text = hparams.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise ModelFileError(f"cannot read {hparams}: {err}") from err
    keys = _top_level(text)
    model_type = keys.get("model_type")
    if model_type == MAE_ENHANCER:
        return MAE_ENHANCER
    if model_type is not None:
        raise ModelFileError(
            f"{hparams}: unknown model_type '{model_type}' (known: "
            f"{MAE_ENHANCER}; MaskSR folders have no model_type). "
            + _FOLDER_HINT
        )
    if "sampling_steps" in keys and "guidance" in keys:
        return MASKSR
    raise ModelFileError(
        f"{hparams} is neither a MaskSR nor an MAE enhancer model folder's "
        "file (no 'model_type: mae_enhancer', no MaskSR sampling_steps/"
        f"guidance). {_FOLDER_HINT}"
    )


def restore_all(plan, restore_one, out_dir):
    """Restore every planned file with a progress bar; report failures.

    Arguments
    ---------
    plan : list of (Path, Path)
        ``(input, output)`` pairs (see :func:`plan_outputs`).
    restore_one : callable
        ``restore_one(src, dst)`` restores one file (writes ``dst``).
    out_dir : str
        Output folder (for the summary line).

    Returns
    -------
    status : int
        0 if every file was restored, 1 if some failed.

    Example
    -------
    >>> def restore_one(src, dst):
    ...     if src == "bad":
    ...         raise ValueError("bad: not audio")
    >>> restore_all([("ok", "o1"), ("bad", "o2")], restore_one, "out")
    1
    """
    from tqdm import tqdm

    failed = []
    bar = tqdm(plan, desc="masksr-restore", unit="file", file=sys.stderr)
    for src, dst in bar:
        bar.set_postfix_str(Path(src).name)
        try:
            restore_one(src, dst)
        except Exception as err:  # one bad file must not stop the rest
            failed.append(src)
            tqdm.write(f"masksr-restore: error: {err}", file=sys.stderr)
    bar.close()
    done = len(plan) - len(failed)
    print(
        f"restored {done}/{len(plan)} file(s) into {out_dir}",
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


def _fail(message):
    """Report an error (no traceback); exit status 2."""
    print(f"masksr-restore: error: {message}", file=sys.stderr)
    return 2


def _load(kind, source, savedir, run_opts):
    """Load a model folder of the given kind."""
    if kind == MAE_ENHANCER:
        from speechbrain_masksr.inference.enhancement import MAEEnhancement

        return MAEEnhancement.from_hparams(
            source=source, savedir=savedir, run_opts=run_opts
        )
    from speechbrain_masksr.inference.restoration import SpeechRestoration

    return SpeechRestoration.from_hparams(
        source=source, savedir=savedir, run_opts=run_opts
    )


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
        return _fail(err)
    try:
        kind = model_kind(args.source, args.savedir)
    except ModelFileError as err:
        return _fail(f"cannot load the model from '{args.source}': {err}")
    given = [f"--{o}" for o in MASKSR_OPTIONS if getattr(args, o) is not None]
    if kind == MAE_ENHANCER and given:
        return _fail(
            f"{', '.join(given)}: MaskSR sampler option(s), but "
            f"'{args.source}' is an MAE speech enhancer folder (it has no "
            "sampler); remove them"
        )

    import torch

    from speechbrain_masksr.inference.restoration import check_device

    device = args.device
    if device is None:
        device = "cuda:0" if torch.cuda.is_available() else "cpu"
    try:
        run_opts = {"device": check_device(device)}
    except ValueError as err:
        return _fail(f"--device {device}: {err}")
    try:
        model = _load(kind, args.source, args.savedir, run_opts)
    except Exception as err:  # reported, not a traceback
        return _fail(f"cannot load the model from '{args.source}': {err}")

    if kind == MAE_ENHANCER:

        def restore_one(src, dst):
            model.enhance_file(src, dst, progress=True)

    else:
        settings = dict(steps=args.steps, guidance=args.guidance)
        settings["seed"] = 0 if args.seed is None else args.seed
        if args.noise is not None:
            settings["noise"] = args.noise

        def restore_one(src, dst):
            model.restore_file(src, dst, progress=True, **settings)

    return restore_all(plan, restore_one, args.out_dir)


if __name__ == "__main__":
    sys.exit(main())
