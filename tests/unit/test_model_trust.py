"""The trust check of model folders (``speechbrain_masksr.inference.trust``).

A model folder's ``hyperparams.yaml`` is code: every shipped template and
every folder the exporters write passes the allowlist check, a folder that
names ``os.system``, ``subprocess`` and the like is refused *before*
anything in it runs (a marker file that the payload would create is never
created), and ``trust_source=True`` / ``--trust-source`` loads a folder with
a foreign but harmless constructor.

Authors
 * speechbrain-masksr contributors 2026
"""

import collections
import subprocess
import sys

import pytest
import torch
from helpers import TINY_MAE_ARCH, write_tiny_model_folder

from speechbrain_masksr.errors import ModelFileError, UntrustedModelError
from speechbrain_masksr.inference.model_folder import HPARAMS_FILE, TEMPLATES
from speechbrain_masksr.inference.trust import (
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
        "lin: !new:torch.nn.Linear [2, !ref <a>]\n"
        "act: !name:torch.nn.functional.relu\n"
        "nn: !module:torch.nn\n"
        "enc: !new:speechbrain.dataio.encoder.CategoricalEncoder\n"
        "f: !name:speechbrain_masksr.codecs.dac.load_dac_weights\n"
    )


@pytest.mark.parametrize(
    "tag",
    [
        # loaders, writers and other interfaces' loading, inside ALLOWED
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
        "!name:torch.nn.Module.__subclasses__",
        # a call at load time outside this package's model builders
        "!apply:torch.manual_seed",
        "!applyref:torch.manual_seed",
        # a re-exported module of another package
        "!name:speechbrain_masksr.inference.restoration.os.getcwd",
        "!new:collections.OrderedDict",
        "!unknown",
    ],
)
def test_names_refused_inside_and_outside_the_allowed_packages(tag):
    with pytest.raises(UntrustedModelError, match=f"line 2: tag '{tag}'"):
        check_hparams_text(f"a: 1\nb: {tag} [0]\n")


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
