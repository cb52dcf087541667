"""Data preparation from plain folders of audio (speech-enhancement recipes).

A thin wrapper of :func:`speechbrain_masksr.data.folders.prepare_folders`
for corpora without a known layout: a folder of speech (clean speech that
the recipe degrades on the fly, or noisy-only recordings for
self-supervised pretraining), and optional folders of noises, room impulse
responses and validation speech. Writes to ``save_folder``:

* ``train.json`` and ``valid.json`` (a random ``valid_ratio`` of the
  speech, or the ``--valid`` folder);
* ``noise.json`` and ``rir.json`` when those folders are given.

Entries are ``{"wav", "duration", "sample_rate"}`` with **absolute** paths
(no ``{data_root}`` placeholder). Unreadable files are reported by path and
skipped.

Usage::

    python folders_prepare.py results/save --speech /data/speech \\
        --noise /data/noise --rir /data/rirs --valid-ratio 0.05

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import logging
import sys

from speechbrain.utils.distributed import run_on_main

from speechbrain_masksr.data.folders import prepare_folders

DEFAULT_VALID_RATIO = 0.1


def prepare_from_hparams(hparams):
    """Prepare the manifests (main process only) from recipe hparams.

    :func:`prepare_folders` runs on the main process, then every process
    reads the list of manifests written.

    Arguments
    ---------
    hparams : dict
        Loaded recipe hyperparameters: ``speech_folder``, ``save_folder``,
        ``skip_prep`` and the optional ``noise_folder``, ``rir_folder``,
        ``valid_folder``, ``valid_ratio`` (default 0.1), ``seed`` (default
        1234) and ``min_duration`` (default 0). A missing, ``None`` or empty
        folder means "not given".

    Returns
    -------
    dict
        ``{name: path}`` of the manifests (``train``, ``valid`` and, when
        their folders are given, ``noise``, ``rir``).

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> root = getfixture("tmpdir")
    >>> for i in range(4):
    ...     save_audio(str(root / "speech" / f"u{i}.wav"),
    ...                0.1 * torch.randn(1600), 16000)
    >>> save_audio(str(root / "rirs" / "room.wav"), torch.ones(80), 16000)
    >>> hparams = {"speech_folder": str(root / "speech"),
    ...            "rir_folder": str(root / "rirs"), "valid_ratio": 0.25,
    ...            "save_folder": str(root / "save"), "skip_prep": False}
    >>> sorted(prepare_from_hparams(hparams))
    ['rir', 'train', 'valid']
    """

    valid_ratio = hparams.get("valid_ratio")
    prep_kwargs = {
        "save_folder": hparams["save_folder"],
        "speech_folder": hparams["speech_folder"],
        "noise_folder": hparams.get("noise_folder") or None,
        "rir_folder": hparams.get("rir_folder") or None,
        "valid_folder": hparams.get("valid_folder") or None,
        "valid_ratio": DEFAULT_VALID_RATIO
        if valid_ratio is None
        else valid_ratio,
        "seed": hparams.get("seed", 1234),
        "min_duration": hparams.get("min_duration") or 0.0,
        "skip_prep": hparams["skip_prep"],
    }
    run_on_main(prepare_folders, kwargs=prep_kwargs)
    return prepare_folders(**dict(prep_kwargs, skip_prep=True))


def main(argv=None):
    """Command-line entry point.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> main([str(tmp / "save"), "--speech", str(tmp / "no_such_folder")])
    2
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("save_folder", help="where the manifests go")
    parser.add_argument(
        "--speech",
        required=True,
        help="folder of speech (searched recursively)",
    )
    parser.add_argument("--noise", help="folder of noises (noise.json)")
    parser.add_argument("--rir", help="folder of impulse responses (rir.json)")
    parser.add_argument(
        "--valid", help="folder of validation speech (else a random split)"
    )
    parser.add_argument(
        "--valid-ratio", type=float, default=DEFAULT_VALID_RATIO
    )
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument(
        "--min-duration",
        type=float,
        default=0.0,
        help="skip speech shorter than this (seconds)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        written = prepare_folders(
            args.save_folder,
            args.speech,
            noise_folder=args.noise,
            rir_folder=args.rir,
            valid_ratio=args.valid_ratio,
            valid_folder=args.valid,
            seed=args.seed,
            min_duration=args.min_duration,
        )
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for name, path in written.items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
