"""Running a data preparation from a recipe or from the command line.

The recipe ``*_prepare.py`` scripts wrap a preparation function (one that
writes manifests and returns ``{name: path}``, and that returns the
manifests already written when called with ``skip_prep=True``) in the same
two ways:

* :func:`prepare_on_main`: from a training script, the preparation runs on
  the main process only, then every process reads the manifests written;
* :func:`run_prepare_cli`: from the command line, with logging to the
  console, the manifests printed one a line and an exit status of 2 (and
  the message on stderr) when the data is not found.

Authors
 * speechbrain-masksr contributors 2026
"""

import logging
import sys

from speechbrain.utils.distributed import run_on_main

__all__ = ["prepare_on_main", "run_prepare_cli"]


def prepare_on_main(prepare, **kwargs):
    """Run ``prepare`` on the main process, then read its manifests.

    ``prepare(**kwargs)`` runs on the main process only (the others wait),
    then every process calls ``prepare(**kwargs, skip_prep=True)`` to get
    the manifests written.

    Arguments
    ---------
    prepare : callable
        Preparation function taking ``skip_prep`` and returning
        ``{name: path}``.
    **kwargs
        Its keyword arguments (``skip_prep`` included, if it is to be
        passed to the main-process call).

    Returns
    -------
    dict
        What ``prepare(**kwargs, skip_prep=True)`` returns.

    Example
    -------
    >>> calls = []
    >>> def prepare(save_folder, skip_prep=False):
    ...     calls.append(skip_prep)
    ...     return {"train": f"{save_folder}/train.json"}
    >>> prepare_on_main(prepare, save_folder="save", skip_prep=False)
    {'train': 'save/train.json'}
    >>> calls
    [False, True]
    """
    run_on_main(prepare, kwargs=kwargs)
    return prepare(**dict(kwargs, skip_prep=True))


def run_prepare_cli(
    prepare, *args, errors=(FileNotFoundError, ValueError), **kwargs
):
    """Run a preparation for a command-line entry point.

    Sets up console logging, calls ``prepare(*args, **kwargs)`` and prints
    each manifest written as ``name: path``. An exception among ``errors``
    (data not found, bad layout) is printed to stderr as ``error: ...``
    instead of a traceback.

    Arguments
    ---------
    prepare : callable
        Preparation function returning ``{name: path}``.
    *args
        Its positional arguments.
    errors : tuple of type
        Exceptions reported as an exit status of 2.
    **kwargs
        Its keyword arguments.

    Returns
    -------
    int
        Exit status: 0, or 2 on one of ``errors``.

    Example
    -------
    >>> def prepare(save_folder, seed=0):
    ...     return {"train": f"{save_folder}/train_{seed}.json"}
    >>> run_prepare_cli(prepare, "save", seed=3)
    train: save/train_3.json
    0
    >>> def missing(data_folder):
    ...     raise FileNotFoundError(f"not found: {data_folder}")
    >>> run_prepare_cli(missing, "nowhere")
    2
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        written = prepare(*args, **kwargs)
    except errors as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for name, path in written.items():
        print(f"{name}: {path}")
    return 0
