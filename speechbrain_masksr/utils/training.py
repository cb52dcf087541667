"""Training-length and batch-size bookkeeping for step-based recipes.

MaskSR states its training in optimizer steps and samples per optimizer
step. The recipes express both with SpeechBrain's run options
(``optimizer_step_limit``, ``grad_accumulation_factor``) and check, before
training, that the batch actually seen by each optimizer step is the one
their YAML states (:func:`check_effective_batch`). Intra-epoch checkpoints
are saved by time or by steps, whichever the command line names
(:func:`ckpt_interval_options`).

Authors
 * speechbrain-masksr contributors 2026
"""

import dataclasses
import logging
import os

import torch

from speechbrain_masksr.errors import ConfigError

__all__ = [
    "world_size",
    "run_option",
    "effective_batch",
    "check_effective_batch",
    "int_step_limit",
    "ckpt_interval_options",
]

logger = logging.getLogger(__name__)

#: SpeechBrain's two exclusive run options for intra-epoch checkpoints.
CKPT_INTERVALS = ("ckpt_interval_minutes", "ckpt_interval_steps")


def world_size():
    """Number of DDP processes (1 without ``torchrun``).

    Returns
    -------
    int
        ``torch.distributed``'s world size when a process group is
        initialised, else ``WORLD_SIZE`` from the environment, else 1.

    Example
    -------
    >>> world_size() >= 1
    True
    """
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_world_size()
    return int(os.environ.get("WORLD_SIZE", 1))


def run_option(name, hparams, run_opts):
    """A run option's value as ``sb.Brain`` will resolve it.

    Priority, as in ``Brain.__init__``: the command line (options the user
    gave), then a top-level YAML key of the same name, then SpeechBrain's
    default. Lets a recipe check run options before building its Brain.

    Arguments
    ---------
    name : str
        The run option (``"grad_accumulation_factor"``, ...).
    hparams : dict
        Loaded hyperparameters.
    run_opts : RunOptions or dict
        Parsed run options (a dict counts as given on the command line).

    Returns
    -------
    object
        The value.

    Example
    -------
    >>> import speechbrain as sb
    >>> _, opts, _ = sb.parse_arguments(["h.yaml"])
    >>> run_option("grad_accumulation_factor", {}, opts)
    1
    >>> run_option("grad_accumulation_factor",
    ...            {"grad_accumulation_factor": 4}, opts)
    4
    >>> argv = ["h.yaml", "--grad_accumulation_factor=2"]
    >>> _, opts, _ = sb.parse_arguments(argv)
    >>> run_option("grad_accumulation_factor",
    ...            {"grad_accumulation_factor": 4}, opts)
    2
    """
    from speechbrain.utils.run_opts import RunOptions

    if isinstance(run_opts, dict):
        given = set(run_opts)
    else:
        given = set(getattr(run_opts, "overridden_args", ()) or ())
    if name in given:
        return run_opts[name]
    if hparams is not None and name in hparams:
        return hparams[name]
    return getattr(RunOptions(), name)


def effective_batch(batch_size, grad_accumulation_factor=1, processes=1):
    """Examples that contribute to one optimizer step.

    Arguments
    ---------
    batch_size : int
        Examples per forward pass and process.
    grad_accumulation_factor : int
        Forward passes accumulated per optimizer step.
    processes : int
        DDP processes (each sees its own batches; gradients are averaged).

    Returns
    -------
    int
        ``batch_size * grad_accumulation_factor * processes``.

    Example
    -------
    >>> effective_batch(16, 4), effective_batch(16, 1, processes=4)
    (64, 64)
    """
    return int(batch_size) * int(grad_accumulation_factor) * int(processes)


def check_effective_batch(
    expected, batch_size, grad_accumulation_factor=1, processes=1
):
    """Check that one optimizer step sees ``expected`` examples.

    Arguments
    ---------
    expected : int
        The effective batch the configuration states.
    batch_size : int
        Examples per forward pass and process.
    grad_accumulation_factor : int
        Forward passes accumulated per optimizer step.
    processes : int
        DDP processes.

    Returns
    -------
    int
        The effective batch (equal to ``expected``).

    Raises
    ------
    ValueError
        If the product differs; the message gives the three factors and a
        ``batch_size`` or ``grad_accumulation_factor`` that would match,
        when one exists.

    Example
    -------
    >>> check_effective_batch(64, 16, 4)
    64
    >>> check_effective_batch(64, 64, 1, processes=4)
    Traceback (most recent call last):
    ...
    ValueError: effective batch 64 x 1 ... = 256, ...; e.g. batch_size 16
    """
    actual = effective_batch(batch_size, grad_accumulation_factor, processes)
    if actual == int(expected):
        return actual
    msg = (
        f"effective batch {batch_size} x {grad_accumulation_factor} "
        f"(grad_accumulation_factor) x {processes} (processes) = {actual}, "
        f"but effective_batch_size is {expected}"
    )
    per_process = int(expected) // int(processes)
    if int(expected) % int(processes) == 0 and per_process:
        if per_process % int(grad_accumulation_factor) == 0:
            hint = per_process // int(grad_accumulation_factor)
            msg += f"; e.g. batch_size {hint}"
        elif per_process % int(batch_size) == 0:
            hint = per_process // int(batch_size)
            msg += f"; e.g. grad_accumulation_factor {hint}"
    raise ValueError(msg)


