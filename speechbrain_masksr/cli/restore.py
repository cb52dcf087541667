"""``masksr-restore``: restore audio files with a trained model folder.

Usage::

    masksr-restore INPUT... -o OUT_DIR --source MODEL \\
        [--savedir DIR] [--trust-source] [--steps N] [--guidance W] \\
        [--seed S] [--noise gaussian|gumbel] [--device D] \\
        [--suffix SUFFIX] [--overwrite]

``MODEL`` is any model folder (or Hugging Face repo) of this project; its
kind is read from the top-level keys of its ``hyperparams.yaml`` (the text
only; nothing is executed before the kind is known):

* a MaskSR folder (no ``model_type`` key; ``hyperparams.yaml``,
  ``model.ckpt``, ``codec.pth``, see ``recipes/DNS/export_model.py``) is
  loaded with ``SpeechRestoration``
  (:mod:`speechbrain_masksr.inference.restoration`); outputs are at its
  codec's rate (44.1 kHz for DAC). ``--steps``, ``--guidance``, ``--seed``
  and ``--noise`` set its sampler.
* an MAE speech enhancer folder (``model_type: mae_enhancer``;
  ``hyperparams.yaml``, ``enhancer.ckpt``, written by
  :func:`~speechbrain_masksr.inference.enhancement.write_enhancer_folder`)
  is loaded with ``MAEEnhancement``
  (:mod:`speechbrain_masksr.inference.enhancement`); outputs are at the
  model's rate (22.05 kHz for the project's enhancers). The MaskSR
  sampler options are refused (usage error).

A model folder is executable configuration: loading its ``hyperparams.yaml``
calls the constructors and functions its tags name. Before loading, they
are checked against the exact-name allowlist of
:mod:`speechbrain_masksr.trust` (this package's model classes, builders
and weight loaders, SpeechBrain's ``Pretrainer`` and the few classes its
ECAPA and HiFi-GAN folders name), and a folder naming anything else is
refused (exit status 2) before any of it runs. ``--trust-source`` skips
the check, for folders from a source you trust.

``INPUT`` is any mix of audio files and folders (searched recursively; the
folder structure is kept under ``OUT_DIR``). Hidden files and files in
hidden folders (names starting with a dot) are not taken from folders:
among them are the temporary files of interrupted writes. Every output is
a mono 16-bit WAV at the model's rate with the duration of its input,
written atomically (a hidden temporary file ``.<stem>.<random>.tmp.wav``
renamed into place: an interrupted run never leaves a truncated file in
place of an earlier output). Inputs are never overwritten: an ``OUT_DIR``
that is an input folder, or an output path that is an input file, is
refused. ``OUT_DIR`` may lie inside an input folder: files already under
``OUT_DIR`` are then not taken as inputs. An existing output file is never
replaced without ``--overwrite``: it is skipped, named on stderr, and the
exit status is 1. A symlink among the outputs (or a sub-folder of
``OUT_DIR`` that is one) that leads outside ``OUT_DIR`` is refused, as is
a ``--suffix`` holding a path separator or ``..``. Every output path is
checked (collisions, inputs, symlinks, folders that cannot be created or
written: a file is really created there and removed, so ``-o /proc/x``
fails even for root) before the model is loaded. A file that cannot be
read or restored is reported (naming it) and skipped; an input whose
samples reach far outside [-1, 1] is restored with a warning naming it.

Several runs may write into one ``OUT_DIR`` at once. Each output is
claimed before it is restored (an ``flock`` lock on a hidden
``.<name>.wav.claim`` file, released when the file is done or the process
dies): an output claimed by another live run is left to it, named on
stderr (exit status 1). An output that appeared after the start (another
run finished it first) is not replaced without ``--overwrite``, and without
``--overwrite`` the finished file is published with a hard link that
fails if the output exists, so no run ever replaces another's file. At the
start, temporary and claim files that killed runs left in the output
folders (this package's name patterns only, older than the run, locked by
no live process) are removed, each named on stderr.

Exit status: 0 if every file was restored, 1 if some failed or were
skipped (existing outputs, outputs claimed or written by another run), 2
for usage errors (bad or out-of-range
options, missing inputs, outputs that would overwrite inputs, collide,
escape ``OUT_DIR`` or cannot be written, MaskSR options with an enhancer
folder) and model errors (missing, unknown, unusable or refused model folder,
unavailable device); nothing is written in the last case.

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import math
import os
import re
import sys
import time
import warnings
from pathlib import Path

from speechbrain_masksr.dataio import find_audio_files
from speechbrain_masksr.errors import (
    AudioWarning,
    ModelFileError,
    OutputError,
    OutputTakenError,
    UntrustedModelError,
    UsageError,
)
from speechbrain_masksr.utils.files import (
    check_writable_folder,
    claim_output,
    remove_stale_files,
)

__all__ = [
    "MASKSR",
    "MAE_ENHANCER",
    "MAX_SEED",
    "MAX_STEPS",
    "check_outputs",
    "main",
    "model_kind",
    "parse_args",
    "plan_outputs",
    "remove_stale_outputs",
    "restore_all",
]

MASKSR = "masksr"
MAE_ENHANCER = "mae_enhancer"
HPARAMS_FILE = "hyperparams.yaml"
#: Largest ``--steps`` accepted.
MAX_STEPS = 1000
#: Largest ``--seed`` accepted (torch generators take 64-bit seeds).
MAX_SEED = 2**63 - 1
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
        "--trust-source",
        dest="trust_source",
        action="store_true",
        help="run the model folder's hyperparams.yaml without the allowlist "
        "check of the constructors it names (a model folder is code: only "
        "for sources you trust)",
    )
    parser.add_argument(
        "--steps",
        type=_steps,
        default=None,
        help=f"sampling steps, 1..{MAX_STEPS} (MaskSR only)",
    )
    parser.add_argument(
        "--guidance",
        type=_non_negative_float,
        default=None,
        help="guidance weight w >= 0 (MaskSR only)",
    )
    parser.add_argument(
        "--seed",
        type=_seed,
        default=None,
        help="sampling seed, 0..2**63-1 (MaskSR only; default 0)",
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
        help="added to each output file stem (default: none; no path "
        "separators or '..')",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing output files (inputs are never replaced); "
        "without it existing outputs are skipped and the exit status is 1",
    )
    return parser.parse_args(argv)


def _int_in(text, low, high, what):
    """An integer in ``[low, high]`` (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an integer, got {text!r}"
        ) from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(
            f"must be {what} ({low}..{high}), got {value}"
        )
    return value


