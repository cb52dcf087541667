"""The trust check of model folders: which code a ``hyperparams.yaml`` names.

A model folder is executable configuration, not data: loading its
``hyperparams.yaml`` with HyperPyYAML (what ``Pretrained.from_hparams``
does) *calls* what its tags name (``!new:`` builds an object, ``!apply:``
and ``!applyref:`` call a function, ``!name:`` and ``!module:`` import one,
PyYAML's ``!!python/...`` tags do all of that, and a plain ``(a, b)`` value
is read by PyYAML's unsafe loader). ``torch.load(weights_only=True)`` of the
weights does not help against a hostile ``hyperparams.yaml``.

:func:`check_hparams_file` reads the YAML *without constructing anything*
(it only composes the node tree) and accepts it only if every tag is

* a plain YAML tag (strings, numbers, lists, mappings, ...) or one of
  HyperPyYAML's data tags (``!ref``, ``!copy``, ``!tuple``,
  ``!PLACEHOLDER``);
* ``!new:``, ``!name:`` or ``!module:`` of a public name (no ``_`` part)
  of an allowed package, :data:`ALLOWED` (``speechbrain``, ``torch`` and
  the model parts of this package, :data:`PACKAGE_PARTS`), that really
  lives there (a re-exported ``os`` or ``subprocess`` does not count) and
  is not one of the :data:`DENIED` modules or :data:`DENIED_NAMES` (code
  and model loaders such as ``torch.load``, ``torch.hub`` or any
  ``from_hparams``, downloaders, compilers, file writers, shell helpers);
* ``!apply:`` or ``!applyref:`` (a call made while the file loads, with
  arguments from the file) of such a name that is also one of this
  package's model builders, :data:`CALL_ALLOWED`;
* ``!include:`` of a file that passes the same check;

and ``(a, b)`` tuple values (quoted or not: HyperPyYAML may turn a quoted
one into a tuple) hold plain YAML only. After these checks the file's
references, includes and overrides are resolved (as HyperPyYAML does
first) and the result is checked again, so what is finally loaded is what
was checked. Every template of ``inference/templates/`` and every folder
the exporters write passes.

This is an allowlist of *what may be named*, not a sandbox: it stops a
folder from running ``os.system``, ``subprocess``, ``eval`` or a pickle,
not a folder that misuses an allowed constructor (e.g. a huge model, or a
``Pretrainer`` that downloads its weights from elsewhere; weights are
still read with ``torch.load(weights_only=True)``). Load folders from
sources you trust; ``trust_source=True`` skips the check for folders of
your own that use other constructors.

Authors
 * speechbrain-masksr contributors 2026
"""

import importlib
import inspect
import os
import re
from pathlib import Path

from speechbrain_masksr.errors import ModelFileError, UntrustedModelError

__all__ = [
    "ALLOWED",
    "CALL_ALLOWED",
    "DENIED",
    "DENIED_NAMES",
    "PACKAGE_PARTS",
    "check_hparams_file",
    "check_hparams_text",
    "check_model_folder",
]

#: Packages whose public classes and functions a model folder may name
#: with ``!new:``, ``!name:`` and ``!module:``.
ALLOWED = ("speechbrain_masksr", "speechbrain", "torch")

#: The parts of this package a model folder may name: model code and the
#: inference interfaces (not the training, data, metric or command-line
#: code, which reads and writes files).
PACKAGE_PARTS = (
    "speechbrain_masksr.lobes",
    "speechbrain_masksr.vocoders",
    "speechbrain_masksr.codecs",
    "speechbrain_masksr.inference",
    "speechbrain_masksr.sampling",
)

#: What ``!apply:`` and ``!applyref:`` may call while the file loads, with
#: arguments taken from the file: this package's model builders. (Other
#: functions of ``speechbrain`` and ``torch`` write files, e.g.
#: ``speechbrain.dataio.dataio.write_audio``, which is enough to plant
#: code.)
CALL_ALLOWED = ("speechbrain_masksr.lobes", "speechbrain_masksr.vocoders")

