"""``masksr-eval``: score estimates against references, or on their own.

Folders are searched recursively; hidden files and files inside hidden
folders (names starting with a dot, e.g. the ``.<stem>.<random>.tmp.wav``
temporary file of an interrupted ``masksr-restore``) are never taken.
A file whose samples reach far outside [-1, 1] is scored, with a warning
naming it.

**Paired mode** (``--ref`` and ``--est``): files are paired by identical
relative path (recursive; for flat folders this is the file name). Files without a partner are listed on stderr in both
directions, never silently dropped. Every pair is scored with
:func:`speechbrain_masksr.metrics.compute_metrics` at the reference's rate
(an estimate at another rate is resampled to it with ``soxr_hq``; lengths
are truncated to the shorter file). The mean of each metric (NaN-skipping)
is printed as a Markdown table on stdout; ``--csv`` writes one row per file
with the columns ``file,lsd,pesq,estoi,si_sdr,dnsmos_sig,dnsmos_bak,
dnsmos_ovrl,spk_sim_resemblyzer`` (metrics not selected are left empty,
failed ones are ``nan``), plus ``pesq_nb``, ``dnsmos_p808`` or
``spk_sim_ecapa`` when selected. Speaker similarity is named after its
encoder: ``spk_sim`` (default) is Resemblyzer's, ``spk_sim_ecapa``
SpeechBrain's ECAPA model, whose weights ``--spk-model`` gives (a local
folder with ``hyperparams.yaml`` and ``embedding_model.ckpt``, or a hub id
such as ``speechbrain/spkrec-ecapa-voxceleb``).

**Reference-free mode** (``--est`` alone): every audio file under ``--est``
(recursive) is scored with
:func:`speechbrain_masksr.metrics.compute_nonintrusive_metrics`, i.e.
DNSMOS P.835 SIG/BAK/OVRL and P.808 at 16 kHz. ``--metrics`` may then only
name reference-free metrics (``dnsmos``, ``dnsmos_sig``, ``dnsmos_bak``,
``dnsmos_ovrl``, ``dnsmos_p808``; default ``dnsmos,dnsmos_p808``, all four
columns). The means are printed as the same Markdown table (``files``
counts the files scored); ``--csv`` writes one row per readable file with
the columns ``file,dnsmos_sig,dnsmos_bak,dnsmos_ovrl,dnsmos_p808``. Files
that cannot be read or scored are named on stderr and counted.

Example::

    masksr-eval --ref data/clean --est results/enhanced --csv scores.csv
    masksr-eval --ref clean --est noisy --metrics lsd,pesq,estoi,si_sdr
    masksr-eval --ref clean --est out --metrics spk_sim,spk_sim_ecapa \\
        --spk-model pretrained_models/spkrec-ecapa-voxceleb
    masksr-eval --est results/enhanced --csv dnsmos.csv --name model

A file that cannot be scored (a reference or estimate without its
partner, unreadable audio, or every selected metric NaN, e.g. SI-SDR of a
silent estimate) is named on stderr, and a summary line counts each kind;
pairs whose lengths differ by more than 100 samples (truncated to the
shorter) and pairs with some NaN metric are counted too. Means are taken
over the scored files (NaN-skipping).

Exit status: 2 for bad arguments (missing folder, unknown metric, an
intrusive metric without ``--ref``, ``spk_sim_ecapa`` without a usable
``--spk-model``) or a missing optional dependency (``resemblyzer`` for
``spk_sim``, ``speechmos``/``onnxruntime`` for DNSMOS). Otherwise 0 when
every file was scored and 1 when any could not be (or none was);
``--allow-partial`` accepts partial results (0 as long as one file was
scored).

The reference-free scoring is :func:`score_files`, also used by the DNS
recipe's test stage for sets without references (``test_real``).

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import csv
import math
import sys
import warnings
from pathlib import Path

from speechbrain_masksr.dataio import audio_info, find_audio_files, load_audio
from speechbrain_masksr.errors import AudioError
from speechbrain_masksr.metrics._utils import LENGTH_TOLERANCE
from speechbrain_masksr.metrics.compute import (
    CSV_COLUMNS,
    DEFAULT_METRICS,
    METRIC_GROUPS,
    NONINTRUSIVE_COLUMNS,
    NONINTRUSIVE_METRICS,
    compute_metrics,
    compute_nonintrusive_metrics,
    expand_metrics,
    expand_nonintrusive_metrics,
    mean_metrics,
    metrics_table,
)
from speechbrain_masksr.utils.files import atomic_open

#: Columns of the per-file CSV in reference-free mode.
NONINTRUSIVE_CSV_COLUMNS = ("file",) + NONINTRUSIVE_COLUMNS


def build_parser():
    """Command-line options of ``masksr-eval``.

    Returns
    -------
    argparse.ArgumentParser
        The parser.

    Example
    -------
    >>> args = build_parser().parse_args(["--ref", "a", "--est", "b"])
    >>> args.ref, args.est, args.csv
    ('a', 'b', None)
    >>> build_parser().parse_args(["--est", "b"]).ref is None
    True
    """
    parser = argparse.ArgumentParser(
        prog="masksr-eval",
        description=(
            "Score estimated audio against references, pairing files by "
            "identical relative path, or, without --ref, score every file "
            "of --est reference-free with DNSMOS (P.835 SIG/BAK/OVRL and "
            "P.808). Prints a Markdown table of means; --csv writes "
            "per-file scores. LSD is VoiceFixer's (in Bels, resampled to "
            "44.1 kHz: n_fft 2048, hop 441); PESQ, DNSMOS and speaker "
            "similarity run at 16 kHz; ESTOI via pystoi at the file rate. "
            "Exit status: 0 ok; 1 any file not scored (missing partner, "
            "unreadable, every metric NaN; see --allow-partial); 2 bad "
            "usage."
        ),
    )
    parser.add_argument(
        "--ref",
        default=None,
        help=(
            "reference (clean) folder or file; omit it to score --est "
            "reference-free (DNSMOS only)"
        ),
    )
    parser.add_argument(
        "--est", required=True, help="estimated (processed) folder or file"
    )
    parser.add_argument(
        "--csv",
        default=None,
        help=(
            "write per-file scores (without --ref: file,dnsmos_sig,"
            "dnsmos_bak,dnsmos_ovrl,dnsmos_p808)"
        ),
    )
    parser.add_argument(
        "--metrics",
        default=None,
        help=(
            "comma-separated subset of: "
            + ", ".join(METRIC_GROUPS)
            + " (default: "
            + ",".join(DEFAULT_METRICS)
            + "; spk_sim_ecapa needs --spk-model; e.g. skip dnsmos,spk_sim "
            "for speed). Without --ref only "
            "the dnsmos ones (default: " + ",".join(NONINTRUSIVE_METRICS) + ")"
        ),
    )
    parser.add_argument(
        "--spk-weights",
        default=None,
        help="another Resemblyzer-format speaker encoder checkpoint",
    )
    parser.add_argument(
        "--spk-model",
        default=None,
        help=(
            "SpeechBrain ECAPA speaker verification model for "
            "spk_sim_ecapa: a folder with hyperparams.yaml and "
            "embedding_model.ckpt, or a hub id such as "
            "speechbrain/spkrec-ecapa-voxceleb"
        ),
    )
    parser.add_argument(
        "--dnsmos-personalized",
        action="store_true",
        help="use the personalised DNSMOS P.835 model",
    )
    parser.add_argument(
        "--name",
        default=None,
        help="row name in the table (default: the --est folder name)",
    )
    parser.add_argument(
        "--precision", type=int, default=3, help="decimals in the table"
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="hide the progress bar"
    )
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help=(
            "exit 0 when some files could not be scored (missing partner, "
            "unreadable, every metric NaN) as long as one was; without "
            "it any such file makes the exit status 1"
        ),
    )
    return parser


def _relative_key(path, root):
    """Pairing key of a file: its path relative to the searched root."""
    root = Path(root)
    if root.is_file():
        return Path(path).name
    return Path(path).relative_to(root).as_posix()


def pair_files(ref_root, est_root):
    """Pair audio files of two folders by identical relative path.

    Arguments
    ---------
    ref_root : str or Path
        Reference folder (or a single file).
    est_root : str or Path
        Estimate folder (or a single file).

    Returns
    -------
    pairs : list of (str, Path, Path)
        ``(key, ref_path, est_path)`` sorted by key. Two single files are
        paired whatever their names.
    ref_only : list of str
        Keys without an estimate.
    est_only : list of str
        Keys without a reference.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> tmp = getfixture("tmpdir")
    >>> for d, n in [("r", "a"), ("r", "b"), ("e", "a"), ("e", "c")]:
    ...     save_audio(str(tmp / d / f"{n}.wav"), torch.zeros(160), 16000)
    >>> pairs, ref_only, est_only = pair_files(tmp / "r", tmp / "e")
    >>> [p[0] for p in pairs], ref_only, est_only
    (['a.wav'], ['b.wav'], ['c.wav'])
    """
    ref_files = find_audio_files(ref_root)
    est_files = find_audio_files(est_root)
    if Path(ref_root).is_file() and Path(est_root).is_file():
        return [(Path(ref_root).name, ref_files[0], est_files[0])], [], []
    refs = {_relative_key(p, ref_root): p for p in ref_files}
    ests = {_relative_key(p, est_root): p for p in est_files}
    pairs = [(k, refs[k], ests[k]) for k in sorted(refs) if k in ests]
    ref_only = sorted(k for k in refs if k not in ests)
    est_only = sorted(k for k in ests if k not in refs)
    return pairs, ref_only, est_only


def score_pair(ref_path, est_path, metrics, **kwargs):
    """Load one pair and compute its metrics at the reference's rate.

    Arguments
    ---------
    ref_path : str or Path
        Reference file.
    est_path : str or Path
        Estimate file (resampled to the reference's rate if needed).
    metrics : iterable of str
        Metric names (see ``compute_metrics``).
    **kwargs
        Passed to ``compute_metrics``.

    Returns
    -------
    scores : dict
        ``{column: float}``.
    messages : list of str
        Warnings raised while reading and scoring (e.g. audio far outside
        [-1, 1], naming the file).

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> tmp = getfixture("tmpdir")
    >>> x = 0.1 * torch.randn(8000)
    >>> save_audio(str(tmp / "r.wav"), x, 8000)
    >>> save_audio(str(tmp / "e.wav"), x, 8000)
    >>> scores, msgs = score_pair(tmp / "r.wav", tmp / "e.wav", ["lsd"])
    >>> round(scores["lsd"], 3), msgs
    (0.0, [])
    """
    from speechbrain_masksr.metrics._utils import resample_np

    def score():
        ref, ref_sr = load_audio(ref_path)
        est, est_sr = load_audio(est_path)
        est = est.double().numpy()
        if est_sr != ref_sr:
            est = resample_np(est, est_sr, ref_sr)
        return compute_metrics(
            ref.double().numpy(), est, ref_sr, metrics=metrics, **kwargs
        )

    return _with_messages(score)


def score_file(est_path, metrics=NONINTRUSIVE_METRICS, **kwargs):
    """Load one file and compute its reference-free metrics at its rate.

    Arguments
    ---------
    est_path : str or Path
        Audio file.
    metrics : iterable of str
        Reference-free metric names (see ``compute_nonintrusive_metrics``).
    **kwargs
        Passed to ``compute_nonintrusive_metrics``.

    Returns
    -------
    scores : dict
        ``{column: float}``.
    messages : list of str
        Warnings raised while reading and scoring.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> tmp = getfixture("tmpdir")
    >>> save_audio(str(tmp / "e.wav"), 0.05 * torch.randn(8000), 8000)
    >>> scores, msgs = score_file(tmp / "e.wav", ["dnsmos_p808"])
    >>> list(scores), 1 <= scores["dnsmos_p808"] <= 5, msgs
    (['dnsmos_p808'], True, [])
    """

    def score():
        est, sample_rate = load_audio(est_path)
        return compute_nonintrusive_metrics(
            est.double().numpy(), sample_rate, metrics=metrics, **kwargs
        )

    return _with_messages(score)


def _with_messages(fn, *args, **kwargs):
    """Call ``fn``; return its result and the distinct warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    messages = []
    for w in caught:
        if issubclass(w.category, (DeprecationWarning, FutureWarning)):
            continue
        text = str(w.message)
        if text not in messages:
            messages.append(text)
    return result, messages


def _csv_cell(row, column):
    """CSV text of one value: empty if not computed, 6 decimals otherwise."""
    if column not in row:
        return ""
    value = row[column]
    if isinstance(value, str):
        return value
    if value is None or math.isnan(value):
        return "nan"
    return f"{value:.6f}"


def write_csv(path, rows, extra_columns=(), columns=CSV_COLUMNS):
    """Write per-file scores with the ``masksr-eval`` columns.

    The file is replaced atomically (an interrupted run leaves an earlier
    CSV complete).

    Arguments
    ---------
    path : str or Path
        Output CSV (parent folders are created).
    rows : list of dict
        ``{"file": key, column: value, ...}``.
    extra_columns : tuple of str
        Columns appended after ``columns`` (``pesq_nb``, ``dnsmos_p808``
        when selected).
    columns : tuple of str
        The fixed columns (:data:`NONINTRUSIVE_CSV_COLUMNS` in
        reference-free mode); unselected metrics are left empty.

    Example
    -------
    >>> path = getfixture("tmpdir") / "s.csv"
    >>> write_csv(path, [{"file": "a.wav", "pesq": 3.0}])
    >>> print(open(path).read().strip())
    file,lsd,pesq,estoi,si_sdr,dnsmos_sig,dnsmos_bak,dnsmos_ovrl,spk_sim_resemblyzer
    a.wav,,3.000000,,,,,,
    """
    columns = list(columns) + [c for c in extra_columns]
    with atomic_open(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_cell(row, c) for c in columns])


