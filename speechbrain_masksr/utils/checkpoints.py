"""Strict checkpoint reading and loading, with errors that name the problem.

Every checkpoint the package loads (model folders, HiFi-GAN and DAC
weights, Audio-MAE conversions, the speaker encoder, pretrained enhancer
parts) is read with ``torch.load(weights_only=True)`` by
:func:`read_state_dict` and loaded with :func:`load_state_dict_strict`,
which refuses any missing or unexpected key or shape mismatch and lists
them (SpeechBrain's default transfer hook only logs mismatches). Both raise
:class:`ModelFileError`.

Training survives a kill at any moment with :class:`SafeCheckpointer`, the
``checkpointer`` of every training YAML: it writes each ``CKPT+*`` folder
under a hidden temporary name and renames it into place once complete,
deletes one by renaming it to a hidden name first, and it skips (with a
warning naming the folder) a checkpoint that is damaged - an unreadable
``CKPT.yaml``, a missing or truncated parameter file - when it picks one to
recover or export. If every checkpoint is damaged, recovering stops with an
error instead of training again from scratch. :class:`RNGState`, one of the
YAMLs' ``recoverables``, puts the random number generators of each process
into the checkpoints, so a resumed run draws what the uninterrupted run
would.

Authors
 * speechbrain-masksr contributors 2026
"""

import logging
import os
import pickle
import random
import shutil
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch
import yaml
from speechbrain.utils.checkpoints import (
    CKPT_PREFIX,
    METAFNAME,
    PARAMFILE_EXT,
    Checkpoint,
    Checkpointer,
    ckpt_recency,
    mark_as_loader,
    mark_as_saver,
    register_checkpoint_hooks,
)
from speechbrain.utils.distributed import (
    ddp_barrier,
    get_rank,
    if_main_process,
)

from speechbrain_masksr.errors import ModelFileError

__all__ = [
    "ModelFileError",
    "RNGState",
    "SafeCheckpointer",
    "load_state_dict_strict",
    "read_state_dict",
]

logger = logging.getLogger(__name__)

#: Keys listed per category in a mismatch message.
MAX_LISTED = 10


def read_state_dict(path, hint=""):
    """Read a ``torch.save``-d dict with ``weights_only=True``.

    Arguments
    ---------
    path : str or Path
        The file.
    hint : str
        Appended to the error messages (e.g. the expected format).

    Returns
    -------
    dict
        What the file holds.

    Raises
    ------
    ModelFileError
        If the file is missing, unreadable or not a dict; the message
        names the file.

    Example
    -------
    >>> path = str(getfixture("tmpdir") / "w.ckpt")
    >>> torch.save({"a": torch.ones(1)}, path)
    >>> read_state_dict(path)
    {'a': tensor([1.])}
    >>> read_state_dict(path + ".missing")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.ModelFileError: ...not found
    """
    path = str(path)
    hint = f". {hint}" if hint else ""
    if not os.path.isfile(path):
        raise ModelFileError(f"{path}: checkpoint file not found{hint}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ModelFileError(
            f"{path}: cannot read the checkpoint with "
            "torch.load(weights_only=True): the file is corrupt, truncated "
            f"or not a torch.save state dict ({type(err).__name__}: {err})"
            f"{hint}"
        ) from err
    if not isinstance(state, dict):
        raise ModelFileError(f"{path}: not a state dict{hint}")
    return state


def _listed(keys):
    extra = len(keys) - MAX_LISTED
    more = f" (+{extra} more)" if extra > 0 else ""
    return f"{keys[:MAX_LISTED]}{more}"