def _steps(text):
    """``--steps`` values: integers in 1..MAX_STEPS."""
    return _int_in(text, 1, MAX_STEPS, "a number of steps")


def _seed(text):
    """``--seed`` values: integers in 0..MAX_SEED."""
    return _int_in(text, 0, MAX_SEED, "a seed")


def _non_negative_float(text):
    """``--guidance`` values: finite floats >= 0."""
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            f"must be a finite number >= 0, got {text}"
        )
    return value


def plan_outputs(inputs, out_dir, suffix=""):
    """Map every input audio file to its output path.

    A file maps to ``OUT_DIR/<stem><suffix>.wav``; a folder's audio files
    (:func:`~speechbrain_masksr.dataio.find_audio_files`: hidden files and
    hidden folders are left out) map to the same names under ``OUT_DIR``,
    keeping their sub-folders (files already inside ``OUT_DIR`` are not
    inputs). Existing outputs, symlinks and writability are checked by
    :func:`check_outputs`.

    Arguments
    ---------
    inputs : list of str
        Files and folders.
    out_dir : str or Path
        Output folder.
    suffix : str
        Added to each output file stem (no path separators, no ``..``).

    Returns
    -------
    plan : list of (Path, Path)
        ``(input file, output file)`` pairs.

    Raises
    ------
    UsageError
        A suffix that is a path, missing inputs, no audio found,
        ``out_dir`` equal to an input folder, two inputs mapping to one
        output, or an output that would overwrite an input file.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> _ = (tmp / "in" / "sub").ensure(dir=True)
    >>> _ = (tmp / "in" / "sub" / "a.flac").write("")
    >>> _ = (tmp / "in" / ".a.0123abcd.tmp.wav").write("")  # hidden: skipped
    >>> plan = plan_outputs([str(tmp / "in")], tmp / "out", "_r")
    >>> [str(o.relative_to(tmp)) for _, o in plan]
    ['out/sub/a_r.wav']
    >>> plan_outputs([str(tmp / "in")], tmp / "in")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.UsageError: ...is an input folder...
    >>> plan_outputs([str(tmp / "in")], tmp / "out", "/../x")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.UsageError: --suffix '/../x'...
    """
    seps = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    if any(sep in suffix for sep in seps) or ".." in suffix:
        raise UsageError(
            f"--suffix {suffix!r} holds a path separator or '..'; it is "
            "added to file names and must not lead to another folder"
        )
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
            files = find_audio_files(path, exclude=[out_dir])
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
    seen = {}
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
    return plan