def _report_unpaired(keys, have, lack, stream):
    """List files without a partner on ``stream``."""
    if not keys:
        return
    print(
        f"{len(keys)} {have} file(s) without a matching {lack} file:",
        file=stream,
    )
    for key in keys:
        print(f"  {key}", file=stream)


def main(argv=None):
    """Run ``masksr-eval``.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status. 2: bad usage. 0 when every file was scored, 1 when
        any could not be (or none was); with ``--allow-partial`` 0 as long
        as one file was scored.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> tmp = getfixture("tmpdir")
    >>> x = 0.1 * torch.randn(8000)
    >>> save_audio(str(tmp / "ref" / "a.wav"), x, 8000)
    >>> save_audio(str(tmp / "est" / "a.wav"), x, 8000)
    >>> main(["--ref", str(tmp / "ref"), "--est", str(tmp / "est"),
    ...       "--metrics", "lsd", "--no-progress", "--name", "copy"])
    | system | files | lsd ↓ |
    |---|---|---|
    | copy | 1 | 0.000 |
    0
    >>> main(["--est", str(tmp / "est"), "--metrics", "dnsmos_p808",
    ...       "--no-progress", "--name", "copy"])  # doctest: +ELLIPSIS
    | system | files | dnsmos_p808 ↑ |
    |---|---|---|
    | copy | 1 | ... |
    0
    """
    args = build_parser().parse_args(argv)
    if args.ref is None:
        return _main_nonintrusive(args)
    err = sys.stderr
    if args.metrics is None:
        args.metrics = ",".join(DEFAULT_METRICS)
    try:
        columns = expand_metrics(args.metrics)
        pairs, ref_only, est_only = pair_files(args.ref, args.est)
    except (ValueError, AudioError) as error:
        print(f"masksr-eval: error: {error}", file=err)
        return 2
    if args.spk_weights is not None and not Path(args.spk_weights).is_file():
        print(
            f"masksr-eval: error: --spk-weights {args.spk_weights} not found",
            file=err,
        )
        return 2
    if "spk_sim_ecapa" in columns:
        from speechbrain_masksr.metrics.speaker import get_ecapa

        try:
            get_ecapa(args.spk_model)
        except (ValueError, FileNotFoundError, RuntimeError) as error:
            print(f"masksr-eval: error: {error}", file=err)
            return 2
    if args.csv is not None:
        inputs = {p.resolve() for _, r, e in pairs for p in (r, e)}
        if Path(args.csv).resolve() in inputs:
            print(f"masksr-eval: error: --csv {args.csv} is an input", file=err)
            return 2
    _report_unpaired(ref_only, "reference", "estimate", err)
    _report_unpaired(est_only, "estimate", "reference", err)
    if not pairs:
        print("masksr-eval: no file pairs to evaluate", file=err)
        return 1
    counts = {
        "reference(s) without an estimate": len(ref_only),
        "estimate(s) without a reference": len(est_only),
    }

    from tqdm import tqdm

    kwargs = {
        "spk_weights": args.spk_weights,
        "dnsmos_personalized": args.dnsmos_personalized,
        "spk_model": args.spk_model,
    }
    rows, skipped, unscored, partial, mismatched = [], [], [], [], []
    bar = tqdm(
        pairs,
        desc="masksr-eval",
        unit="file",
        file=err,
        disable=args.no_progress,
    )
    for key, ref_path, est_path in bar:
        try:
            if length_mismatch(ref_path, est_path):
                mismatched.append(key)
            scores, messages = score_pair(ref_path, est_path, columns, **kwargs)
        except AudioError as error:
            skipped.append(key)
            tqdm.write(f"skipping {key}: {error}", file=err)
            continue
        except (ImportError, FileNotFoundError) as error:
            bar.close()
            print(
                f"masksr-eval: error: {error} (or leave that metric out "
                "with --metrics)",
                file=err,
            )
            return 2
        for text in messages:
            tqdm.write(f"{key}: {text}", file=err)
        nans = [c for c, v in scores.items() if math.isnan(v)]
        if len(nans) == len(scores):
            unscored.append(key)
            tqdm.write(f"could not score {key} (see above)", file=err)
        elif nans:
            partial.append(key)
        rows.append({"file": key, **scores})
    bar.close()
    if skipped:
        print(f"{len(skipped)} pair(s) skipped (unreadable audio)", file=err)
    counts["unreadable pair(s)"] = len(skipped)
    counts["pair(s) every metric failed on"] = len(unscored)
    not_scored = sum(counts.values())
    _print_summary(len(rows) - len(unscored), not_scored, counts, err)
    notes = {
        "pair(s) with a NaN metric": len(partial),
        f"pair(s) whose lengths differ by more than {LENGTH_TOLERANCE} "
        "samples (truncated to the shorter)": len(mismatched),
    }
    for text, n in notes.items():
        if n:
            print(f"  scored, but {n} {text}", file=err)
    if len(rows) == len(unscored):
        print("masksr-eval: no pair could be evaluated", file=err)
        return 1

    if args.csv is not None:
        write_csv(args.csv, rows, extra_columns=extra_columns(columns))
        print(f"per-file scores written to {args.csv}", file=err)
    name = args.name or Path(args.est).resolve().name
    means = summarize_scores(rows, unscored)
    print(
        metrics_table(
            {name: means},
            precision=args.precision,
            columns=["files"] + list(columns),
        )
    )
    return _status(not_scored, args.allow_partial, err)


