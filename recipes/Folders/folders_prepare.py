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
import sys

from speechbrain_masksr.data.folders import (
    add_folder_arguments,
    folder_hparams_kwargs,
    prepare_folders,
)
from speechbrain_masksr.data.prepare import prepare_on_main, run_prepare_cli

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
    kwargs = folder_hparams_kwargs(hparams, DEFAULT_VALID_RATIO)
    return prepare_on_main(prepare_folders, **kwargs)


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
    add_folder_arguments(parser, DEFAULT_VALID_RATIO)
    args = parser.parse_args(argv)
    return run_prepare_cli(prepare_folders, **vars(args))


if __name__ == "__main__":
    sys.exit(main())
