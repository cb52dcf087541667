"""Model folders: a checked-in ``hyperparams.yaml`` template plus weights.

Every interface of the package (:class:`~.restoration.SpeechRestoration`,
:class:`~.enhancement.MAEEnhancement`, the Audio-MAE interfaces) loads a
*model folder* with the plain ``Pretrained.from_hparams``: the folder's
``hyperparams.yaml`` is one of the templates of
``speechbrain_masksr/inference/templates/`` with the trained model's
values, and its ``pretrainer`` fetches the weight files next to it.

:func:`write_folder` writes such a folder for every exporter: the template
is read with ruamel's round-trip loader (comments and tags are kept), only
top-level plain scalars are replaced, and every file is written under a
temporary name and renamed into place, ``hyperparams.yaml`` last, so an
interrupted export never leaves a folder that looks complete. An existing
model is never replaced silently.

:class:`ModelFolderPretrainer` is SpeechBrain's ``Pretrainer`` with one
addition: a ``paths:`` entry that is a bare file name (``codec.pth``) names
a file of the model folder itself (``from_hparams``'s ``source``), so a
template can list every file it needs without knowing where the folder
lives; a missing file is reported by name before anything is fetched.

Authors
 * speechbrain-masksr contributors 2026
"""

import os
import shutil
from pathlib import Path

import torch
from speechbrain.utils.parameter_transfer import Pretrainer

from speechbrain_masksr.errors import ConfigError, ModelFileError
from speechbrain_masksr.utils.files import fsync_path, temp_path

__all__ = [
    "HPARAMS_FILE",
    "Link",
    "ModelFolderPretrainer",
    "TEMPLATES",
    "template_values",
    "write_folder",
]

HPARAMS_FILE = "hyperparams.yaml"
TEMPLATES = Path(__file__).parent / "templates"
_SCALARS = (bool, int, float, str)


class Link:
    """A file of a model folder written as a symlink to ``target``.

    Arguments
    ---------
    target : str or Path
        The existing file the link points to (made absolute).

    Example
    -------
    >>> Link("/tmp/w.pth").target.name
    'w.pth'
    """

    def __init__(self, target):
        self.target = Path(target).resolve()


def _load_template(template):
    """Round-trip load of a YAML template (ruamel), with a clear error."""
    from ruamel.yaml import YAML
    from ruamel.yaml.representer import RoundTripRepresenter

    class Representer(RoundTripRepresenter):
        """Booleans as ``True`` / ``False`` (the project's YAML style)."""

    Representer.add_representer(
        bool,
        lambda rep, value: rep.represent_scalar(
            "tag:yaml.org,2002:bool", "True" if value else "False"
        ),
    )
    yaml = YAML()  # round trip: the template's comments and tags stay
    yaml.Representer = Representer
    yaml.indent(mapping=4, sequence=4, offset=2)  # the project's style
    template = Path(template)
    if not template.is_file():
        raise FileNotFoundError(f"{template}: model folder template not found")
    with open(template, encoding="utf-8") as fin:
        return yaml, yaml.load(fin)


def template_values(template):
    """The top-level plain scalars of a template (what can be set).

    Arguments
    ---------
    template : str or Path
        A YAML template (e.g. one of :data:`TEMPLATES`).

    Returns
    -------
    dict
        ``{key: value}`` of the top-level keys holding plain scalars
        (booleans, numbers, strings); tagged and nested keys are left out.

    Example
    -------
    >>> values = template_values(TEMPLATES / "mae_enhancer_stft.yaml")
    >>> values["model_type"], "front_end" in values
    ('mae_enhancer', False)
    """
    _, doc = _load_template(template)
    return {k: v for k, v in doc.items() if isinstance(v, _SCALARS)}


