"""Every top-level key of every ``hparams/*.yaml`` is used by its script.

Follows the rules of SpeechBrain's ``tests/utils/check_yaml.py``: a key is
used when the script that loads the file (or a ``speechbrain_masksr``
module it imports, e.g. its Brain) reads it as ``hparams["k"]``,
``hparams.k``, ``self.hparams.k``, ``modules.k``, ``getattr(self.hparams,
"k"`` or ``hparams.get("k"`` (also through the common alias ``hp =
self.hparams``: ``hp.k``), or when another key of the file ``!ref``-s it
(``<k>``). Modules of the package and sibling recipe modules that the
script imports are scanned too (recursively, two levels). Run-option keys (``max_grad_norm``, ``precision``, ...) and keys
starting with ``__`` (``__set_seed``) are exempt.

The script of a YAML file is found in :data:`SCRIPTS`, or else by scanning
``recipes/`` (and ``tools/``) for Python files that mention the file name
(recipes name their YAML in their usage docstring).

Authors
 * speechbrain-masksr contributors 2026
"""

import ast
import dataclasses
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HPARAMS = sorted((ROOT / "hparams").glob("*.yaml"))

#: Known YAML -> scripts that load it (others are found by scanning).
SCRIPTS = {
    "masksr.yaml": [
        "recipes/DNS/train.py",
        "recipes/DNS/extract_tokens.py",
        "recipes/DNS/make_shards.py",
    ],
    "masksr_m.yaml": [
        "recipes/DNS/train.py",
        "recipes/DNS/extract_tokens.py",
        "recipes/DNS/make_shards.py",
    ],
    "masksr_input_waveform.yaml": [
        "recipes/DNS/train.py",
        "recipes/DNS/extract_tokens.py",
        "recipes/DNS/make_shards.py",
    ],
    "masksr_mel.yaml": [
        "recipes/DNS/train.py",
        "recipes/DNS/extract_tokens.py",
        "recipes/DNS/make_shards.py",
    ],
    "masksr_input_dac.yaml": [
        "recipes/DNS/train.py",
        "recipes/DNS/extract_tokens.py",
        "recipes/DNS/make_shards.py",
    ],
}

_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:")


def top_level_keys(yaml_text):
    """Top-level keys of a YAML file, in order (comments skipped)."""
    keys = []
    for line in yaml_text.splitlines():
        match = _KEY.match(line)
        if match:
            keys.append(match.group(1))
    return keys


def run_option_keys():
    """Names of SpeechBrain run options (exempt from the check)."""
    from speechbrain.utils.run_opts import RunOptions

    return {f.name for f in dataclasses.fields(RunOptions)}


def referenced_keys(yaml_text):
    """Keys referenced as ``<key>``, ``<key[...]>`` or ``<key.attr>``."""
    return set(re.findall(r"<([A-Za-z_][A-Za-z0-9_]*)", yaml_text))


def imported_modules(script, depth=2):
    """Files a script imports from the package or from its own folder.

    ``speechbrain_masksr`` modules (its Brain, data helpers) and sibling
    recipe modules (``from train import ...``) are followed, recursively up
    to ``depth`` levels.
    """
    script = Path(script).resolve()
    seen, frontier = [], [script]
    for _ in range(depth):
        found = []
        for path in frontier:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module:
                    names.add(node.module)
                elif isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
            for name in sorted(names):
                parts = name.split(".")
                if parts[0] == "speechbrain_masksr":
                    base = ROOT / Path(*parts)
                    cands = [base.with_suffix(".py"), base / "__init__.py"]
                elif len(parts) == 1:
                    cands = [script.parent / f"{name}.py"]
                else:
                    continue
                for cand in cands:
                    cand = cand.resolve()
                    if cand.is_file() and cand != script and cand not in seen:
                        seen.append(cand)
                        found.append(cand)
        frontier = found
    return seen