def extra_columns(columns):
    """Selected columns that are not among the fixed CSV columns.

    Arguments
    ---------
    columns : iterable of str
        Selected metric columns.

    Returns
    -------
    list of str
        Those appended to the CSV (e.g. ``pesq_nb``).

    Example
    -------
    >>> extra_columns(["pesq", "pesq_nb", "spk_sim_ecapa"])
    ['pesq_nb', 'spk_sim_ecapa']
    """
    return [c for c in columns if c not in CSV_COLUMNS]


def length_mismatch(ref_path, est_path, tolerance=LENGTH_TOLERANCE):
    """Whether two files' durations differ by more than ``tolerance``.

    Read from the headers; the estimate's length is counted at the
    reference's rate.

    Arguments
    ---------
    ref_path : str or Path
        Reference file.
    est_path : str or Path
        Estimate file.
    tolerance : int
        Samples (at the reference's rate) accepted as equal.

    Returns
    -------
    bool
        ``True`` when the lengths differ by more than ``tolerance``.

    Raises
    ------
    AudioError
        A file that is missing or not audio.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> tmp = getfixture("tmpdir")
    >>> save_audio(str(tmp / "r.wav"), torch.zeros(8000), 8000)
    >>> save_audio(str(tmp / "e.wav"), torch.zeros(16100), 16000)
    >>> save_audio(str(tmp / "f.wav"), torch.zeros(6000), 8000)
    >>> length_mismatch(tmp / "r.wav", tmp / "e.wav")
    False
    >>> length_mismatch(tmp / "r.wav", tmp / "f.wav")
    True
    """
    ref, est = audio_info(ref_path), audio_info(est_path)
    est_len = est.num_samples * ref.sample_rate / est.sample_rate
    return abs(ref.num_samples - est_len) > tolerance