def int_step_limit(run_opts):
    """Run options with ``optimizer_step_limit`` as an integer.

    SpeechBrain's command-line parser (1.1) gives no type to options whose
    default is ``None``, so ``--optimizer_step_limit=5`` arrives as the
    string ``"5"`` and the step-limit check then fails. Values from the YAML
    are not affected.

    Arguments
    ---------
    run_opts : RunOptions or dict
        Parsed run options.

    Returns
    -------
    RunOptions or dict
        The same kind of object, with an ``int`` (or ``None``) limit.

    Example
    -------
    >>> import speechbrain as sb
    >>> _, opts, _ = sb.parse_arguments(["h.yaml", "--optimizer_step_limit=5"])
    >>> int_step_limit(opts).optimizer_step_limit
    5
    >>> int_step_limit({"optimizer_step_limit": "7"})
    {'optimizer_step_limit': 7}
    """
    limit = run_opts.get("optimizer_step_limit")
    if limit is None or isinstance(limit, int):
        return run_opts
    limit = int(limit)
    if isinstance(run_opts, dict):
        return dict(run_opts, optimizer_step_limit=limit)
    return dataclasses.replace(run_opts, optimizer_step_limit=limit)


def _given(run_opts):
    """The run options given on the command line (a dict: all of them)."""
    if run_opts is None:
        return set()
    if isinstance(run_opts, dict):
        return set(run_opts)
    return set(getattr(run_opts, "overridden_args", ()) or ())


def ckpt_interval_options(hparams, run_opts):
    """Run options where a command-line checkpoint interval replaces the YAML's.

    SpeechBrain saves intra-epoch checkpoints every ``ckpt_interval_minutes``
    or every ``ckpt_interval_steps`` batches, and ``sb.Brain`` exits if both
    are positive. The MaskSR YAMLs set ``ckpt_interval_minutes``: as any
    command-line option overrides the YAML, ``--ckpt_interval_steps=N``
    alone then counts batches instead (the YAML's minutes are set to 0),
    and likewise ``--ckpt_interval_minutes=M`` alone replaces a YAML's
    ``ckpt_interval_steps``.

    Arguments
    ---------
    hparams : dict or None
        Loaded hyperparameters.
    run_opts : RunOptions or dict or None
        Parsed run options (a dict counts as given on the command line).

    Returns
    -------
    RunOptions or dict or None
        ``run_opts``, or a copy of the same kind in which the interval that
        the command line did not give is 0 (and counts as given).

    Raises
    ------
    ConfigError
        If both intervals are positive and given the same way (both on the
        command line, or both in the YAML).

    Example
    -------
    >>> import speechbrain as sb
    >>> hparams = {"ckpt_interval_minutes": 15}
    >>> _, opts, _ = sb.parse_arguments(["h.yaml", "--ckpt_interval_steps=5"])
    >>> opts = ckpt_interval_options(hparams, opts)
    >>> opts.ckpt_interval_minutes, opts.ckpt_interval_steps
    (0, 5)
    >>> ckpt_interval_options(hparams, {"ckpt_interval_steps": 5})
    {'ckpt_interval_steps': 5, 'ckpt_interval_minutes': 0}
    >>> ckpt_interval_options({}, {"ckpt_interval_minutes": 1,
    ...                            "ckpt_interval_steps": 5})
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.ConfigError: ckpt_interval_minutes (1) and ...
    """
    values = {
        name: run_option(name, hparams, run_opts) for name in CKPT_INTERVALS
    }
    if not all(float(value or 0) > 0 for value in values.values()):
        return run_opts
    on_command_line = [
        name for name in CKPT_INTERVALS if name in _given(run_opts)
    ]
    if len(on_command_line) != 1:
        where = "on the command line" if on_command_line else "in the YAML"
        minutes, steps = (values[name] for name in CKPT_INTERVALS)
        raise ConfigError(
            f"ckpt_interval_minutes ({minutes}) and ckpt_interval_steps "
            f"({steps}) are both set {where}: intra-epoch checkpoints are "
            "saved by time or by steps, not both; set one of them to 0"
        )
    (given,) = on_command_line
    (other,) = set(CKPT_INTERVALS) - {given}
    logger.info(
        f"--{given}={values[given]} replaces the YAML's {other} "
        f"({values[other]}): intra-epoch checkpoints by "
        f"{given.rsplit('_', 1)[1]} only"
    )
    if isinstance(run_opts, dict):
        return dict(run_opts, **{other: 0})
    return dataclasses.replace(
        run_opts,
        **{other: 0},
        overridden_args=set(run_opts.overridden_args) | {other},
    )
