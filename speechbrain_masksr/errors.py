"""The exception and warning classes of speechbrain-masksr, in one place.

One type per kind of failure, raised the same way everywhere in the
library:

* :class:`AudioError` - audio that cannot be used (a file that is missing
  or unreadable; a waveform that is empty, too short, silent where a
  signal is needed, or holds NaN / Inf);
* :class:`ModelFileError` - a model folder or checkpoint that is missing,
  unreadable, of an unknown kind or does not fit its model;
* :class:`UntrustedModelError` - a model folder whose ``hyperparams.yaml``
  names code outside the allowlist of the trust check (a
  ``ModelFileError``);
* :class:`ConfigError` - a configuration (YAML keys, ``model_config``,
  template values, options) that names an unknown key or lacks one; bad
  configuration *values* raise ``ValueError``;
* :class:`UsageError` - bad command-line arguments (the command-line tools
  report it without a traceback);
* :class:`OutputError` - an output file that cannot be written where it is
  asked for (a folder that cannot be created or written, a path that is a
  folder or the input itself), found before any work;
* :class:`OutputTakenError` - an output that another writer holds (a live
  claim) or has written since the work began (an ``OutputError``);
* :class:`AudioWarning` - audio that is used but looks wrong (samples far
  outside [-1, 1]);
* :class:`MetricWarning` - a metric that had to adapt its input or give
  up (it then returns NaN).

Each class also derives from the built-in types that these failures raised
before, so existing ``except`` clauses keep working. Messages name the
argument of the Python API or the YAML key, never a command-line flag (the
command-line tools add their flags).

Authors
 * speechbrain-masksr contributors 2026
"""

__all__ = [
    "AudioError",
    "AudioWarning",
    "ConfigError",
    "MetricWarning",
    "ModelFileError",
    "OutputError",
    "OutputTakenError",
    "UntrustedModelError",
    "UsageError",
]


class AudioError(ValueError):
    """Raised for audio that cannot be used: unreadable, empty, NaN, ...

    Example
    -------
    >>> raise AudioError("x.wav: empty")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.AudioError: x.wav: empty
    """


class ModelFileError(FileNotFoundError, RuntimeError, ValueError):
    """A model folder or checkpoint is missing, unreadable or unusable.

    A ``FileNotFoundError`` (a model folder lacks a file), a
    ``RuntimeError`` (what ``torch`` raises for a bad ``load_state_dict``)
    and a ``ValueError`` (a model source of an unknown kind), so that
    ``except`` clauses written for any of these catch it.

    Example
    -------
    >>> raise ModelFileError("model.ckpt not found in 'x'")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.ModelFileError: model.ckpt not found in 'x'
    >>> isinstance(ModelFileError("x"), (FileNotFoundError, RuntimeError))
    True
    """


class UntrustedModelError(ModelFileError):
    """A model folder's ``hyperparams.yaml`` names code it may not run.

    Raised by the trust check of
    :mod:`speechbrain_masksr.trust` before anything in the file
    is executed; the message names the file, the line and the tag. A
    :class:`ModelFileError`, so ``except`` clauses for bad model folders
    catch it.

    Example
    -------
    >>> raise UntrustedModelError("h.yaml, line 3: tag '!apply:os.system'")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.UntrustedModelError: h.yaml, line 3: tag '!apply:os.system'
    >>> isinstance(UntrustedModelError("x"), ModelFileError)
    True
    """


class ConfigError(ValueError, KeyError):
    """A configuration names an unknown key or lacks a required one.

    A ``ValueError`` like every bad-configuration error, and a ``KeyError``
    for callers written against the earlier ``KeyError``; the message is
    printed as given (not quoted like a ``KeyError``'s).

    Example
    -------
    >>> raise ConfigError("unknown model_config keys ['x']")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.ConfigError: unknown model_config keys ['x']
    >>> isinstance(ConfigError("x"), KeyError)
    True
    """

    __str__ = Exception.__str__


class UsageError(ValueError):
    """Bad command-line arguments (reported without a traceback).

    Example
    -------
    >>> raise UsageError("no input")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.UsageError: no input
    """


class OutputError(OSError, ValueError):
    """An output file cannot be written where it is asked for.

    Raised before any work (model loading, restoration) for an output
    whose folder cannot be created or written, a path that is a folder, or
    the input file itself; the message names the path. An ``OSError``
    (what writing there would have raised) and a ``ValueError`` (what the
    earlier path checks raised), so ``except`` clauses for either catch it.

    Example
    -------
    >>> raise OutputError("cannot write /proc/x/a.wav: ...")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.OutputError: cannot write /proc/x/a.wav: ...
    >>> isinstance(OutputError("x"), (OSError, ValueError))
    True
    """


class OutputTakenError(OutputError, FileExistsError):
    """An output is being written by another writer, or was since the start.

    Raised for an output whose claim another live process holds (two
    runs into one folder), or that appeared after the work began and may
    not be replaced; the message names the file. A ``FileExistsError``.

    Example
    -------
    >>> raise OutputTakenError("out/a.wav: claimed by process 12")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.OutputTakenError: out/a.wav: claimed by process 12
    >>> isinstance(OutputTakenError("x"), (FileExistsError, OutputError))
    True
    """


class AudioWarning(UserWarning):
    """Audio that is used as it is but looks wrong.

    Warned, naming the file, for samples far outside [-1, 1] (float audio
    stored unscaled, e.g. in PCM integer units): the models expect
    [-1, 1], so the results are likely useless.

    Example
    -------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("x.wav: peak 1000", AudioWarning)
    >>> caught[0].category.__name__
    'AudioWarning'
    """


class MetricWarning(UserWarning):
    """Warning raised by a metric that had to adapt its input or give up.

    Example
    -------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("pesq: no utterance found", MetricWarning)
    >>> caught[0].category.__name__
    'MetricWarning'
    """