def _print_summary(scored, not_scored, counts, stream):
    """One line of what was scored and what was not (and why)."""
    line = f"masksr-eval: {scored} file(s) scored"
    if not_scored:
        why = ", ".join(f"{n} {text}" for text, n in counts.items() if n)
        line += f"; {not_scored} not scored: {why}"
    print(line, file=stream)


def _status(not_scored, allow_partial, stream):
    """Exit status: 1 if any file could not be scored (unless allowed)."""
    if not_scored and not allow_partial:
        print(
            f"masksr-eval: {not_scored} file(s) could not be scored; exit "
            "status 1 (--allow-partial accepts partial results)",
            file=stream,
        )
        return 1
    return 0


def score_files(
    files,
    root,
    metrics=NONINTRUSIVE_METRICS,
    dnsmos_personalized=False,
    progress=False,
    stream=None,
):
    """Score audio files reference-free: the work of ``masksr-eval --est``.

    Each file goes through :func:`score_file`; the DNS recipe's test stage
    scores its reference-free sets (e.g. DNS ``real_recordings``) with this
    same function.

    Arguments
    ---------
    files : list of str or Path
        Audio files.
    root : str or Path
        Folder (or the single file) the row keys are relative to.
    metrics : iterable of str
        Reference-free metric names (see
        :func:`~speechbrain_masksr.metrics.compute.expand_nonintrusive_metrics`).
    dnsmos_personalized : bool
        Use the personalised DNSMOS P.835 model.
    progress : bool
        Show a progress bar.
    stream : file, optional
        Where warnings, failures and the bar go (default stderr).

    Returns
    -------
    rows : list of dict
        ``{"file": key, column: value, ...}`` per readable file.
    failed : list of str
        Keys of the files that could not be read or scored (unreadable
        files have no row; files whose every score is NaN have one).

    Raises
    ------
    ImportError, FileNotFoundError
        A missing package or DNSMOS model file (a set-up error).

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> tmp = getfixture("tmpdir")
    >>> save_audio(str(tmp / "a.wav"), 0.05 * torch.randn(8000), 8000)
    >>> rows, failed = score_files([tmp / "a.wav"], tmp, ["dnsmos_ovrl"])
    >>> rows[0]["file"], 1 <= rows[0]["dnsmos_ovrl"] <= 5, failed
    ('a.wav', True, [])
    """
    from tqdm import tqdm

    stream = sys.stderr if stream is None else stream
    columns = expand_nonintrusive_metrics(metrics)
    rows, failed = [], []
    bar = tqdm(
        files,
        desc="masksr-eval",
        unit="file",
        file=stream,
        disable=not progress,
    )
    try:
        for path in bar:
            key = _relative_key(path, root)
            try:
                scores, messages = score_file(
                    path, columns, dnsmos_personalized=dnsmos_personalized
                )
            except AudioError as error:
                failed.append(key)
                tqdm.write(f"could not score {key}: {error}", file=stream)
                continue
            for text in messages:
                tqdm.write(f"{key}: {text}", file=stream)
            if all(math.isnan(v) for v in scores.values()):
                failed.append(key)
                tqdm.write(f"could not score {key} (see above)", file=stream)
            rows.append({"file": key, **scores})
    finally:
        bar.close()
    return rows, failed


