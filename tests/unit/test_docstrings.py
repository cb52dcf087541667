"""Every public class and function of the library documents a runnable example.

SpeechBrain's consistency rule (``tests/utils/check_docstrings.py``): each
module has a docstring, and each public function, class and public method has
a docstring. Public functions and classes must also carry an ``Example``
section (run by ``pytest --doctest-modules speechbrain_masksr``).
"""

import importlib
import inspect
import pkgutil

import pytest

import speechbrain_masksr


def _modules():
    for info in pkgutil.walk_packages(
        speechbrain_masksr.__path__, prefix="speechbrain_masksr."
    ):
        yield info.name


def _public_members(module):
    for name, obj in vars(module).items():
        if name.startswith("_"):
            continue
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if getattr(obj, "__module__", None) != module.__name__:
            continue  # re-exported from elsewhere
        yield name, obj


@pytest.mark.parametrize("modname", sorted(_modules()))
def test_module_docstrings_and_examples(modname):
    module = importlib.import_module(modname)
    problems = []
    if not (module.__doc__ or "").strip():
        problems.append(f"{modname}: no module docstring")
    for name, obj in _public_members(module):
        doc = inspect.getdoc(obj) or ""
        if not doc.strip():
            problems.append(f"{modname}.{name}: no docstring")
        elif "Example" not in doc and "main" != name:
            problems.append(f"{modname}.{name}: no Example section")
        if inspect.isclass(obj):
            for meth_name, meth in vars(obj).items():
                if meth_name.startswith("_") or not inspect.isfunction(meth):
                    continue
                if not (inspect.getdoc(meth) or "").strip():
                    problems.append(
                        f"{modname}.{name}.{meth_name}: no docstring"
                    )
    assert not problems, "\n".join(problems)