def _writable_folder(folder, out_dir, cache):
    """Check that ``folder`` (inside ``out_dir``) can be created and written.

    Follows no symlink out of ``out_dir``; raises :class:`UsageError`.
    """
    if folder in cache:
        return
    where = folder.resolve()
    if not where.is_relative_to(out_dir):
        raise UsageError(
            f"output folder {folder} leads to {where}, outside the output "
            f"folder {out_dir} (a symlink); refusing to write there"
        )
    existing = folder
    while not (existing.exists() or existing.is_symlink()):
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(
            f"cannot create the output folder {folder}: {existing} is a file"
        )
    if existing not in cache:
        try:  # a real try: os.access says yes to root, even in /proc
            check_writable_folder(existing)
        except OutputError as err:
            raise UsageError(
                f"cannot write the output folder {folder}: {err}"
            ) from err
        cache.add(existing)
    cache.add(folder)


def check_outputs(plan, out_dir, overwrite=False):
    """Check every output path before any work; split off existing ones.

    Arguments
    ---------
    plan : list of (Path, Path)
        From :func:`plan_outputs`.
    out_dir : str or Path
        The output folder.
    overwrite : bool
        Replace existing output files (else they are returned as skipped).

    Returns
    -------
    todo : list of (Path, Path)
        The pairs to restore.
    skipped : list of (Path, Path)
        Pairs whose output exists (only without ``overwrite``).

    Raises
    ------
    UsageError
        An output (or a folder on its way) that is a symlink leading out
        of ``out_dir``, an output that is a folder, or a folder that
        cannot be created or written (tried by creating a file in it).

    Example
    -------
    >>> import os
    >>> tmp = getfixture("tmpdir")
    >>> _ = (tmp / "in").ensure(dir=True)
    >>> _ = (tmp / "in" / "a.wav").write("")
    >>> _ = (tmp / "in" / "b.wav").write("")
    >>> _ = (tmp / "out").ensure(dir=True)
    >>> _ = (tmp / "out" / "a.wav").write("earlier output")
    >>> plan = plan_outputs([str(tmp / "in")], tmp / "out")
    >>> todo, skipped = check_outputs(plan, tmp / "out")
    >>> [d.name for _, d in todo], [d.name for _, d in skipped]
    (['b.wav'], ['a.wav'])
    >>> os.symlink(tmp / "in" / "a.wav", tmp / "out" / "b.wav")
    >>> check_outputs(plan, tmp / "out", overwrite=True)
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.UsageError: output .../b.wav is a symlink to ...
    >>> check_outputs(plan_outputs([str(tmp / "in")], "/proc/out"), "/proc/out")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.UsageError: cannot write the output folder /proc/out: ...
    """
    out_dir = Path(out_dir).resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"output folder {out_dir} is a file")
    todo, skipped, folders = [], [], set()
    for src, dst in plan:
        _writable_folder(dst.parent, out_dir, folders)
        if dst.is_symlink():
            target = dst.resolve()
            if not target.is_relative_to(out_dir):
                raise UsageError(
                    f"output {dst} is a symlink to {target}, outside the "
                    f"output folder {out_dir}; refusing to follow it "
                    "(remove the link)"
                )
        if dst.is_dir():
            raise UsageError(f"output {dst} is an existing folder")
        if (dst.exists() or dst.is_symlink()) and not overwrite:
            skipped.append((src, dst))
        else:
            todo.append((src, dst))
    return todo, skipped


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