def used_in_code(key, code):
    """Whether ``code`` reads ``key`` in one of the accepted ways."""
    k = re.escape(key)
    patterns = [
        rf"hparams\[\s*[\"']{k}[\"']\s*\]",
        rf"hparams\.{k}\b",
        rf"\bhp\.{k}\b",
        rf"modules\.{k}\b",
        rf"getattr\(\s*(self\.)?hparams\s*,\s*[\"']{k}[\"']",
        rf"hparams\.get\(\s*[\"']{k}[\"']",
    ]
    return any(re.search(p, code) for p in patterns)


def find_scripts(yaml_path):
    """Scripts that load ``yaml_path`` (table, then a scan of recipes)."""
    name = yaml_path.name
    if name in SCRIPTS:
        return [ROOT / s for s in SCRIPTS[name]]
    found = []
    for folder in ("recipes", "tools"):
        for py in sorted((ROOT / folder).rglob("*.py")):
            text = py.read_text(encoding="utf-8", errors="replace")
            if re.search(rf"(^|[/\s\"'`]){re.escape(name)}\b", text):
                found.append(py)
    return found


def unused_keys(yaml_path, scripts):
    """Top-level keys of ``yaml_path`` that no script (or import) uses."""
    text = Path(yaml_path).read_text(encoding="utf-8")
    code = ""
    for script in scripts:
        code += Path(script).read_text(encoding="utf-8") + "\n"
        for module in imported_modules(script):
            code += module.read_text(encoding="utf-8") + "\n"
    exempt = run_option_keys() | referenced_keys(text)
    return [
        key
        for key in top_level_keys(text)
        if not key.startswith("__")
        and key not in exempt
        and not used_in_code(key, code)
    ]


@pytest.mark.parametrize("yaml_path", HPARAMS, ids=[p.name for p in HPARAMS])
def test_every_key_is_used(yaml_path):
    scripts = find_scripts(yaml_path)
    assert scripts, (
        f"no script found for {yaml_path.name}: add it to SCRIPTS in "
        f"{Path(__file__).name} or name it in the recipe's docstring"
    )
    missing = [s for s in scripts if not Path(s).is_file()]
    assert not missing, (
        f"scripts listed for {yaml_path.name} missing: {missing}"
    )
    unused = unused_keys(yaml_path, scripts)
    assert not unused, (
        f"{yaml_path.name}: top-level keys not used by "
        f"{[str(Path(s).relative_to(ROOT)) for s in scripts]}: {unused}"
    )


def test_checker_flags_unused_and_accepts_each_usage(tmp_path):
    yaml_text = (
        "seed: 1\n"
        "__set_seed: !apply:torch.manual_seed [!ref <seed>]\n"
        "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\nf: 6\n"
        "g: !ref <f> * 2\n"
        "max_grad_norm: 5.0\n"
        "h: 1\n"
        "k: 2\n"
        "orphan: 7\n"
        "# commented: 8\n"
        "nested:\n    inner_orphan: 9\n"
    )
    script = (
        'x = hparams["a"] + hparams.b + self.hparams.c\n'
        'y = modules.d(getattr(self.hparams, "e", 0))\n'
        'z = hparams.get("g") + hparams["nested"] + hparams["seed"]\n'
        "from helper import read\n"
    )
    # a sibling recipe module the script imports, with the `hp` alias
    (tmp_path / "helper.py").write_text("def read(hp):\n    return hp.h\n")
    (tmp_path / "h.yaml").write_text(yaml_text)
    (tmp_path / "s.py").write_text(script)
    unused = unused_keys(tmp_path / "h.yaml", [tmp_path / "s.py"])
    assert unused == ["k", "orphan"]
    assert "commented" not in top_level_keys(yaml_text)


def test_masksr_yaml_scanned_through_the_brain():
    """``sampling_steps`` is only read by the Brain, not by train.py."""
    train = ROOT / "recipes/DNS/train.py"
    if not train.is_file():
        pytest.skip("recipes/DNS/train.py not present")
    modules = [p.name for p in imported_modules(train)]
    assert "masksr_brain.py" in modules
    assert "sampling_steps" not in train.read_text()
    # shard_folder / shard_max_* are make_shards.py's
    shards = ROOT / "recipes/DNS/make_shards.py"
    assert not unused_keys(ROOT / "hparams/masksr.yaml", [train, shards])