def load_state_dict_strict(module, state, source, target="the model", hint=""):
    """Load ``state`` into ``module`` strictly, naming every mismatch.

    Arguments
    ---------
    module : torch.nn.Module
        Module to load into.
    state : dict
        State dict.
    source : str or Path
        Where ``state`` came from (a file, or e.g. ``"pretrained
        encoder"``), named first in the message.
    target : str
        What it should fit, for the message.
    hint : str
        Appended to the message (e.g. which configuration to check).

    Raises
    ------
    ModelFileError
        If keys are missing or unexpected or shapes differ; the message
        lists them (up to :data:`MAX_LISTED` of each).

    Example
    -------
    >>> lin = torch.nn.Linear(2, 3)
    >>> load_state_dict_strict(lin, torch.nn.Linear(2, 3).state_dict(), "x")
    >>> load_state_dict_strict(lin, {"weight": torch.ones(3, 2)}, "x.ckpt")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.ModelFileError: x.ckpt does not match the model: missing keys ['bias'], unexpected keys [], shape mismatches []
    """
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [
        f"{k}: {tuple(state[k].shape)} in file, {tuple(v.shape)} in model"
        for k, v in own.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or shapes:
        raise ModelFileError(
            f"{source} does not match {target}: missing keys "
            f"{_listed(missing)}, unexpected keys {_listed(unexpected)}, "
            f"shape mismatches {_listed(shapes)}"
            + (f". {hint}" if hint else "")
        )
    module.load_state_dict(state, strict=True)


#: Prefix of the folder a checkpoint is written into before it is renamed
#: to ``CKPT+...`` (SpeechBrain lists only folders named ``CKPT*``).
TMP_PREFIX = ".tmp-"
#: Prefix a named checkpoint takes while a new save replaces it.
OLD_PREFIX = ".old-"
#: Prefix a checkpoint folder takes while it is deleted.
DELETING_PREFIX = ".deleting-"
#: First bytes of a ``torch.save`` file (a zip archive).
ZIP_MAGIC = b"PK\x03\x04"
#: What ``torch.load`` raises on a truncated or corrupt file.
READ_ERRORS = (EOFError, pickle.UnpicklingError, zipfile.BadZipFile)
#: Parts of the ``RuntimeError`` messages of ``torch.load`` on such files.
READ_ERROR_TEXTS = ("PytorchStreamReader", "central directory", "EOF")


def _is_read_error(err):
    """Whether ``err`` says a checkpoint file is truncated or corrupt."""
    if isinstance(err, READ_ERRORS):
        return True
    return isinstance(err, RuntimeError) and any(
        text in str(err) for text in READ_ERROR_TEXTS
    )


def _read_meta(folder):
    """The ``CKPT.yaml`` meta of ``folder``; ModelFileError if unusable."""
    path = Path(folder) / METAFNAME
    try:
        with open(path, encoding="utf-8") as fin:
            meta = yaml.load(fin, Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ModelFileError(
            f"{path} is unreadable ({type(err).__name__}: {err})"
        ) from err
    if not isinstance(meta, dict) or not {"unixtime", "end-of-epoch"} <= set(
        meta
    ):
        raise ModelFileError(
            f"{path} is empty or truncated (no unixtime / end-of-epoch)"
        )
    return meta


def _file_problem(path):
    """Why the parameter file ``path`` is damaged, or None if it looks whole.

    A missing or empty file is damaged; so is a ``torch.save`` file (a zip
    archive) whose central directory, written last, cannot be read.
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            return f"{path.name} is empty"
        with open(path, "rb") as fin:
            head = fin.read(len(ZIP_MAGIC))
        if head == ZIP_MAGIC:
            with zipfile.ZipFile(path) as archive:
                archive.infolist()
    except zipfile.BadZipFile as err:
        return f"{path.name} is truncated or corrupt ({err})"
    except OSError as err:
        return f"{path.name} is unreadable ({err})"
    return None


def _is_empty_dir(path):
    """Whether ``path`` is an empty folder (or one removed meanwhile)."""
    try:
        return path.is_dir() and not any(path.iterdir())
    except FileNotFoundError:
        return True


def _fsync(path, directory=False):
    """Flush ``path`` to disk (best effort: some file systems refuse)."""
    try:
        fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    except (OSError, AttributeError):
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class SafeCheckpointer(Checkpointer):
    """SpeechBrain's ``Checkpointer``, safe against a kill at any moment.

    * Saving is atomic: a checkpoint is written into a hidden folder
      ``.tmp-CKPT+...`` of ``checkpoints_dir`` (which SpeechBrain does not
      list), flushed to disk and renamed to ``CKPT+...`` once every process
      has written its files. A kill during a save leaves only the hidden
      folder, removed at the next start (:meth:`recover_if_possible`) or
      save.
    * Deleting is atomic too (:meth:`delete_checkpoints`, hence
      ``save_and_keep_only``): a folder is renamed to a hidden
      ``.deleting-CKPT+...`` and then removed, so a kill during a deletion
      leaves no half-removed ``CKPT+*`` folder, only the hidden one,
      removed (with an info log) at the next start or save. So is an
      empty ``CKPT+*`` folder (it holds nothing), as SpeechBrain's own
      ``Checkpointer`` can leave.
    * Damaged checkpoints are skipped: whenever a checkpoint is picked
      (:meth:`find_checkpoints`, hence ``find_checkpoint``,
      ``recover_if_possible`` and ``delete_checkpoints``), a folder whose
      ``CKPT.yaml`` is unreadable, that lacks the file of a recoverable (or
      of a ``required`` name), or holds an empty or truncated file is left
      out with a warning naming it; the next best valid checkpoint (same
      ``min_key`` / ``max_key`` ranking) is used instead. A file that
      still fails to load in :meth:`recover_if_possible` (truncated or
      corrupt) is skipped the same way. Damaged folders are never deleted
      (they only come from saves or deletions not made by this class, or
      disk faults). If checkpoint folders exist but every candidate is
      damaged, :meth:`recover_if_possible` raises :class:`ModelFileError`
      naming them and how to start afresh; it returns None (a fresh start)
      only when there is no checkpoint folder.
    * :class:`RNGState` recoverables are optional: checkpoints saved
      before it was added still load (the generators keep their seeds).

    Runs that are not interrupted behave as with ``Checkpointer``.

    Arguments
    ---------
    checkpoints_dir : str or Path
        Where the ``CKPT+*`` folders are saved.
    recoverables : mapping, optional
        Name -> object to save and recover.
    custom_load_hooks : mapping, optional
        See ``speechbrain.utils.checkpoints.Checkpointer``.
    custom_save_hooks : mapping, optional
        See ``speechbrain.utils.checkpoints.Checkpointer``.
    allow_partial_load : bool
        Accept checkpoints lacking the file of a recoverable.
    required : list of str, optional
        Names of parameter files (without ``.ckpt``) a checkpoint must hold
        besides those of the recoverables, e.g. ``["model"]`` to pick a
        checkpoint to export without building the recoverables.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> lin = torch.nn.Linear(2, 2)
    >>> ckpter = SafeCheckpointer(tmp, {"model": lin})
    >>> good = ckpter.save_checkpoint(meta={"loss": 1.0})
    >>> bad = ckpter.save_checkpoint(meta={"loss": 0.5})
    >>> _ = open(bad.paramfiles["model"], "r+b").truncate(100)
    >>> ckpter.recover_if_possible(min_key="loss").path == good.path
    True
    >>> sorted(p.name.startswith("CKPT+") for p in Path(tmp).iterdir())
    [True, True]
    """

    def __init__(
        self,
        checkpoints_dir,
        recoverables=None,
        custom_load_hooks=None,
        custom_save_hooks=None,
        allow_partial_load=False,
        required=None,
    ):
        super().__init__(
            checkpoints_dir,
            recoverables=recoverables,
            custom_load_hooks=custom_load_hooks,
            custom_save_hooks=custom_save_hooks,
            allow_partial_load=allow_partial_load,
        )
        self.required = list(required or [])
        self._pending = {}  # temporary folder -> final folder
        self._file_problems = {}  # (file, size, mtime) -> problem or None
        self._damaged = {}  # folder -> why it failed to load
        self._warned = set()
        self._skipped = {}  # folder -> problem, since recovery began

    # Recoverables --------------------------------------------------------

    def add_recoverable(
        self,
        name,
        obj,
        custom_load_hook=None,
        custom_save_hook=None,
        optional_load=False,
    ):
        """Register a recoverable (an :class:`RNGState` is optional).

        Arguments
        ---------
        name : str
            Unique name (that of its file in the checkpoints).
        obj : object
            The object to save and recover.
        custom_load_hook : callable, optional
            Called as ``hook(obj, path, end_of_epoch)`` to load it.
        custom_save_hook : callable, optional
            Called as ``hook(obj, path)`` to save it.
        optional_load : bool
            Accept checkpoints without its file.

        Example
        -------
        >>> ckpter = SafeCheckpointer(getfixture("tmpdir"))
        >>> ckpter.add_recoverable("rng", RNGState())
        >>> ckpter.optional_recoverables
        {'rng': True}
        """
        super().add_recoverable(
            name,
            obj,
            custom_load_hook=custom_load_hook,
            custom_save_hook=custom_save_hook,
            optional_load=optional_load or isinstance(obj, RNGState),
        )

    def add_recoverables(self, recoverables):
        """Register several recoverables (:class:`RNGState` ones optional).

        Arguments
        ---------
        recoverables : mapping
            Name -> object.

        Example
        -------
        >>> ckpter = SafeCheckpointer(getfixture("tmpdir"))
        >>> ckpter.add_recoverables({"lin": torch.nn.Linear(1, 1)})
        >>> ckpter.optional_recoverables
        {'lin': False}
        """
        super().add_recoverables(recoverables)
        for name, obj in recoverables.items():
            if isinstance(obj, RNGState):
                self.optional_recoverables[name] = True
            else:
                self.optional_recoverables.setdefault(name, False)

    # Saving ----------------------------------------------------------------

    def _new_checkpoint_dirpath(self):
        return self._temporary(super()._new_checkpoint_dirpath())

    def _custom_checkpoint_dirpath(self, name):
        return self._temporary(super()._custom_checkpoint_dirpath(name))

    def _temporary(self, final):
        """The hidden folder a checkpoint for ``final`` is written into."""
        tmp = final.with_name(TMP_PREFIX + final.name)
        if tmp.exists():
            shutil.rmtree(tmp)
        self._pending[tmp] = final
        return tmp

    def _remove_leftovers(self, restore=True):
        """Remove what killed saves and deletions left (main process only).

        Hidden ``.tmp-CKPT+*`` (a save) and ``.deleting-CKPT+*`` (a
        deletion) folders are removed, an ``.old-CKPT+*`` one is renamed
        back if the new checkpoint it was replaced by is missing (only if
        ``restore``: the other processes may be listing the checkpoints),
        and an empty ``CKPT+*`` folder (which holds nothing, and which
        :meth:`list_checkpoints` ignores) is removed.
        """
        if not self.checkpoints_dir.is_dir():
            return
        for path in sorted(self.checkpoints_dir.iterdir()):
            name = path.name
            if name.startswith(OLD_PREFIX + CKPT_PREFIX):
                # Killed while replacing a named checkpoint: the old one is
                # whole, and the only one left if the new one is missing.
                final = path.with_name(name[len(OLD_PREFIX) :])
                if not final.exists():
                    if not restore:
                        continue
                    os.replace(path, final)
                    logger.warning(f"Restored the checkpoint {final}")
                    continue
                what = "an interrupted save"
            elif name.startswith(TMP_PREFIX + CKPT_PREFIX):
                if path in self._pending:
                    continue
                what = "an interrupted save"
            elif name.startswith(DELETING_PREFIX + CKPT_PREFIX):
                what = "an interrupted deletion"
            elif name.startswith(CKPT_PREFIX) and _is_empty_dir(path):
                what = "an interrupted save or deletion (it is empty)"
            else:
                continue
            logger.info(f"Removing {path}, left by {what}")
            shutil.rmtree(path, ignore_errors=True)

    def _commit(self, tmp, final):
        """Flush the checkpoint in ``tmp`` and rename it to ``final``."""
        for path in tmp.iterdir():
            _fsync(path)
        _fsync(tmp, directory=True)
        if final.exists():  # a named checkpoint saved again
            old = final.with_name(OLD_PREFIX + final.name)
            if old.exists():
                shutil.rmtree(old)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old)
        else:
            os.replace(tmp, final)
        _fsync(self.checkpoints_dir, directory=True)

    def save_checkpoint(
        self, meta=None, end_of_epoch=True, name=None, verbosity=logging.INFO
    ):
        """Save a checkpoint atomically (see the class).

        Arguments
        ---------
        meta : mapping, optional
            Added to the ``CKPT.yaml`` meta (with ``unixtime``).
        end_of_epoch : bool
            Whether the checkpoint is at the end of an epoch.
        name : str, optional
            Folder name after ``CKPT+`` (default: the time).
        verbosity : int
            Logging level of the "saved" message.

        Returns
        -------
        Checkpoint or None
            The checkpoint, in its final folder (None on other processes
            than the main one).

        Example
        -------
        >>> tmp = getfixture("tmpdir")
        >>> ckpter = SafeCheckpointer(tmp, {"lin": torch.nn.Linear(1, 1)})
        >>> ckpt = ckpter.save_checkpoint(name="best")
        >>> ckpt.path.name, sorted(p.name for p in ckpt.path.iterdir())
        ('CKPT+best', ['CKPT.yaml', 'lin.ckpt'])
        >>> ckpter.save_checkpoint(name="best").path == ckpt.path
        True
        """
        if if_main_process():
            self._remove_leftovers()
        try:
            ckpt = super().save_checkpoint(
                meta=meta or {},
                end_of_epoch=end_of_epoch,
                name=name,
                verbosity=logging.DEBUG,
            )
        except BaseException:
            for tmp in self._pending:
                shutil.rmtree(tmp, ignore_errors=True)
            self._pending.clear()
            raise
        ddp_barrier()  # every process has written its files
        if ckpt is not None:
            final = self._pending.pop(ckpt.path)
            self._commit(ckpt.path, final)
            self._damaged.pop(str(final), None)
        # Every process sees the committed folder before going on (e.g. to
        # delete_checkpoints, which must find the same checkpoints on all).
        ddp_barrier()
        if ckpt is None:
            self._pending.clear()
            return None
        kind = "end-of-epoch" if end_of_epoch else "intra-epoch"
        logger.log(verbosity, f"Saved an {kind} checkpoint in {final}")
        paramfiles = {
            key: final / Path(path).name
            for key, path in ckpt.paramfiles.items()
        }
        return Checkpoint(final, ckpt.meta, paramfiles)

    # Deleting ----------------------------------------------------------------

    def delete_checkpoints(
        self,
        *,
        num_to_keep=1,
        min_keys=None,
        max_keys=None,
        importance_keys=None,
        ckpt_predicate=None,
        verbosity=logging.INFO,
    ):
        """Delete the least important checkpoints, each one atomically.

        As ``Checkpointer.delete_checkpoints`` (same arguments and choice of
        the checkpoints kept), but each folder is deleted by
        :meth:`_delete_checkpoint`, so a kill during a deletion never
        leaves a half-removed ``CKPT+*`` folder. Damaged checkpoints are
        not considered (never deleted).

        Arguments
        ---------
        num_to_keep : int
            Checkpoints kept per importance order (0 deletes them all).
        min_keys : list of str, optional
            Meta keys whose lowest values are kept.
        max_keys : list of str, optional
            Meta keys whose highest values are kept.
        importance_keys : list of callable, optional
            Sort keys, higher is kept (default: the most recent).
        ckpt_predicate : callable, optional
            Only checkpoints for which it is true may be deleted.
        verbosity : int
            Logging level of the "deleted" messages.

        Example
        -------
        >>> tmp = getfixture("tmpdir")
        >>> ckpter = SafeCheckpointer(tmp, {"lin": torch.nn.Linear(1, 1)})
        >>> old = ckpter.save_checkpoint()
        >>> new = ckpter.save_checkpoint()
        >>> ckpter.delete_checkpoints(num_to_keep=1)
        >>> [p.name for p in Path(tmp).iterdir()] == [new.path.name]
        True
        """
        if num_to_keep < 0:
            raise ValueError("Number of checkpoints to keep must be positive.")
        if importance_keys is None:
            importance_keys = [ckpt_recency]
        keys = [{"min_key": key} for key in min_keys or []]
        keys.extend({"max_key": key} for key in max_keys or [])
        keys.extend({"importance_key": key} for key in importance_keys)
        candidates = set()
        protected = set()
        for key_kwargs in keys:
            key_kwargs["ckpt_predicate"] = ckpt_predicate
            candidates.update(self.find_checkpoints(**key_kwargs))
            protected.update(
                self.find_checkpoints(
                    max_num_checkpoints=num_to_keep, **key_kwargs
                )
            )
        # As SpeechBrain: no process saves while the main one deletes.
        ddp_barrier()
        for ckpt in sorted(candidates - protected, key=lambda c: c.path):
            self._delete_checkpoint(ckpt, verbosity=verbosity)
        ddp_barrier()

    def _delete_checkpoint(self, checkpoint, verbosity=logging.INFO):
        """Rename ``checkpoint``'s folder to ``.deleting-*``, then remove it.

        The rename is atomic: a kill during the removal leaves a hidden
        folder that no listing takes for a checkpoint, removed at the next
        start (:meth:`recover_if_possible`) or save. Main process only.
        """
        if not if_main_process():
            return
        path = Path(checkpoint.path)
        if not self._is_checkpoint_dir(path):
            raise RuntimeError(f"{path} does not look like a checkpoint folder")
        doomed = path.with_name(DELETING_PREFIX + path.name)
        if doomed.exists():  # left by an earlier deletion of this name
            shutil.rmtree(doomed)
        os.replace(path, doomed)
        _fsync(self.checkpoints_dir, directory=True)
        shutil.rmtree(doomed)
        logger.log(verbosity, f"Deleted checkpoint in {path}")

    # Picking -----------------------------------------------------------------

    def _skip(self, folder, problem):
        """Note that ``folder`` is skipped as damaged; warn once per folder."""
        self._skipped[str(folder)] = problem
        if str(folder) in self._warned:
            return
        self._warned.add(str(folder))
        message = (
            f"Skipping the damaged checkpoint {folder}: {problem}. An older "
            "valid checkpoint is used instead, if any; delete the folder "
            "to silence this warning"
        )
        logger.warning(message)
        warnings.warn(message, UserWarning, stacklevel=3)

    def list_checkpoints(self):
        """All checkpoints whose ``CKPT.yaml`` is readable.

        Returns
        -------
        list of Checkpoint
            A ``CKPT+*`` folder without ``CKPT.yaml`` or with an unreadable,
            empty or truncated one is left out with a warning naming it (an
            empty folder without a warning).

        Example
        -------
        >>> tmp = getfixture("tmpdir")
        >>> ckpter = SafeCheckpointer(tmp, {"lin": torch.nn.Linear(1, 1)})
        >>> ckpt = ckpter.save_checkpoint()
        >>> _ = open(ckpt.path / "CKPT.yaml", "w").close()
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     ckpter.list_checkpoints()
        []
        >>> "CKPT.yaml is empty" in str(caught[0].message)
        True
        """
        ckpts = []
        for folder in sorted(self.checkpoints_dir.glob(CKPT_PREFIX + "+*")):
            if _is_empty_dir(folder):
                continue  # holds nothing: removed at the next start or save
            if folder.is_dir() and not (folder / METAFNAME).exists():
                self._skip(folder, f"no {METAFNAME}")
        for folder in sorted(self._list_checkpoint_dirs()):
            try:
                meta = _read_meta(folder)
                paramfiles = {
                    path.stem: path
                    for path in folder.iterdir()
                    if path.suffix == PARAMFILE_EXT
                }
            except (ModelFileError, OSError) as err:
                self._skip(folder, str(err).replace(f"{folder}{os.sep}", ""))
                continue
            ckpts.append(Checkpoint(folder, meta, paramfiles))
        return ckpts

    def checkpoint_problem(self, checkpoint):
        """Why ``checkpoint`` cannot be loaded, or None if it looks whole.

        Arguments
        ---------
        checkpoint : Checkpoint
            As listed by :meth:`list_checkpoints`.

        Returns
        -------
        str or None
            The problem: a file of a (non-optional) recoverable or of a
            ``required`` name is missing, or a file is empty or truncated,
            or loading it failed in :meth:`recover_if_possible`.

        Example
        -------
        >>> tmp = getfixture("tmpdir")
        >>> ckpter = SafeCheckpointer(tmp, {"lin": torch.nn.Linear(1, 1)})
        >>> ckpt = ckpter.save_checkpoint()
        >>> ckpter.checkpoint_problem(ckpt) is None
        True
        >>> SafeCheckpointer(tmp, required=["opt"]).checkpoint_problem(ckpt)
        'no opt.ckpt'
        """
        folder = str(checkpoint.path)
        if folder in self._damaged:
            return self._damaged[folder]
        needed = [
            name
            for name in self.recoverables
            if not (
                self.allow_partial_load
                or "dataloader" in name
                or self.optional_recoverables.get(name, False)
            )
        ]
        missing = sorted(
            set(needed + self.required) - set(checkpoint.paramfiles)
        )
        if missing:
            return ", ".join(f"no {name}{PARAMFILE_EXT}" for name in missing)
        for _, path in sorted(checkpoint.paramfiles.items()):
            try:
                stat = os.stat(path)
                key = (str(path), stat.st_size, stat.st_mtime_ns)
            except OSError as err:
                return f"{Path(path).name} is unreadable ({err})"
            if key not in self._file_problems:
                self._file_problems[key] = _file_problem(path)
            if self._file_problems[key] is not None:
                return self._file_problems[key]
        return None

    def find_checkpoints(
        self,
        importance_key=None,
        max_key=None,
        min_key=None,
        ckpt_predicate=None,
        max_num_checkpoints=None,
    ):
        """Rank the valid checkpoints (damaged ones skipped with a warning).

        Arguments
        ---------
        importance_key : callable, optional
            Higher is better (default: the most recent first).
        max_key : str, optional
            Rank by the highest value of this meta key.
        min_key : str, optional
            Rank by the lowest value of this meta key.
        ckpt_predicate : callable, optional
            Keep only the checkpoints for which it is true.
        max_num_checkpoints : int, optional
            Return at most this many.

        Returns
        -------
        list of Checkpoint
            Best first; only checkpoints for which
            :meth:`checkpoint_problem` finds nothing.

        Example
        -------
        >>> tmp = getfixture("tmpdir")
        >>> ckpter = SafeCheckpointer(tmp, {"lin": torch.nn.Linear(1, 1)})
        >>> old = ckpter.save_checkpoint(meta={"loss": 2.0})
        >>> new = ckpter.save_checkpoint(meta={"loss": 1.0})
        >>> (new.path / "lin.ckpt").unlink()
        >>> [c.meta["loss"] for c in ckpter.find_checkpoints(min_key="loss")]
        [2.0]
        """

        def usable(ckpt):
            if ckpt_predicate is not None and not ckpt_predicate(ckpt):
                return False
            problem = self.checkpoint_problem(ckpt)
            if problem is not None:
                self._skip(ckpt.path, problem)
            return problem is None

        return super().find_checkpoints(
            importance_key=importance_key,
            max_key=max_key,
            min_key=min_key,
            ckpt_predicate=usable,
            max_num_checkpoints=max_num_checkpoints,
        )

    def recover_if_possible(
        self,
        importance_key=None,
        max_key=None,
        min_key=None,
        ckpt_predicate=None,
    ):
        """Load the best valid checkpoint; stop if every one is damaged.

        First removes what interrupted saves and deletions left (see
        :meth:`_remove_leftovers`). Damaged checkpoints, and those whose
        files fail to load (truncated or corrupt), are skipped with a
        warning naming them; the next best valid one is loaded.

        Arguments
        ---------
        importance_key : callable, optional
            Higher is better (default: the most recent).
        max_key : str, optional
            Pick the highest value of this meta key.
        min_key : str, optional
            Pick the lowest value of this meta key.
        ckpt_predicate : callable, optional
            Consider only the checkpoints for which it is true.

        Returns
        -------
        Checkpoint or None
            The loaded checkpoint; None if ``checkpoints_dir`` holds no
            checkpoint folder (a fresh run), or none that is wanted
            (``max_key`` / ``min_key`` / ``ckpt_predicate``) and no damaged
            one.

        Raises
        ------
        ModelFileError
            If checkpoint folders exist but every one that could be the
            wanted one is damaged: training does not silently start again
            from scratch. The message names the folders and how to start
            afresh.

        Example
        -------
        >>> tmp = getfixture("tmpdir")
        >>> lin = torch.nn.Linear(1, 1)
        >>> ckpter = SafeCheckpointer(tmp, {"lin": lin})
        >>> ckpter.recover_if_possible() is None
        True
        >>> ckpt = ckpter.save_checkpoint()
        >>> ckpter.recover_if_possible() == ckpt
        True
        >>> (ckpt.path / "lin.ckpt").unlink()
        >>> ckpter.recover_if_possible()
        Traceback (most recent call last):
        ...
        speechbrain_masksr.errors.ModelFileError: no checkpoint could be loaded from ...: every candidate checkpoint folder is damaged: ...CKPT+...: no lin.ckpt. ...
        """
        if if_main_process():
            # No barrier (this may run on the main process only): what is
            # removed here is hidden or ignored by list_checkpoints anyway.
            self._remove_leftovers(restore=False)
        self._skipped = {}
        while True:
            ckpt = self.find_checkpoint(
                importance_key, max_key, min_key, ckpt_predicate
            )
            if ckpt is None:
                break
            try:
                self.load_checkpoint(ckpt)
                return ckpt
            except Exception as err:
                if not _is_read_error(err):
                    raise
                problem = f"cannot be read ({type(err).__name__}: {err})"
                self._damaged[str(ckpt.path)] = problem
                self._skip(ckpt.path, problem)
        if self._skipped:
            raise self._all_damaged_error(self._skipped)
        logger.info("Would load a checkpoint here, but none found yet.")
        return None

    def _all_damaged_error(self, damaged):
        """The error of :meth:`recover_if_possible` when all are damaged."""
        folder = self.checkpoints_dir
        listed = "; ".join(
            f"{path}: {problem}" for path, problem in sorted(damaged.items())
        )
        return ModelFileError(
            f"no checkpoint could be loaded from {folder}: every candidate "
            f"checkpoint folder is damaged: {listed}. Nothing was loaded, and training "
            "does not start again from scratch by itself. To resume, put "
            "back an undamaged copy of one of them; to start afresh, move "
            f"these folders out of {folder} (e.g. into "
            f"{folder.parent / 'damaged_checkpoints'}) or delete them, or "
            "train in a new output folder (the output_folder setting)."
        )


class RNGState:
    """The random number generators of this process, as a recoverable.

    Saves and restores ``torch``'s CPU generator, the CUDA generators (when
    CUDA is in use), ``numpy``'s global generator and Python's ``random``.
    Each DDP process saves its own file: rank 0 the recoverable's file
    (``rng_state.ckpt``), rank ``r`` ``rng_state.rank<r>.ckpt`` next to it.
    Registered with a checkpointer, a run killed and resumed from an
    end-of-epoch checkpoint draws the same numbers as the uninterrupted run.
    Recovery must come after any re-seeding (the Brains of this package
    seed in ``on_fit_start`` before SpeechBrain recovers).

    Example
    -------
    >>> rng = RNGState()
    >>> state = rng.state()
    >>> first = (torch.rand(2), np.random.rand(), random.random())
    >>> rng.set_state(state)
    >>> again = (torch.rand(2), np.random.rand(), random.random())
    >>> torch.equal(first[0], again[0]), first[1:] == again[1:]
    (True, True)
    """

    @staticmethod
    def state():
        """The generators' states, as a ``weights_only``-loadable dict.

        Returns
        -------
        dict
            ``torch``, ``cuda`` (list), ``numpy_*`` and ``python_*`` items.

        Example
        -------
        >>> sorted(RNGState.state())[:3]
        ['cuda', 'numpy_gauss', 'numpy_has_gauss']
        """
        cuda = []
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            cuda = torch.cuda.get_rng_state_all()
        _, keys, pos, has_gauss, gauss = np.random.get_state()
        version, internal, gauss_next = random.getstate()
        return {
            "torch": torch.get_rng_state(),
            "cuda": cuda,
            "numpy_keys": torch.from_numpy(keys.astype(np.int64)),
            "numpy_pos": int(pos),
            "numpy_has_gauss": int(has_gauss),
            "numpy_gauss": float(gauss),
            "python_version": int(version),
            "python_internal": torch.tensor(internal, dtype=torch.int64),
            "python_gauss": gauss_next,
        }

    @staticmethod
    def set_state(state):
        """Restore the generators from :meth:`state`.

        Arguments
        ---------
        state : dict
            What :meth:`state` returned. CUDA states are restored for the
            devices both runs have.

        Example
        -------
        >>> state = RNGState.state()
        >>> a = torch.randn(1)
        >>> RNGState.set_state(state)
        >>> torch.equal(a, torch.randn(1))
        True
        """
        torch.set_rng_state(state["torch"])
        if state["cuda"] and torch.cuda.is_available():
            count = min(len(state["cuda"]), torch.cuda.device_count())
            for device in range(count):
                torch.cuda.set_rng_state(state["cuda"][device], device)
        np.random.set_state(
            (
                "MT19937",
                state["numpy_keys"].numpy().astype(np.uint32),
                state["numpy_pos"],
                state["numpy_has_gauss"],
                state["numpy_gauss"],
            )
        )
        random.setstate(
            (
                state["python_version"],
                tuple(int(x) for x in state["python_internal"].tolist()),
                state["python_gauss"],
            )
        )

    @staticmethod
    def _rank_path(path):
        """This process's file: ``path`` on rank 0, ``.rank<r>`` else."""
        path = Path(path)
        rank = get_rank() or 0
        if rank == 0:
            return path
        return path.with_name(f"{path.stem}.rank{rank}{path.suffix}")

    @mark_as_saver
    def _save(self, path):
        torch.save(self.state(), self._rank_path(path))

    @mark_as_loader
    def _recover(self, path, end_of_epoch):
        del end_of_epoch  # the generators are restored either way
        path = self._rank_path(path)
        if not path.is_file():
            logger.warning(
                f"{path} not found (this process was not in the saved run): "
                "its random generators keep their seeds"
            )
            return
        self.set_state(torch.load(path, map_location="cpu", weights_only=True))


# Every process saves its own generators (not only the main one).
register_checkpoint_hooks(RNGState, save_on_main_only=False)