def _write_file(path, content):
    """Write one file of a folder (state dict, module, copy or link)."""
    if isinstance(content, Link):
        if not content.target.is_file():
            raise ModelFileError(f"{content.target}: file to link not found")
        os.symlink(content.target, path)
    elif isinstance(content, torch.nn.Module):
        state = content.state_dict()
        torch.save({k: v.detach().cpu() for k, v in state.items()}, path)
    elif isinstance(content, dict):
        state = {
            k: v.detach().cpu() if torch.is_tensor(v) else v
            for k, v in content.items()
        }
        torch.save(state, path)
    elif isinstance(content, (str, os.PathLike)):
        source = Path(content)
        if not source.is_file():
            raise ModelFileError(f"{source}: file to copy not found")
        shutil.copyfile(source, path)
    else:
        raise TypeError(
            f"{Path(path).name}: expected a state dict, a module, a file "
            f"path or a Link, got {type(content).__name__}"
        )


def write_folder(
    out_dir,
    template,
    values=None,
    files=None,
    overwrite=False,
    skip_unknown=False,
):
    """Write a model folder: a template with new values, plus its files.

    Arguments
    ---------
    out_dir : str or Path
        Output folder (created).
    template : str or Path
        The checked-in ``hyperparams.yaml`` template.
    values : dict, optional
        Top-level template keys to set; each must hold a plain scalar in
        the template (tags are never replaced) and get a boolean, number,
        string or ``None``.
    files : dict, optional
        ``{file name: content}``: a state dict or module (``torch.save``-d,
        on the CPU), a file path (copied) or a :class:`Link`.
    overwrite : bool
        Replace an existing model folder (else ``FileExistsError`` when
        ``hyperparams.yaml`` or one of the files is already there).
    skip_unknown : bool
        With ``True``, keys of ``values`` that the template does not hold
        as plain scalars, or whose value is not a scalar, are skipped
        (e.g. a whole training YAML); with ``False`` they are errors. (This
        is about template values; weights are always saved as given.)

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    FileExistsError
        The folder already holds a model and ``overwrite`` is ``False``.
    ConfigError
        (a ``KeyError``) A key that is not a top-level plain scalar of the
        template.
    TypeError
        A value that is not a boolean, number, string or None.
    ModelFileError
        (a ``FileNotFoundError``) A file to copy or link does not exist.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> out = write_folder(tmp / "m", TEMPLATES / "mae_enhancer_stft.yaml",
    ...                    {"depth": 2}, {"enhancer.ckpt": {"w": torch.ones(1)}})
    >>> sorted(p.name for p in out.iterdir())
    ['enhancer.ckpt', 'hyperparams.yaml']
    >>> template_values(out / "hyperparams.yaml")["depth"]
    2
    >>> write_folder(tmp / "m", TEMPLATES / "mae_enhancer_stft.yaml")
    Traceback (most recent call last):
    ...
    FileExistsError: ... already holds a model (hyperparams.yaml); pass ...
    """
    out_dir = Path(out_dir)
    yaml, doc = _load_template(template)
    for key, value in (values or {}).items():
        if not isinstance(doc.get(key), _SCALARS):
            if not skip_unknown:
                raise ConfigError(
                    f"{key!r} is not a top-level value of the template "
                    f"{Path(template).name}"
                )
            continue
        if value is not None and not isinstance(value, _SCALARS):
            if not skip_unknown:
                raise TypeError(
                    f"{key}: expected a boolean, number, string or None, got "
                    f"{type(value).__name__} ({value!r})"
                )
            continue
        doc[key] = value
    files = dict(files or {})
    names = [*files, HPARAMS_FILE]
    if HPARAMS_FILE in files or len(set(names)) != len(names):
        raise ValueError(f"bad file names {sorted(files)}")
    existing = [
        n for n in names if (out_dir / n).exists() or (out_dir / n).is_symlink()
    ]
    if existing and not overwrite:
        raise FileExistsError(
            f"{out_dir} already holds a model ({', '.join(existing)}); pass "
            "overwrite=True to replace it"
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"{out_dir} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    temps = {n: temp_path(out_dir / n) for n in names}
    try:
        for name, content in files.items():
            _write_file(temps[name], content)
            fsync_path(temps[name])
        with open(temps[HPARAMS_FILE], "w", encoding="utf-8") as fout:
            yaml.dump(doc, fout)
        fsync_path(temps[HPARAMS_FILE])
        for name in names:  # hyperparams.yaml last
            os.replace(temps[name], out_dir / name)
        fsync_path(out_dir, directory=True)
    finally:
        for tmp in temps.values():
            if tmp.is_symlink() or tmp.exists():
                tmp.unlink()
    return out_dir


class ModelFolderPretrainer(Pretrainer):
    """A ``Pretrainer`` whose bare file names are files of the model folder.

    SpeechBrain resolves a ``paths:`` entry without a folder against the
    working directory; here it is a file of ``default_source`` (the
    ``source`` of ``from_hparams``: a local folder or a hub repo), so a
    template lists its files (``codec_path: codec.pth``) and still loads
    from wherever the folder is. Entries with a folder (absolute paths, a
    hub repo, a URL) are used as given. A file missing from a local folder
    is reported by name, and any fetching error names the source.

    Arguments
    ---------
    *args : tuple
        Passed to ``Pretrainer``.
    **kwargs : dict
        Passed to ``Pretrainer``.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> lin = torch.nn.Linear(2, 2)
    >>> torch.save(torch.nn.Linear(2, 2).state_dict(), str(tmp / "lin.pth"))
    >>> pre = ModelFolderPretrainer(loadables={"lin": lin},
    ...                             paths={"lin": "lin.pth"})
    >>> _ = pre.collect_files(default_source=str(tmp))
    >>> pre.load_collected()
    >>> pre = ModelFolderPretrainer(loadables={"lin": lin},
    ...                             paths={"lin": "other.pth"})
    >>> pre.collect_files(default_source=str(tmp))
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.ModelFileError: 'other.pth' not found in model folder ...
    """

    def collect_files(self, default_source=None, **kwargs):
        """Fetch the files (bare names from ``default_source``).

        Arguments
        ---------
        default_source : str or Path, optional
            The model folder or hub repo.
        **kwargs : dict
            ``local_strategy``, ``fetch_config`` (see ``Pretrainer``).

        Returns
        -------
        dict
            Loadable name -> local path.

        Raises
        ------
        ModelFileError
            A file is missing from a local model folder, or cannot be
            fetched (the message names it and the source).
        """
        if default_source is not None:
            default_source = str(default_source)
            for name, path in list(self.paths.items()):
                if isinstance(path, (str, os.PathLike)):
                    path = str(path)
                    if "/" not in path and "\\" not in path:
                        self.paths[name] = f"{default_source}/{path}"
            if Path(default_source).is_dir():
                for name in self.loadables:
                    if not self.is_loadable(name):
                        continue
                    path = self.paths.get(name, f"{default_source}/{name}.ckpt")
                    if not isinstance(path, str) or "://" in path:
                        continue
                    folder, filename = self.split_path(path)
                    if (
                        Path(folder).is_dir()
                        and not (Path(folder) / filename).exists()
                    ):
                        raise _missing_file_error(filename, folder)
        try:
            return super().collect_files(
                default_source=default_source, **kwargs
            )
        except Exception as err:  # hub, network and value errors alike
            if isinstance(err, ModelFileError):
                raise
            wanted = sorted(str(p) for p in self.paths.values())
            raise ModelFileError(
                f"cannot fetch the model files {wanted} from source "
                f"'{default_source}' ({type(err).__name__}: {err})"
            ) from err


def _missing_file_error(filename, folder):
    """The error for a file missing from a local model folder."""
    return ModelFileError(
        f"'{filename}' not found in model folder '{folder}' (a model "
        f"folder holds {HPARAMS_FILE} and the files its pretrainer lists)"
    )