def summarize_scores(rows, failed=()):
    """Table row of per-file scores: file count and NaN-skipping means.

    Arguments
    ---------
    rows : list of dict
        From :func:`score_files` (or paired scoring).
    failed : iterable of str
        Keys left out of the means.

    Returns
    -------
    dict
        ``{"files": n, column: mean, ...}`` over the scored files.

    Example
    -------
    >>> rows = [{"file": "a", "pesq": 2.0}, {"file": "b", "pesq": 4.0},
    ...         {"file": "c", "pesq": float("nan")}]
    >>> summarize_scores(rows, failed=["c"])
    {'files': 2, 'pesq': 3.0}
    """
    failed = set(failed)
    scored = [r for r in rows if r["file"] not in failed]
    return {"files": len(scored), **mean_metrics(scored)}


def _main_nonintrusive(args):
    """``masksr-eval --est`` without ``--ref``: DNSMOS of every file."""
    err = sys.stderr
    metrics = args.metrics or ",".join(NONINTRUSIVE_METRICS)
    try:
        expand_metrics(metrics)
    except ValueError as error:
        print(f"masksr-eval: error: {error}", file=err)
        return 2
    try:
        columns = expand_nonintrusive_metrics(metrics)
    except ValueError as error:
        print(
            f"masksr-eval: error: {error}; give --ref to score against "
            "references",
            file=err,
        )
        return 2
    try:
        files = find_audio_files(args.est)
    except AudioError as error:
        print(f"masksr-eval: error: {error}", file=err)
        return 2
    if args.csv is not None:
        if Path(args.csv).resolve() in {p.resolve() for p in files}:
            print(f"masksr-eval: error: --csv {args.csv} is an input", file=err)
            return 2
    if not files:
        print(f"masksr-eval: no audio files in {args.est}", file=err)
        return 1

    try:
        rows, failed = score_files(
            files,
            args.est,
            columns,
            dnsmos_personalized=args.dnsmos_personalized,
            progress=not args.no_progress,
            stream=err,
        )
    except (ImportError, FileNotFoundError) as error:
        print(f"masksr-eval: error: {error}", file=err)
        return 2
    if failed:
        print(f"{len(failed)} file(s) could not be scored:", file=err)
        for key in failed:
            print(f"  {key}", file=err)
    _print_summary(
        len(files) - len(failed),
        len(failed),
        {"unreadable or unscorable file(s)": len(failed)},
        err,
    )
    if args.csv is not None and rows:
        write_csv(args.csv, rows, columns=NONINTRUSIVE_CSV_COLUMNS)
        print(f"per-file scores written to {args.csv}", file=err)
    means = summarize_scores(rows, failed)
    if not means["files"]:
        print("masksr-eval: no file could be scored", file=err)
        return 1
    name = args.name or Path(args.est).resolve().name
    print(
        metrics_table(
            {name: means},
            precision=args.precision,
            columns=["files"] + list(columns),
        )
    )
    return _status(len(failed), args.allow_partial, err)


if __name__ == "__main__":
    sys.exit(main())
