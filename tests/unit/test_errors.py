"""One exception type per kind of failure; library messages name no CLI flag.

* bad audio input -> ``AudioError`` (a ``ValueError``);
* bad model folder / checkpoint -> ``ModelFileError`` (a
  ``FileNotFoundError``, ``RuntimeError`` and ``ValueError``);
* unknown / missing configuration keys -> ``ConfigError`` (a ``ValueError``
  and a ``KeyError``);

all defined in :mod:`speechbrain_masksr.errors` (the old import locations
still work).
"""

import ast
import re
from pathlib import Path

import pytest
import torch

import speechbrain_masksr
from speechbrain_masksr.errors import (
    AudioError,
    ConfigError,
    MetricWarning,
    ModelFileError,
    UsageError,
)

PACKAGE = Path(speechbrain_masksr.__file__).parent


def test_classes_live_in_one_module_and_keep_their_old_names():
    from speechbrain_masksr import dataio, metrics
    from speechbrain_masksr.cli import audiomae_convert, restore
    from speechbrain_masksr.metrics import _utils
    from speechbrain_masksr.utils import checkpoints

    assert dataio.AudioError is AudioError is _utils.AudioError
    assert checkpoints.ModelFileError is ModelFileError
    assert audiomae_convert.ConversionError is ModelFileError
    assert restore.UsageError is UsageError
    assert metrics.MetricWarning is MetricWarning is _utils.MetricWarning
    defined = [
        f"{path.relative_to(PACKAGE)}: {node.name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and re.search(r"(Error|Exception|Warning)$", node.name)
    ]
    assert all(d.startswith("errors.py") for d in defined), defined


def test_builtin_bases_keep_except_clauses_working():
    err = ModelFileError("m")
    assert isinstance(err, (FileNotFoundError, RuntimeError, ValueError))
    assert all(isinstance(err, t) for t in (OSError, RuntimeError, ValueError))
    cfg = ConfigError("unknown keys ['x']")
    assert isinstance(cfg, ValueError) and isinstance(cfg, KeyError)
    assert str(cfg) == "unknown keys ['x']"  # not quoted like a KeyError
    assert issubclass(AudioError, ValueError)
    assert issubclass(UsageError, ValueError)


def test_bad_audio_is_an_audio_error():
    from speechbrain_masksr.augment.distortions import Clip
    from speechbrain_masksr.augment.rir import align_rir
    from speechbrain_masksr.lobes.audio_mae import AudioMAEFbank
    from speechbrain_masksr.lobes.speech_encoder import check_wavs
    from speechbrain_masksr.metrics.speaker import preprocess_for_speaker

    nan = torch.full((1, 1000), float("nan"))
    with pytest.raises(AudioError, match="NaN"):
        check_wavs(nan)
    with pytest.raises(AudioError, match="empty"):
        check_wavs(torch.zeros(1, 0))
    with pytest.raises(AudioError, match="NaN"):
        AudioMAEFbank(num_mel_bins=32, target_length=64)(nan)
    with pytest.raises(AudioError, match="NaN"):
        Clip(0.5, 0.5)(nan)
    with pytest.raises(AudioError, match="all zeros"):
        align_rir(torch.zeros(10), direct_index=0)
    with pytest.raises(AudioError, match="digital silence"):
        preprocess_for_speaker(torch.zeros(16000), 16000)


def test_dac_input_and_weight_errors(tmp_path):
    from speechbrain_masksr.codecs.dac import (
        DACTokenizer,
        load_dac_weights,
        save_tiny_dac,
    )

    codec = DACTokenizer(load_path=save_tiny_dac(tmp_path / "w.pth"))
    with pytest.raises(AudioError, match="NaN"):
        codec.encode(torch.full((1, 1024), float("nan")))
    with pytest.raises(AudioError, match="empty"):
        codec.encode(torch.zeros(1, 0))
    with pytest.raises(ModelFileError, match="not found") as err:
        DACTokenizer(load_path=tmp_path / "nope.pth")
    assert "--codec_path" not in str(err.value)
    assert "codec_path" in str(err.value)
    with pytest.raises(ModelFileError, match="not found"):
        load_dac_weights(codec, tmp_path / "nope.pth")
    torch.save({"x": torch.ones(1)}, tmp_path / "bad.pth")
    with pytest.raises(ModelFileError, match="not a DAC weights file"):
        load_dac_weights(codec, tmp_path / "bad.pth")


