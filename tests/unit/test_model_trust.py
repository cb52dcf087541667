"""The trust check of model folders (``speechbrain_masksr.trust``).

A model folder's ``hyperparams.yaml`` is code: every shipped template and
every folder the exporters write passes the exact-name allowlist, a folder
that names ``os.system``, ``subprocess`` and the like is refused *before*
anything in it runs (a marker file that the payload would create is never
created), and ``trust_source=True`` / ``--trust-source`` loads a folder with
a foreign but harmless constructor. The attacks of the security review are
reproduced one by one (a pretrainer hook that loads a second YAML,
``LambdaLR`` + ``read_pkl``, ``Checkpointer`` making a folder, a "billion
laughs" file, a hostile ``--spk-model`` folder), each with a payload that
really runs when it is trusted, and every YAML loader of the package is
found by searching its source, so that a new one cannot skip the check.

Authors
 * speechbrain-masksr contributors 2026
"""

import ast
import collections
import contextlib
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import TINY_MAE_ARCH, write_tiny_model_folder

from speechbrain_masksr.errors import ModelFileError, UntrustedModelError
from speechbrain_masksr.inference.model_folder import HPARAMS_FILE, TEMPLATES
from speechbrain_masksr.trust import (
    MAX_EXPANSION,
    allowed_tags,
    check_hparams_file,
    check_hparams_text,
    check_model_folder,
)