#: Modules and names inside :data:`ALLOWED` that a model folder may not
#: name: code and model loaders, downloaders, compilers, file writers,
#: process and shell helpers.
DENIED = (
    "speechbrain_masksr.vocoders.hifigan.speechbrain_vocoder",
    "speechbrain.utils.superpowers",
    "speechbrain.utils.fetching",
    "speechbrain.utils.importutils",
    "speechbrain.utils.data_utils.download_file",
    "speechbrain.utils.train_logger",
    "speechbrain.dataio.dataio",
    "speechbrain.integrations",
    "torch.hub",
    "torch.jit",
    "torch.package",
    "torch.ops",
    "torch.classes",
    "torch.library",
    "torch.serialization",
    "torch.load",
    "torch.save",
    "torch.compile",
    "torch.compiler",
    "torch.export",
    "torch.onnx",
    "torch.fx",
    "torch.profiler",
    "torch.autograd.profiler",
    "torch.cuda.tunable",
    "torch.multiprocessing",
    "torch.distributed",
    "torch.utils.cpp_extension",
    "torch.utils.collect_env",
    "torch.utils.benchmark",
    "torch.utils.model_zoo",
    "torch.utils.tensorboard",
)

#: Names (last part, any case) refused in every package: they load other
#: code or models, run commands, or read or write files.
DENIED_NAMES = re.compile(
    r"^(from_hparams|from_folder|from_pretrained|load|loads|load_library"
    r"|system|popen|exec|eval|compile|import_module|run_shell"
    r"|(save|write|export|download|fetch|dump).*)$|file",
    re.IGNORECASE,
)

_CALL_TAGS = ("!new:", "!name:", "!module:", "!apply:", "!applyref:")
_DATA_TAGS = frozenset({"!ref", "!copy", "!tuple", "!PLACEHOLDER"})
_YAML = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(
    _YAML + t
    for t in (
        "str",
        "int",
        "float",
        "bool",
        "null",
        "map",
        "seq",
        "timestamp",
        "merge",
        "binary",
        "omap",
        "pairs",
        "set",
        "value",
    )
)
_TUPLE = re.compile(r"^\(.*\)$", re.DOTALL)


def _denied(name):
    """Whether a dotted name is (inside) a :data:`DENIED` entry."""
    return _inside(name, DENIED)


def _home(obj):
    """The dotted module an object lives in (None when unknown)."""
    if inspect.ismodule(obj):
        return obj.__name__
    return getattr(obj, "__module__", None)


def _inside(name, prefixes):
    """Whether a dotted name is one of ``prefixes`` or inside one."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _allowed_home(home):
    """Whether a dotted name is inside :data:`ALLOWED` and not denied."""
    top = home.split(".")[0]
    if top == "speechbrain_masksr" and home != top:
        if not _inside(home, PACKAGE_PARTS):
            return False
    return top in ALLOWED and not _denied(home)


def _locate(parts):
    """Import ``parts`` like ``pydoc.locate`` (None if not found)."""
    module, n = None, len(parts)
    while n > 0:
        try:
            module = importlib.import_module(".".join(parts[:n]))
            break
        except ImportError:
            n -= 1
    if module is None:
        return None
    obj = module
    for part in parts[n:]:
        try:
            obj = getattr(obj, part)
        except AttributeError:
            return None
    return obj


def _full_name(obj):
    """``module.qualname`` of a class or function (the module's name for a
    module; None when unknown)."""
    home = _home(obj)
    if home is None or inspect.ismodule(obj):
        return home
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(qualname, str):  # an instance: its class
        qualname = type(obj).__qualname__
    return f"{home}.{qualname}"


def _name_problem(name, call=False):
    """Why ``name`` may not be named (None if it may); ``call``: by a tag
    that calls it while the file loads (``!apply:``, ``!applyref:``)."""
    parts = name.split(".")
    if not name or any(not p.isidentifier() for p in parts):
        return "is not a dotted Python name"
    if parts[0] not in ALLOWED:
        return f"is outside the allowed packages ({', '.join(ALLOWED)})"
    if any(p.startswith("_") for p in parts):
        return "is a private name"
    if DENIED_NAMES.search(parts[-1]) or _denied(name):
        return "can load or run other code, or read or write files"
    if not _allowed_home(name) and len(parts) > 1:
        return f"is outside the allowed parts of {parts[0]}"
    if call and not _inside(name, CALL_ALLOWED):
        return (
            "is called while the file loads, which only the model builders "
            f"of {', '.join(CALL_ALLOWED)} may be"
        )
    # Every step must be a module or class that lives in an allowed
    # package: ``torch.os.system`` is ``os.system``.
    for n in range(1, len(parts) + 1):
        obj = _locate(parts[:n])
        if obj is None:
            return "cannot be imported"
        if n < len(parts) and not inspect.isclass(obj):
            if not inspect.ismodule(obj):
                return f"goes through {'.'.join(parts[:n])}, not a module"
        full = _full_name(obj)
        if full is None:
            continue
        if not _allowed_home(_home(obj)) or _denied(full):
            return f"resolves to {full}, which may not be named"
        if DENIED_NAMES.search(full.rsplit(".", 1)[-1]):
            return f"resolves to {full}, which may not be named"
        if call and n == len(parts) and not _inside(full, CALL_ALLOWED):
            return f"resolves to {full}, which may not be called here"
    return None


def _tag_problem(tag):
    """Why a (resolved) YAML tag is not allowed (None if it is)."""
    if tag is None or tag in _PLAIN_TAGS or tag in _DATA_TAGS:
        return None
    for prefix in _CALL_TAGS:
        if tag.startswith(prefix):
            call = prefix in ("!apply:", "!applyref:")
            return _name_problem(tag[len(prefix) :], call)
    if tag.startswith(_YAML + "python/"):
        return "is PyYAML's Python object tag"
    return "is not a tag a model folder may use"


def _tuple_problem(text):
    """The first disallowed tag inside a ``(a, b)`` value (PyYAML)."""
    import yaml

    try:
        root = yaml.compose("[" + text[1:-1] + "]", Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None  # not parsed: nothing is constructed either
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.tag not in _PLAIN_TAGS:
            return node.tag
        if isinstance(node.value, list):
            for item in node.value:
                stack.extend(item if isinstance(item, tuple) else [item])
    return None


def _nodes(root):
    """Every node of a composed ruamel tree, once (aliases included)."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node.value, list):
            for item in reversed(node.value):
                stack.extend(
                    reversed(item) if isinstance(item, tuple) else [item]
                )