def test_bad_model_folders_are_model_file_errors(tmp_path):
    from speechbrain_masksr.cli.restore import model_kind
    from speechbrain_masksr.inference.model_folder import (
        TEMPLATES,
        write_folder,
    )
    from speechbrain_masksr.metrics.speaker import SpeakerEncoder

    with pytest.raises(ModelFileError, match="does not exist"):
        model_kind(str(tmp_path / "no" / "model"))
    with pytest.raises(ValueError, match="no hyperparams.yaml"):
        model_kind(str(tmp_path))  # callers catching ValueError still work
    with pytest.raises(ModelFileError, match="file to copy not found"):
        write_folder(
            tmp_path / "m",
            TEMPLATES / "mae_enhancer_stft.yaml",
            files={"enhancer.ckpt": str(tmp_path / "missing.ckpt")},
        )
    with pytest.raises(ModelFileError, match="weights_fpath") as err:
        SpeakerEncoder.from_checkpoint(tmp_path / "missing.pt")
    assert "--spk-weights" not in str(err.value)


def test_unknown_configuration_keys_are_config_errors(tmp_path):
    from speechbrain_masksr.augment.pipeline import GSRPipeline
    from speechbrain_masksr.inference.model_folder import (
        TEMPLATES,
        write_folder,
    )
    from speechbrain_masksr.inference.restoration import write_model_folder
    from speechbrain_masksr.lobes.masksr import build_masksr

    with pytest.raises(ConfigError, match="not a top-level value"):
        write_folder(
            tmp_path / "m", TEMPLATES / "mae_enhancer_stft.yaml", {"x": 1}
        )
    with pytest.raises(KeyError, match="model_config lacks"):
        write_model_folder(tmp_path / "r", torch.nn.Linear(1, 1), {}, "c")
    with pytest.raises(ConfigError, match="unknown overrides"):
        build_masksr("S", width=3)
    with pytest.raises(ConfigError, match="unknown GSRPipeline option"):
        GSRPipeline.from_config({"snr": 3})


def test_converter_messages_name_python_arguments(tmp_path):
    from speechbrain_masksr.cli.audiomae_convert import (
        convert_checkpoint,
        infer_config,
    )

    state = {
        "patch_embed.proj.weight": torch.zeros(8, 1, 16, 16),
        "pos_embed": torch.zeros(1, 17, 8),
    }
    with pytest.raises(ModelFileError, match="kind='pretrained'") as err:
        infer_config(state)
    assert "--kind" not in str(err.value)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "hyperparams.yaml").write_text("x: 1\n")
    with pytest.raises(ModelFileError, match="overwrite=True") as err:
        convert_checkpoint(tmp_path / "ckpt.pth", tmp_path / "out")
    assert "--overwrite" not in str(err.value)


def test_check_device_names_no_flag():
    from speechbrain_masksr.inference.restoration import check_device

    with pytest.raises(ValueError, match="unknown device") as err:
        check_device("gpu")
    assert "--" not in str(err.value)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="use the device 'cpu'") as err:
            check_device("cuda")
        assert "--device" not in str(err.value)


def _exception_strings(tree):
    """String constants of exception constructors and ``*HINT*`` constants."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = getattr(func, "id", None) or getattr(func, "attr", "")
            if not re.search(r"(Error|Exception)$", name):
                continue
            parts = [*node.args, *(k.value for k in node.keywords)]
        elif isinstance(node, ast.Assign) and any(
            "HINT" in getattr(t, "id", "") for t in node.targets
        ):
            parts = [node.value]
        else:
            continue
        for part in parts:
            for sub in ast.walk(part):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                    yield node.lineno, sub.value


def test_library_errors_name_no_command_line_flag():
    flag = re.compile(r"(?<![\w-])--[a-z][\w-]*")
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "cli":  # the command-line tools add their flags
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, text in _exception_strings(tree):
            if "pip install" in text:  # pip's own options
                continue
            if flag.search(text):
                found.append(f"{rel}:{line}: {text!r}")
    assert not found, "\n".join(found)