def remove_stale_outputs(plan, before, stream=None):
    """Remove what killed runs left in the output folders; name each file.

    In every folder of a planned output, the temporary files
    (``.<stem>.<random>.tmp.wav``) and claim files (``.<name>.wav.claim``)
    that no live process holds and that are older than ``before`` are
    removed (see :func:`~speechbrain_masksr.utils.files.remove_stale_files`);
    unlocked ones too recent to be sure of are only named, as a warning.

    Arguments
    ---------
    plan : list of (Path, Path)
        ``(input, output)`` pairs.
    before : float
        Start of this run (``time.time()``).
    stream : file, optional
        Where the lines go (default stderr).

    Returns
    -------
    list of Path
        The files removed.

    Example
    -------
    >>> import time
    >>> out = getfixture("tmpdir") / "out"
    >>> _ = out.ensure(dir=True)
    >>> _ = (out / ".a.0123abcd.tmp.wav").write("RIFF, truncated")
    >>> removed = remove_stale_outputs([("a.flac", Path(out) / "a.wav")],
    ...                                time.time() + 1, sys.stdout)
    masksr-restore: removed .../out/.a.0123abcd.tmp.wav (left by an interrupted run)
    >>> sorted(p.basename for p in out.listdir())
    []
    """
    stream = sys.stderr if stream is None else stream
    removed = []
    for folder in sorted({Path(dst).parent for _, dst in plan}):
        gone, left = remove_stale_files(folder, (".wav",), before)
        for path in gone:
            print(
                f"masksr-restore: removed {path} (left by an interrupted run)",
                file=stream,
            )
        for path in left:
            print(
                f"masksr-restore: warning: {path} may have been left by an "
                "interrupted run (too recent to remove safely)",
                file=stream,
            )
        removed += gone
    return removed


def _report_skipped(skipped):
    """Name every existing output that is not replaced (stderr)."""
    for src, dst in skipped:
        print(
            f"masksr-restore: {dst} exists (output of {src}); not replaced "
            "(pass --overwrite to replace it)",
            file=sys.stderr,
        )


def restore_all(plan, restore_one, out_dir, skipped=()):
    """Restore every planned file with a progress bar; report failures.

    Every per-file error names its input file. An output taken by another
    run (:class:`~speechbrain_masksr.errors.OutputTakenError`) is reported
    as skipped, naming it. Warnings (e.g. an input far outside [-1, 1])
    are printed above the progress bar.

    Arguments
    ---------
    plan : list of (Path, Path)
        ``(input, output)`` pairs (see :func:`check_outputs`).
    restore_one : callable
        ``restore_one(src, dst)`` restores one file (writes ``dst``).
    out_dir : str
        Output folder (for the summary line).
    skipped : list of (Path, Path)
        Pairs not restored because their output exists (counted in the
        summary; they make the status 1).

    Returns
    -------
    status : int
        0 if every file was restored, 1 if some failed or were skipped.

    Example
    -------
    >>> def restore_one(src, dst):
    ...     if src == "bad":
    ...         raise ValueError("not audio")
    >>> restore_all([("ok", "o1"), ("bad", "o2")], restore_one, "out")
    1
    """
    from tqdm import tqdm

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, UserWarning):
            text = f"masksr-restore: warning: {message}"
        else:
            text = warnings.formatwarning(
                message, category, filename, lineno, line
            ).rstrip()
        tqdm.write(text, file=sys.stderr)

    failed, taken = [], []
    bar = tqdm(plan, desc="masksr-restore", unit="file", file=sys.stderr)
    with warnings.catch_warnings():
        warnings.showwarning = show
        # per-file reports, like the errors (each names its file)
        warnings.simplefilter("always", AudioWarning)
        for src, dst in bar:
            bar.set_postfix_str(Path(src).name)
            try:
                restore_one(src, dst)
            except OutputTakenError as err:  # another run's: left to it
                taken.append(src)
                tqdm.write(
                    f"masksr-restore: skipped {src}: {err}", file=sys.stderr
                )
            except Exception as err:  # one bad file must not stop the rest
                failed.append(src)
                text = str(err) or type(err).__name__
                if str(src) not in text:
                    text = f"{src}: {text}"
                tqdm.write(f"masksr-restore: error: {text}", file=sys.stderr)
    bar.close()
    done = len(plan) - len(failed) - len(taken)
    total = len(plan) + len(skipped)
    line = f"restored {done}/{total} file(s) into {out_dir}"
    if skipped:
        line += f"; {len(skipped)} skipped (output exists, no --overwrite)"
    if taken:
        line += f"; {len(taken)} skipped (written by another run)"
    print(line, file=sys.stderr)
    if failed:
        print(
            f"masksr-restore: {len(failed)} file(s) failed: "
            + ", ".join(str(f) for f in failed),
            file=sys.stderr,
        )
    return 1 if failed or skipped or taken else 0