def _compose(text, where):
    """Compose (parse without constructing) a YAML text."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML().compose(text)
    except YAMLError as err:
        raise ModelFileError(f"{where}: not valid YAML ({err})") from err


def check_hparams_text(text, where="hyperparams.yaml", folder=None, _seen=()):
    """Check the tags of a HyperPyYAML text against the allowlist.

    Nothing is constructed or called: the text is only composed into YAML
    nodes, whose tags are checked as described in the module docstring.

    Arguments
    ---------
    text : str
        The YAML text.
    where : str
        How to name the text in errors (its file).
    folder : str or Path, optional
        Where ``!include:`` files are looked for (default: not followed;
        they are then refused).

    Raises
    ------
    UntrustedModelError
        (a :class:`ModelFileError`) A tag names code outside the
        allowlist; the message names ``where``, the line and the tag.
    ModelFileError
        The text is not valid YAML.

    Example
    -------
    >>> check_hparams_text("model: !new:torch.nn.Linear [2, 2]")
    >>> check_hparams_text("x: 1\\nrun: !apply:os.system [echo hi]", "h.yaml")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.UntrustedModelError: h.yaml, line 2: tag '!apply:os.system' ...
    """
    root = _compose(text, where)
    for node in _nodes(root):
        tag = getattr(node.tag, "value", node.tag)
        line = node.start_mark.line + 1
        what = f"tag '{tag}'"
        if tag is not None and tag.startswith("!include:"):
            problem = _include_problem(tag[len("!include:") :], folder, _seen)
        else:
            problem = _tag_problem(tag)
        if problem is None and isinstance(node.value, str):
            # Quoted strings too: HyperPyYAML re-dumps the file after
            # resolving references, which may leave them plain (tuples).
            string = tag in ("!tuple", _YAML + "str")
            if string and _TUPLE.match(node.value):
                inner = _tuple_problem(node.value)
                if inner is not None:
                    what = f"value '{node.value}'"
                    problem = (
                        "is a tuple read by PyYAML's unsafe loader and holds "
                        f"tag '{inner}'"
                    )
        if problem is not None:
            raise UntrustedModelError(
                f"{where}, line {line}: {what} {problem}. A model "
                "folder's hyperparams.yaml runs what it names when it is "
                "loaded; see speechbrain_masksr.inference.trust for what a "
                "folder from an untrusted source may name"
            )


def _include_problem(name, folder, seen):
    """Check an ``!include:`` file (None if it passes)."""
    if folder is None:
        return "is an include that cannot be followed here"
    path = Path(os.path.realpath(Path(folder) / name))
    if not path.is_file():
        return None  # HyperPyYAML fails to open it before calling anything
    if str(path) in seen:
        return "includes itself"
    check_hparams_text(
        path.read_text(encoding="utf-8"),
        str(path),
        path.parent,
        (*seen, str(path)),
    )
    return None


def check_hparams_file(path, overrides=None, overrides_must_match=True):
    """Check a ``hyperparams.yaml`` against the allowlist before loading.

    The file is checked as written (``!include:`` files too); then its
    references, includes and ``overrides`` are resolved as HyperPyYAML
    does before it constructs anything, and the result is checked again.

    Arguments
    ---------
    path : str or Path
        The (local) ``hyperparams.yaml``.
    overrides : dict or str, optional
        The ``overrides`` that will be given to the loader.
    overrides_must_match : bool
        As for the loader.

    Raises
    ------
    UntrustedModelError
        A tag names code outside the allowlist.
    ModelFileError
        The file cannot be read or is not valid YAML.

    Example
    -------
    >>> from speechbrain_masksr.inference.model_folder import TEMPLATES
    >>> check_hparams_file(TEMPLATES / "masksr.yaml")
    >>> tmp = getfixture("tmpdir")
    >>> bad = tmp / "hyperparams.yaml"
    >>> _ = bad.write("p: !new:subprocess.Popen [[touch, x]]\\n")
    >>> check_hparams_file(str(bad))
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.UntrustedModelError: ...hyperparams.yaml, line 1: tag '!new:subprocess.Popen' ...
    """
    from hyperpyyaml import resolve_references

    real = os.path.realpath(path)
    try:
        with open(real, encoding="utf-8") as fin:
            text = fin.read()
    except (OSError, UnicodeDecodeError) as err:
        raise ModelFileError(f"cannot read {path}: {err}") from err
    check_hparams_text(text, str(path), Path(real).parent)
    with open(real, encoding="utf-8") as fin:
        resolved = resolve_references(fin, overrides, overrides_must_match)
    check_hparams_text(
        resolved.getvalue(),
        f"{path} (with references, includes and overrides resolved)",
    )


def check_model_folder(
    source,
    hparams_file="hyperparams.yaml",
    savedir=None,
    overrides=None,
    overrides_must_match=True,
    **fetch_kwargs,
):
    """Fetch a model folder's ``hyperparams.yaml`` and check it.

    The file is fetched as ``Pretrained.from_hparams`` fetches it (a local
    folder is linked, a hub repo downloaded into ``savedir`` or the cache)
    and checked with :func:`check_hparams_file`; nothing in it runs.

    Arguments
    ---------
    source : str or Path
        Model folder or hub repo.
    hparams_file : str
        The hyperparameters file of the folder.
    savedir : str or Path, optional
        As for ``from_hparams``.
    overrides : dict or str, optional
        As for ``from_hparams``.
    overrides_must_match : bool
        As for ``from_hparams``.
    **fetch_kwargs : dict
        ``local_strategy``, ``fetch_config`` (as for ``from_hparams``).

    Returns
    -------
    Path
        The local ``hyperparams.yaml`` that was checked.

    Raises
    ------
    UntrustedModelError
        A tag names code outside the allowlist.
    ModelFileError
        The file cannot be fetched or read.

    Example
    -------
    >>> from speechbrain_masksr.inference.model_folder import (
    ...     TEMPLATES, write_folder)
    >>> tmp = getfixture("tmpdir")
    >>> folder = write_folder(tmp / "m", TEMPLATES / "mae_enhancer_stft.yaml")
    >>> check_model_folder(str(folder)).name
    'hyperparams.yaml'
    """
    from speechbrain.utils.fetching import fetch

    try:
        path = fetch(
            filename=hparams_file,
            source=source,
            savedir=savedir,
            save_filename=None,
            **fetch_kwargs,
        )
    except Exception as err:  # hub, network and value errors alike
        raise ModelFileError(
            f"cannot fetch '{hparams_file}' from '{source}' "
            f"({type(err).__name__}: {err})"
        ) from err
    check_hparams_file(path, overrides or None, overrides_must_match)
    return Path(path)