ARCH = TINY_MAE_ARCH
STFT_VALUES = dict(
    sample_rate=16000,
    n_fft=512,
    hop_length=128,
    segment_samples=4096,
    variant="complex_mask",
    **ARCH,
)


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread (the tests share two busy cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def stft_enhancer_folder(folder):
    """A tiny STFT MAE enhancer folder (``write_enhancer_folder``)."""
    from speechbrain_masksr.inference.enhancement import write_enhancer_folder
    from speechbrain_masksr.lobes.mae_enhancer import build_mae_enhancer
    from speechbrain_masksr.lobes.spectral import CompressedSTFT

    torch.manual_seed(0)
    model = build_mae_enhancer(
        CompressedSTFT(512, 128), 4096, "complex_mask", **ARCH
    )
    return write_enhancer_folder(folder, model, STFT_VALUES)


def append(folder, text):
    """Append YAML lines to a folder's hyperparams.yaml; their first line."""
    path = folder / HPARAMS_FILE
    old = path.read_text(encoding="utf-8")
    path.write_text(old.rstrip("\n") + "\n" + text, encoding="utf-8")
    return old.rstrip("\n").count("\n") + 2


# ------------------------------------------------- what our code writes ---


@pytest.mark.parametrize(
    "template", sorted(p.name for p in TEMPLATES.glob("*.yaml"))
)
def test_every_shipped_template_passes(template):
    check_hparams_file(TEMPLATES / template)


def test_folders_written_by_the_exporters_pass(tmp_path):
    from speechbrain_masksr.inference.audio_mae import write_model_folder
    from speechbrain_masksr.inference.enhancement import write_enhancer_folder
    from speechbrain_masksr.lobes.audio_mae import (
        AudioMAE,
        AudioMAEClassifierModel,
        AudioMAEDecoder,
        AudioMAEEncoder,
        AudioMAEFbank,
    )
    from speechbrain_masksr.lobes.mae_enhancer import build_mae_enhancer
    from speechbrain_masksr.lobes.spectral import HifiganMel

    folders = [
        # recipes/DNS/export_model.py (restoration.write_model_folder)
        write_tiny_model_folder(tmp_path / "masksr")[0],
        # the enhancer export (enhance_brain.export_and_report), both kinds
        stft_enhancer_folder(tmp_path / "stft"),
        write_enhancer_folder(
            tmp_path / "mel",
            build_mae_enhancer(
                HifiganMel(), 4096, "multiplicative", mask_bound=2.0, **ARCH
            ),
            dict(
                sample_rate=22050,
                segment_samples=4096,
                variant="multiplicative",
                mask_bound=2.0,
                **ARCH,
            ),
        ),
        # audiomae-convert and the AudioSet recipes (both kinds)
        write_model_folder(
            tmp_path / "clf",
            AudioMAEClassifierModel(
                AudioMAEEncoder(grid=(2, 1), d_model=16, depth=1, num_heads=2),
                n_classes=3,
            ),
            AudioMAEFbank(target_length=32, num_mel_bins=16),
            ["a", "b", "c"],
        ),
        write_model_folder(
            tmp_path / "mae",
            AudioMAE(
                AudioMAEEncoder(grid=(4, 2), d_model=16, depth=1, num_heads=2),
                AudioMAEDecoder((4, 2), 16, 16, depth=1, num_heads=2),
            ),
            AudioMAEFbank(target_length=64, num_mel_bins=32),
        ),
    ]
    for folder in folders:
        assert check_model_folder(str(folder)).name == HPARAMS_FILE


def test_from_folder_loads_a_checked_folder(tmp_path):
    from speechbrain_masksr.inference.enhancement import MAEEnhancement

    folder = stft_enhancer_folder(tmp_path / "stft")
    enhancer = MAEEnhancement.from_folder(source=str(folder))
    assert enhancer.enhance_batch(0.1 * torch.randn(1, 5000)).shape == (
        1,
        5000,
    )


def test_allowed_names_and_data_tags():
    check_hparams_text(
        "a: 3\n"
        "b: !ref <a> * 2\n"
        "c: !copy <a>\n"
        "t: (1, 2.5, 'x')\n"
        "u: !tuple (3, 4)\n"
        "mel: !new:speechbrain_masksr.lobes.spectral.HifiganMel\n"
        "    n_mels: !ref <a>\n"
        "enc: !new:speechbrain.dataio.encoder.CategoricalEncoder\n"
        "gen: !apply:speechbrain_masksr.vocoders.hifigan_v1\n"
        "w: !apply:speechbrain_masksr.vocoders.bundled_weights {name: LJSpeech}\n"
        "codec: !new:speechbrain_masksr.codecs.dac.DACTokenizer\n"
        "    load_pretrained: False\n"
        "pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer\n"
        "    loadables: {codec: !ref <codec>, gen: !ref <gen>}\n"
        "    paths: {codec: codec.pth, gen: !ref <w>}\n"
        "    custom_hooks:\n"
        "        codec: !name:speechbrain_masksr.codecs.dac.load_dac_weights\n"
    )


def test_allowlist_is_exact_names():
    """Listed names only: no package prefixes, no module tags."""
    tags = allowed_tags()
    assert all(t.split(":")[0] in ("!new", "!apply", "!name") for t in tags)
    assert "!new:speechbrain_masksr.lobes.masksr.MaskSR" in tags
    assert not any(t.endswith(("Checkpointer", "LambdaLR")) for t in tags)
    # every allowed name is importable and is what it says it is
    import importlib

    for tag in tags:
        module, name = tag.split(":", 1)[1].rsplit(".", 1)
        obj = getattr(importlib.import_module(module), name)
        assert callable(obj), tag


@pytest.mark.parametrize(
    "tag",
    [
        # loaders, writers and other interfaces' loading
        "!apply:speechbrain.dataio.dataio.write_audio",
        "!apply:speechbrain_masksr.dataio.save_audio",
        "!apply:speechbrain_masksr.vocoders.speechbrain_vocoder",
        "!apply:speechbrain_masksr.inference.restoration.SpeechRestoration"
        ".from_hparams",
        "!apply:torch.from_file",
        "!apply:torch.hub.load",
        "!new:torch.utils.tensorboard.SummaryWriter",
        "!name:speechbrain_masksr.cli.restore.main",
        "!module:speechbrain_masksr.augment.pipeline",
        "!module:torch.nn",
        "!name:torch.nn.Module.__subclasses__",
        # what the security review used
        "!name:speechbrain.inference.interfaces.pretrained_from_hparams",
        "!new:torch.optim.lr_scheduler.LambdaLR",
        "!name:speechbrain.dataio.legacy.read_pkl",
        "!new:speechbrain.utils.checkpoints.Checkpointer",
        # harmless, but not used by any model folder: not on the list
        "!new:torch.nn.Linear",
        "!name:torch.nn.functional.relu",
        # calls at load time outside the model builders
        "!apply:torch.manual_seed",
        "!applyref:torch.manual_seed",
        "!applyref:speechbrain_masksr.vocoders.hifigan_v1",
        # near misses of allowed names
        "!new:speechbrain_masksr.lobes.masksr.os.system",
        "!new:speechbrain_masksr.lobes.masksr.MaskSR.from_hparams",
        "!apply:speechbrain_masksr.lobes.mae_enhancer.build_mae_enhancer.__globals__",
        "!new:collections.OrderedDict",
        "!unknown",
    ],
)
def test_names_refused(tag):
    with pytest.raises(UntrustedModelError, match="line 2: tag"):
        check_hparams_text(f"a: 1\nb: {tag} [0]\n")


@pytest.mark.parametrize(
    "yaml, problem",
    [
        # a weight loader anywhere but a pretrainer's custom_hooks
        (
            "x: !name:speechbrain_masksr.codecs.dac.load_dac_weights",
            "custom_hooks",
        ),
        # a pretrainer that writes where it likes or runs conditions
        (
            "p: !new:speechbrain.utils.parameter_transfer.Pretrainer\n"
            "    collect_in: /tmp/anywhere",
            "may not set 'collect_in'",
        ),
        (
            "p: !new:speechbrain.utils.parameter_transfer.Pretrainer\n"
            "    conditions: {a: True}",
            "may not set 'conditions'",
        ),
        # a hook that is not a weight loader
        (
            "p: !new:speechbrain.utils.parameter_transfer.Pretrainer\n"
            "    custom_hooks: {a: !new:speechbrain_masksr.lobes.spectral."
            "HifiganMel }",
            "not a !name: weight loader",
        ),
        # paths: URLs, other folders, other hub repos, climbing out
        (
            "p: !new:speechbrain.utils.parameter_transfer.Pretrainer\n"
            "    paths: {a: 'https://example.org/w.ckpt'}",
            "is a URL",
        ),
        (
            "p: !new:speechbrain.utils.parameter_transfer.Pretrainer\n"
            "    paths: {a: /etc/passwd}",
            "outside the model folder",
        ),
        (
            "p: !new:speechbrain.utils.parameter_transfer.Pretrainer\n"
            "    paths: {a: other/repo/hyperparams.yaml}",
            "outside the model folder",
        ),
        (
            "p: !new:speechbrain.utils.parameter_transfer.Pretrainer\n"
            "    paths: {a: ../w.ckpt}",
            "not a file of the model folder",
        ),
        (
            "p: !new:speechbrain.utils.parameter_transfer.Pretrainer\n"
            "    paths: {a: !apply:speechbrain_masksr.vocoders.hifigan_v1 }",
            "gives no model file",
        ),
        # the DAC tokenizer may not fetch its own weights
        (
            "c: !new:speechbrain_masksr.codecs.dac.DACTokenizer",
            "must set load_pretrained: False",
        ),
        (
            "c: !new:speechbrain_masksr.codecs.dac.DACTokenizer\n"
            "    load_pretrained: True",
            "must be one of [False]",
        ),
        (
            "c: !new:speechbrain_masksr.codecs.dac.DACTokenizer\n"
            "    load_pretrained: False\n    download: True",
            "may not set 'download'",
        ),
        (
            "w: !apply:speechbrain_masksr.vocoders.bundled_weights\n"
            "    name: ../../../../etc/passwd",
            "must be one of",
        ),
        # references: hidden getattr calls, powers, string repetition
        ("a: 1\nb: !ref <a.__class__>", "names an attribute"),
        ("a: 9\nb: !ref <a> ** 999999999", "raises to a power"),
        ("a: \"'x'\"\nb: !ref <a> * 4000000000", "not a number"),
        ("a: 2\nb: !ref <a> * 'x'", "not a number"),
    ],
)
def test_arguments_and_references_refused(yaml, problem):
    with pytest.raises(UntrustedModelError, match=re.escape(problem)):
        check_hparams_text(yaml + "\n", folder="/models/m")


def test_paths_inside_the_folder_or_given_by_the_caller_pass(tmp_path):
    pre = "p: !new:speechbrain.utils.parameter_transfer.Pretrainer\n"
    check_hparams_text(pre + "    paths: {a: w.ckpt}\n", folder=tmp_path)
    check_hparams_text(
        pre + f"    paths: {{a: {tmp_path}/sub/w.ckpt}}\n", folder=tmp_path
    )
    check_hparams_text(  # the hub repo the folder comes from
        pre + "    paths: {a: me/model/w.ckpt}\n", source="me/model"
    )
    check_hparams_text(  # a file the caller chose with overrides
        pre + "    paths: {a: /data/dac/w.pth}\n",
        folder=tmp_path,
        overrides=["/data/dac/w.pth"],
    )


# ---------------------------------------------- hostile folders refused ---

HOSTILE = {
    "apply_os_system": (
        'x: !apply:os.system ["touch {m}"]',
        "!apply:os.system",
    ),
    "new_popen": ("x: !new:subprocess.Popen [[touch, {m}]]", "subprocess"),
    "applyref": ('x: !applyref:os.system ["touch {m}"]', "!applyref:os"),
    "python_tag": (
        'x: !!python/object/apply:os.system ["touch {m}"]',
        "python/object/apply:os.system",
    ),
    "tag_directive": (
        '%TAG !p! tag:yaml.org,2002:python/\n---\nx: !p!object/apply:os.system ["touch {m}"]',
        "python/object/apply:os.system",
    ),
    "implicit_tuple": (
        'x: (1, !!python/object/apply:os.system ["touch {m}"])',
        "python/object/apply:os.system",
    ),
    "quoted_tuple": (  # plain after HyperPyYAML's re-dump: a tuple then
        "x: \"(1, !!python/object/apply:os.system ['touch {m}'])\"",
        "python/object/apply:os.system",
    ),
    "reexported_os": ('x: !apply:torch.os.system ["touch {m}"]', "torch.os"),
    "shell_helper": (
        'x: !apply:speechbrain.utils.superpowers.run_shell ["touch {m}"]',
        "run_shell",
    ),
    "builtins_exec": (
        "x: !apply:builtins.exec [\"open('{m}', 'w')\"]",
        "!apply:builtins.exec",
    ),
    "eval_name": ("x: !name:builtins.eval", "!name:builtins.eval"),
    "os_module": ("x: !module:os", "!module:os"),
    "torch_load": ("x: !apply:torch.load [{m}]", "!apply:torch.load"),
    "nested": (
        "x:\n    y: [1, !new:subprocess.Popen [[touch, {m}]]]",
        "!new:subprocess.Popen",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_folder_is_refused_before_it_runs(case, tmp_path, monkeypatch):
    from speechbrain_masksr.inference.enhancement import MAEEnhancement

    folder = stft_enhancer_folder(tmp_path / "model")
    monkeypatch.chdir(tmp_path)  # the payloads touch ./PWNED (short lines)
    marker = tmp_path / "PWNED"
    yaml, tag = HOSTILE[case]
    if yaml.startswith("%TAG"):  # a directive: a whole document of its own
        (folder / HPARAMS_FILE).write_text(yaml.format(m="PWNED") + "\n")
        line = 3
    else:
        line = append(folder, yaml.format(m="PWNED") + "\n")
    with pytest.raises(UntrustedModelError) as info:
        MAEEnhancement.from_folder(source=str(folder))
    message = str(info.value)
    assert not marker.exists()
    assert str(folder / HPARAMS_FILE) in message
    assert tag in message
    assert f"line {line + (case == 'nested')}:" in message
    assert "--" not in message  # the library names no command-line flag
    assert isinstance(info.value, ModelFileError)


def test_the_marker_would_be_created_without_the_check(tmp_path, monkeypatch):
    """The hostile YAML really runs when trusted (so the tests mean it)."""
    from speechbrain_masksr.inference.enhancement import MAEEnhancement

    folder = stft_enhancer_folder(tmp_path / "model")
    monkeypatch.chdir(tmp_path)
    append(folder, HOSTILE["apply_os_system"][0].format(m="PWNED") + "\n")
    enhancer = MAEEnhancement.from_folder(source=str(folder), trust_source=True)
    assert (tmp_path / "PWNED").exists()
    assert enhancer.hparams.x == 0  # os.system's exit status


def test_a_quoted_tuple_runs_in_a_fresh_process(tmp_path):
    """HyperPyYAML's first load in a process turns a quoted ``"(...)"``
    into a tuple read by PyYAML's unsafe loader (later loads quote it)."""
    yaml = HOSTILE["quoted_tuple"][0].format(m="PWNED")
    code = (
        "from hyperpyyaml import load_hyperpyyaml; "
        f"print(load_hyperpyyaml({yaml!r})['x'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert (tmp_path / "PWNED").exists(), out.stdout + out.stderr
    with pytest.raises(UntrustedModelError, match="line 1: value"):
        check_hparams_text(yaml)


def test_hostile_include_is_refused(tmp_path):
    folder = stft_enhancer_folder(tmp_path / "model")
    marker = tmp_path / "PWNED"
    (folder / "extra.yaml").write_text(
        f'a: 1\nb: !apply:os.system ["touch {marker}"]\n'
    )
    append(folder, "extra: !include:extra.yaml\n")
    with pytest.raises(UntrustedModelError, match=r"extra.yaml, line 2: tag"):
        check_model_folder(str(folder))
    assert not marker.exists()


def test_bad_yaml_is_a_model_file_error(tmp_path):
    with pytest.raises(ModelFileError, match="not valid YAML"):
        check_hparams_text("a: [1, 2\n", "h.yaml")


# ------------------------------------------------------------ opting in ---


def test_trust_source_loads_a_foreign_constructor(tmp_path):
    from speechbrain_masksr.inference.enhancement import MAEEnhancement

    folder = stft_enhancer_folder(tmp_path / "model")
    line = append(folder, "extra: !new:collections.OrderedDict\n")
    with pytest.raises(UntrustedModelError) as info:
        MAEEnhancement.from_folder(source=str(folder))
    assert f"line {line}: tag '!new:collections.OrderedDict'" in str(info.value)
    enhancer = MAEEnhancement.from_folder(source=str(folder), trust_source=True)
    assert isinstance(enhancer.hparams.extra, collections.OrderedDict)


def test_cli_refuses_then_trust_source_loads(tmp_path, capsys):
    from speechbrain_masksr.cli.restore import main
    from speechbrain_masksr.dataio import save_audio

    folder = stft_enhancer_folder(tmp_path / "model")
    marker = tmp_path / "PWNED"
    save_audio(tmp_path / "in.wav", 0.1 * torch.randn(5000), 16000)
    args = [str(tmp_path / "in.wav"), "-o", str(tmp_path / "out")]
    bad = stft_enhancer_folder(tmp_path / "bad")
    append(bad, f'x: !apply:os.system ["touch {marker}"]\n')
    assert main([*args, "--source", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "!apply:os.system" in err and "--trust-source" in err
    assert str(bad / HPARAMS_FILE) in err
    assert not marker.exists() and not (tmp_path / "out").exists()

    append(folder, "extra: !new:collections.OrderedDict\n")
    assert main([*args, "--source", str(folder)]) == 2
    assert "collections.OrderedDict" in capsys.readouterr().err
    assert main([*args, "--source", str(folder), "--trust-source"]) == 0
    assert (tmp_path / "out" / "in.wav").is_file()


def test_overrides_are_checked_with_the_file(tmp_path):
    """What is loaded is the file with its overrides: both are checked."""
    from speechbrain_masksr.inference.enhancement import MAEEnhancement

    folder = stft_enhancer_folder(tmp_path / "model")
    enhancer = MAEEnhancement.from_folder(
        source=str(folder), overrides={"overlap_seconds": 0.0}
    )
    assert enhancer.hparams.overlap_seconds == 0.0
    append(folder, "note: hello\n")
    hostile = "(1, !!python/object/apply:os.getcwd [])"
    with pytest.raises(UntrustedModelError, match="references, includes"):
        check_model_folder(str(folder), overrides={"note": hostile})


# ------------------------------------- the security review's attacks ---


class Payload:
    """Unpickling this runs code: it creates the file ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def test_the_pickle_payload_really_runs_code(tmp_path):
    marker = tmp_path / "PWNED"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


def hook_attack(folder, marker):
    """The review's attack: a pretrainer hook that loads a second YAML of
    the folder (``pretrained_from_hparams``), which runs ``os.system``."""
    second = folder / "extra"
    second.mkdir()
    (second / HPARAMS_FILE).write_text(
        f'x: !apply:os.system ["touch {marker}"]\nmodules: {{}}\n'
    )
    text = (folder / HPARAMS_FILE).read_text()
    text = text.replace(
        "    custom_hooks:\n",
        "    custom_hooks:\n"
        "        extra: !name:speechbrain.inference.interfaces."
        "pretrained_from_hparams\n",
    ).replace(
        "    loadables:\n",
        "    loadables:\n        extra: !ref <extra_cls>\n",
    )
    text += (
        "extra_cls: !name:speechbrain.inference.interfaces.Pretrained\n"
        "extra_path: extra\n"
    )
    (folder / HPARAMS_FILE).write_text(text)


def test_hook_loading_a_second_yaml_is_refused(tmp_path, monkeypatch):
    from speechbrain_masksr.cli.restore import main
    from speechbrain_masksr.dataio import save_audio
    from speechbrain_masksr.inference.enhancement import MAEEnhancement

    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "PWNED"
    folder = stft_enhancer_folder(tmp_path / "model")
    hook_attack(folder, marker)
    with pytest.raises(UntrustedModelError, match="pretrained_from_hparams"):
        MAEEnhancement.from_folder(source=str(folder))
    with pytest.raises(UntrustedModelError, match="pretrained_from_hparams"):
        MAEEnhancement.from_hparams(source=str(folder))
    save_audio(tmp_path / "in.wav", 0.1 * torch.randn(5000), 16000)
    out = tmp_path / "out"
    args = [str(tmp_path / "in.wav"), "-o", str(out), "--source", str(folder)]
    assert main(args) == 2
    assert not marker.exists() and not out.exists()


def test_lambdalr_read_pkl_is_refused(tmp_path):
    from speechbrain_masksr.inference.enhancement import MAEEnhancement

    marker = tmp_path / "PWNED"
    pkl = tmp_path / "cache.pkl"
    pkl.write_bytes(pickle.dumps(Payload(marker)))
    folder = stft_enhancer_folder(tmp_path / "model")
    line = append(
        folder,
        "param: !new:torch.nn.Parameter [!new:torch.Tensor [1]]\n"
        "opt: !new:torch.optim.SGD\n"
        "    params: [!ref <param>]\n"
        "    lr: 1.0\n"
        "sched: !new:torch.optim.lr_scheduler.LambdaLR\n"
        "    optimizer: !ref <opt>\n"
        f"    lr_lambda: !name:speechbrain.dataio.legacy.read_pkl [{pkl}]\n",
    )
    with pytest.raises(UntrustedModelError, match=f"line {line}: tag"):
        MAEEnhancement.from_folder(source=str(folder))
    assert not marker.exists()
    from speechbrain.dataio.legacy import read_pkl

    with contextlib.suppress(Exception):  # it runs, then fails to convert
        read_pkl(str(pkl))  # the payload is real
    assert marker.exists()


def test_checkpointer_folder_is_refused(tmp_path):
    from speechbrain_masksr.inference.enhancement import MAEEnhancement

    target = tmp_path / "planted"
    folder = stft_enhancer_folder(tmp_path / "model")
    append(
        folder,
        f"c: !new:speechbrain.utils.checkpoints.Checkpointer [{target}]\n",
    )
    with pytest.raises(UntrustedModelError, match="Checkpointer"):
        MAEEnhancement.from_folder(source=str(folder))
    assert not target.exists()
    from speechbrain.utils.checkpoints import Checkpointer

    Checkpointer(target)  # what it would have done
    assert target.is_dir()


def laughs(depth, width=10):
    """A "billion laughs" YAML: ``width ** depth`` leaves from aliases."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, depth + 1):
        items = ", ".join([f"*l{i - 1}"] * width)
        lines.append(f"l{i}: &l{i} [{items}]")
    return "\n".join(lines) + "\n"


def ref_laughs(depth):
    """The same with HyperPyYAML references: each level doubles a string."""
    lines = ["s0: lol"]
    for i in range(1, depth + 1):
        lines.append(f"s{i}: !ref <s{i - 1}><s{i - 1}>")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused(tmp_path):
    from speechbrain_masksr.inference.enhancement import MAEEnhancement

    check_hparams_text(laughs(3))  # 1,000 leaves: fine
    for text in (laughs(9), ref_laughs(60)):
        folder = stft_enhancer_folder(tmp_path / f"m{len(text)}")
        append(folder, text)
        with pytest.raises(UntrustedModelError, match="billion laughs"):
            MAEEnhancement.from_folder(source=str(folder))
    with pytest.raises(UntrustedModelError, match=str(MAX_EXPANSION)):
        check_hparams_text(laughs(6))


def test_hostile_speaker_model_folder_is_refused(tmp_path, capsys):
    from test_speaker_ecapa import write_ecapa_folder

    from speechbrain_masksr.cli.evaluate import main
    from speechbrain_masksr.dataio import save_audio
    from speechbrain_masksr.metrics.speaker import load_ecapa

    marker = tmp_path / "PWNED"
    folder = tmp_path / "ecapa"
    write_ecapa_folder(folder)
    load_ecapa(folder)  # SpeechBrain's ECAPA folder layout passes
    with open(folder / HPARAMS_FILE, "a") as fout:
        fout.write(f'x: !apply:os.system ["touch {marker}"]\n')
    with pytest.raises(UntrustedModelError, match="os.system"):
        load_ecapa(folder)
    assert not marker.exists()
    for name in ("ref", "est"):
        (tmp_path / name).mkdir()
        save_audio(tmp_path / name / "a.wav", 0.1 * torch.randn(16000), 16000)
    code = main(
        [
            "--ref",
            str(tmp_path / "ref"),
            "--est",
            str(tmp_path / "est"),
            "--metrics",
            "spk_sim_ecapa",
            "--spk-model",
            str(folder),
        ]
    )
    assert code != 0
    assert "os.system" in capsys.readouterr().err
    assert not marker.exists()
    load_ecapa(folder, trust_source=True)  # the payload is real
    assert marker.exists()


# ------------------------------ every YAML loader goes through the check ---

#: Calls that load a YAML (or a model folder's YAML) and so run its tags.
LOADERS = {
    "load_hyperpyyaml",
    "from_hparams",
    "resolve_references",
    "pretrained_from_hparams",
    "load",
    "safe_load",
    "full_load",
    "unsafe_load",
    "load_all",
    "compose",
}

#: Where a loader call may stand without a check in the same function:
#: ``(file, function): why``.
UNCHECKED = {
    ("trust.py", "load_checked_yaml"): "the check itself (checks, then loads)",
    ("trust.py", "_check_text"): "resolve_references after the first check",
    ("trust.py", "_compose"): "composes only (constructs nothing)",
    ("trust.py", "_tuple_problem"): "PyYAML compose (constructs nothing)",
    ("trust.py", "_override_paths"): "safe loader of the caller's overrides",
    ("interface.py", "from_hparams"): "checks first unless trust_source",
    ("interface.py", "from_folder"): "calls the checking from_hparams",
    ("model_folder.py", "_load_template"): "round-trip load of the "
    "package's own templates (tags kept as data, nothing constructed)",
}
CHECKS = {"check_model_folder", "check_hparams_file", "load_checked_yaml"}


def _calls(func):
    """The names of the functions called in ``func`` (attribute or name)."""
    for node in ast.walk(func):
        if isinstance(node, ast.Call):
            f = node.func
            yield getattr(f, "attr", None) or getattr(f, "id", None), node


def test_every_yaml_loader_of_the_package_is_checked():
    import speechbrain_masksr

    package = Path(speechbrain_masksr.__file__).parent
    found, unchecked = [], []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            calls = list(_calls(func))
            names = {name for name, _ in calls}
            for name, call in calls:
                if name not in LOADERS:
                    continue
                text = ast.unparse(call.func)
                if name in ("load", "compose") and "yaml" not in text.lower():
                    continue  # torch.load, np.load, json.load, ...
                if "SafeLoader" in ast.unparse(call) or name == "safe_load":
                    continue  # PyYAML's safe loader: plain data only
                where = (path.name, func.name)
                found.append(where)
                if where in UNCHECKED:
                    continue
                checked = names & CHECKS
                if name == "from_hparams" and "trust_source" in ast.unparse(
                    func
                ):
                    checked = checked or {"trust_source"}
                if not checked:
                    unchecked.append(f"{path.relative_to(package)}: {text}")
    assert not unchecked, f"YAML loaded without the trust check: {unchecked}"
    # the search finds the loaders we know of (so it searches at all)
    assert ("speaker.py", "load_ecapa") in found
    assert ("hifigan.py", "speechbrain_vocoder") in found
    assert ("pipeline.py", "from_config") not in found  # load_checked_yaml
    assert ("interface.py", "from_hparams") in found


@pytest.mark.parametrize(
    "yaml, shown",
    [
        # a %TAG directive that turns a short tag into a refused one
        ('%TAG ! !apply:os.\n---\nx: !system ["touch {m}"]\n', "os.system"),
        # a tagged mapping key
        ('? !apply:os.system ["touch {m}"]\n: 1\n', "os.system"),
        # an anchor on a refused tag used through an alias and a reference
        ('a: &p !apply:os.system ["touch {m}"]\nb: *p\nc: !ref <a>\n', "os"),
        # the tokenizer told to load weights from elsewhere
        (
            "c: !new:speechbrain_masksr.codecs.dac.DACTokenizer\n"
            "    load_pretrained: False\n    load_path: {m}\n",
            "load_path",
        ),
    ],
)
def test_more_tricks_are_refused(yaml, shown, tmp_path):
    marker = tmp_path / "PWNED"
    path = tmp_path / HPARAMS_FILE
    path.write_text(yaml.format(m=marker))
    with pytest.raises(UntrustedModelError, match=re.escape(shown)):
        check_hparams_file(path)
    assert not marker.exists()


def test_include_of_a_fifo_or_outside_file_is_refused(tmp_path):
    import os

    folder = tmp_path / "m"
    folder.mkdir()
    os.mkfifo(folder / "pipe.yaml")  # opening it would block forever
    (folder / HPARAMS_FILE).write_text("x: !include:pipe.yaml\n")
    with pytest.raises(UntrustedModelError, match="not a regular file"):
        check_hparams_file(folder / HPARAMS_FILE)
    os.mkfifo(tmp_path / "fifo_hparams.yaml")
    with pytest.raises(ModelFileError, match="not a regular file"):
        check_hparams_file(tmp_path / "fifo_hparams.yaml")
    (tmp_path / "out.yaml").write_text("a: 1\n")
    (folder / HPARAMS_FILE).write_text("x: !include:../out.yaml\n")
    with pytest.raises(UntrustedModelError, match="outside the model folder"):
        check_hparams_file(folder / HPARAMS_FILE)