def _fail(message):
    """Report an error (no traceback); exit status 2."""
    print(f"masksr-restore: error: {message}", file=sys.stderr)
    return 2


def _load(kind, source, savedir, run_opts, trust_source=False):
    """Load a model folder of the given kind (allowlist-checked)."""
    if kind == MAE_ENHANCER:
        from speechbrain_masksr.inference.enhancement import MAEEnhancement

        interface = MAEEnhancement
    else:
        from speechbrain_masksr.inference.restoration import SpeechRestoration

        interface = SpeechRestoration
    return interface.from_folder(
        source=source,
        savedir=savedir,
        run_opts=run_opts,
        trust_source=trust_source,
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
        0 if every file was restored, 1 if some failed or were skipped
        (existing outputs without ``--overwrite``), 2 for usage or
        model-loading errors.

    Example
    -------
    >>> main(["missing.wav", "-o", "out", "--source", "m"])
    2
    """
    started = time.time()
    args = parse_args(argv)
    try:  # every output path is checked before any model work
        plan = plan_outputs(args.inputs, args.out_dir, args.suffix)
        plan, skipped = check_outputs(plan, args.out_dir, args.overwrite)
    except UsageError as err:
        return _fail(err)
    remove_stale_outputs(plan + skipped, started)
    _report_skipped(skipped)
    if not plan:
        return restore_all(plan, None, args.out_dir, skipped)
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
        model = _load(
            kind, args.source, args.savedir, run_opts, args.trust_source
        )
    except UntrustedModelError as err:
        return _fail(
            f"refusing to load the model from '{args.source}': {err}. If "
            "you trust this source, pass --trust-source"
        )
    except Exception as err:  # reported, not a traceback
        return _fail(f"cannot load the model from '{args.source}': {err}")

    if kind == MAE_ENHANCER:
        settings = {}
        restore_file = model.enhance_file
    else:
        settings = dict(steps=args.steps, guidance=args.guidance)
        settings["seed"] = 0 if args.seed is None else args.seed
        if args.noise is not None:
            settings["noise"] = args.noise
        restore_file = model.restore_file

    def restore_one(src, dst):
        with claim_output(dst):  # no other run works on it meanwhile
            if not args.overwrite and (dst.exists() or dst.is_symlink()):
                raise OutputTakenError(
                    f"{dst} was written by another run after this one "
                    "started; not replaced (pass --overwrite to replace it)"
                )
            restore_file(
                src, dst, progress=True, overwrite=args.overwrite, **settings
            )

    return restore_all(plan, restore_one, args.out_dir, skipped)


if __name__ == "__main__":
    sys.exit(main())
