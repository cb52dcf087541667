"""Speaker similarity with SpeechBrain's ECAPA model (``spk_sim_ecapa``).

No download is possible here: the tests write a tiny ECAPA model folder in
the layout of ``speechbrain/spkrec-ecapa-voxceleb`` (its
``hyperparams.yaml`` structure, with tiny sizes, and an
``embedding_model.ckpt``) and check that exactly those weights are used,
never random ones, and that a missing folder or option is a clear error.

Authors
 * speechbrain-masksr contributors 2026
"""

import csv

import numpy as np
import pytest
import torch
from helpers import speech_like
from speechbrain.lobes.models.ECAPA_TDNN import ECAPA_TDNN

from speechbrain_masksr.cli.evaluate import main
from speechbrain_masksr.dataio import save_audio
from speechbrain_masksr.metrics import compute_metrics
from speechbrain_masksr.metrics.speaker import (
    ecapa_similarity,
    get_ecapa,
    load_ecapa,
)
from speechbrain_masksr.utils.checkpoints import ModelFileError

SR = 16000
N_MELS = 16
ECAPA = dict(
    channels=[16, 16, 16, 16, 48],
    kernel_sizes=[5, 3, 3, 3, 1],
    dilations=[1, 2, 3, 4, 1],
    attention_channels=8,
    lin_neurons=12,
)

#: spkrec-ecapa-voxceleb's hyperparams.yaml, tiny sizes, no classifier.
HPARAMS = """\
pretrained_path: speechbrain/spkrec-ecapa-voxceleb
n_mels: 16
compute_features: !new:speechbrain.lobes.features.Fbank
    n_mels: !ref <n_mels>
mean_var_norm: !new:speechbrain.processing.features.InputNormalization
    norm_type: sentence
    std_norm: False
embedding_model: !new:speechbrain.lobes.models.ECAPA_TDNN.ECAPA_TDNN
    input_size: !ref <n_mels>
    channels: [16, 16, 16, 16, 48]
    kernel_sizes: [5, 3, 3, 3, 1]
    dilations: [1, 2, 3, 4, 1]
    attention_channels: 8
    lin_neurons: 12
mean_var_norm_emb: !new:speechbrain.processing.features.InputNormalization
    norm_type: global
    std_norm: False
modules:
    compute_features: !ref <compute_features>
    mean_var_norm: !ref <mean_var_norm>
    embedding_model: !ref <embedding_model>
    mean_var_norm_emb: !ref <mean_var_norm_emb>
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        embedding_model: !ref <embedding_model>
    paths:
        embedding_model: !ref <pretrained_path>/embedding_model.ckpt
"""


def write_ecapa_folder(folder, seed=0, hparams=HPARAMS, **overrides):
    """hyperparams.yaml + embedding_model.ckpt; returns the state dict."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hyperparams.yaml").write_text(hparams)
    torch.manual_seed(seed)
    model = ECAPA_TDNN(N_MELS, **{**ECAPA, **overrides})
    with torch.no_grad():  # away from the default init (biases are zero)
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    state = model.state_dict()
    torch.save(state, folder / "embedding_model.ckpt")
    return state


def voice(seed, f0):
    return torch.as_tensor(
        speech_like(duration=1.0, rate=SR, seed=seed, f0=f0),
        dtype=torch.float32,
    )


@pytest.fixture(scope="module")
def ecapa_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ecapa") / "spkrec-ecapa-tiny"
    return folder, write_ecapa_folder(folder)


def test_loads_exactly_the_folder_weights(ecapa_folder):
    folder, state = ecapa_folder
    model = load_ecapa(folder)
    loaded = model.mods.embedding_model.state_dict()
    assert sorted(loaded) == sorted(state)
    for key, value in state.items():
        assert torch.equal(loaded[key], value), key
    emb = model.encode_batch(voice(0, 120.0)[None])
    assert emb.shape == (1, 1, 12)
    # the folder's files were read in place (nothing collected elsewhere)
    assert sorted(p.name for p in folder.iterdir()) == [
        "embedding_model.ckpt",
        "hyperparams.yaml",
    ]


def test_similarity_values(ecapa_folder):
    folder = str(ecapa_folder[0])
    a, b = voice(0, 110.0), voice(1, 220.0)
    assert ecapa_similarity(a, a, SR, folder) == pytest.approx(1.0, abs=1e-6)
    # rate-independent: the same signal at 44.1 kHz is resampled to 16 kHz
    import librosa

    a44 = librosa.resample(a.numpy(), orig_sr=SR, target_sr=44100)
    assert ecapa_similarity(a44, a44, 44100, folder) == pytest.approx(1.0)
    other = ecapa_similarity(a, b, SR, folder)
    assert -1.0 <= other < 0.999
    # the value is the cosine of the two embeddings of the model
    model = get_ecapa(folder)
    e_a = model.encode_batch(a[None]).flatten().double()
    e_b = model.encode_batch(b[None]).flatten().double()
    cosine = float(e_a @ e_b / (e_a.norm() * e_b.norm()))
    assert other == pytest.approx(cosine, abs=1e-5)
    with pytest.warns(UserWarning, match="digital silence"):
        assert np.isnan(ecapa_similarity(a, torch.zeros(SR), SR, folder))


def test_compute_metrics_labels_the_encoder(ecapa_folder):
    folder = ecapa_folder[0]
    a, b = voice(0, 110.0), voice(1, 220.0)
    scores = compute_metrics(
        a, b, SR, metrics=["spk_sim_ecapa", "lsd"], spk_model=folder
    )
    assert list(scores) == ["lsd", "spk_sim_ecapa"]
    assert scores["spk_sim_ecapa"] == pytest.approx(
        ecapa_similarity(a, b, SR, str(folder))
    )
    with pytest.raises(ValueError, match="spk_sim_ecapa needs spk_model"):
        compute_metrics(a, b, SR, metrics=["spk_sim_ecapa"])


def test_missing_folder_files_and_bad_weights(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"spk_model \(--spk-model\)"):
        load_ecapa(tmp_path / "no_such" / "ecapa")
    with pytest.raises(ValueError, match="needs spk_model"):
        load_ecapa(None)
    half = tmp_path / "half"
    half.mkdir()
    (half / "hyperparams.yaml").write_text(HPARAMS)
    with pytest.raises(FileNotFoundError, match="lacks embedding_model.ckpt"):
        load_ecapa(half)
    # weights of another architecture are refused, not half-loaded
    bad = tmp_path / "bad"
    write_ecapa_folder(bad, lin_neurons=8)
    with pytest.raises(ModelFileError, match="size mismatch") as info:
        load_ecapa(bad)
    assert "spk_model (--spk-model)" in str(info.value)


def test_never_random_weights_even_without_a_pretrainer_entry(tmp_path):
    # A hyperparams.yaml whose pretrainer does not list the embedding model
    # would leave it at its random initial weights in SpeechBrain;
    # load_ecapa still loads embedding_model.ckpt (strictly).
    text = HPARAMS.split("pretrainer:")[0] + (
        "pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer\n"
        "    loadables: {}\n"
    )
    state = write_ecapa_folder(tmp_path / "plain", seed=3, hparams=text)
    loaded = load_ecapa(tmp_path / "plain").mods.embedding_model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())


def test_hub_id_that_cannot_be_fetched(monkeypatch, tmp_path):
    from speechbrain.inference.speaker import SpeakerRecognition

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(SpeakerRecognition, "from_hparams", offline)
    with pytest.raises(FileNotFoundError) as info:
        load_ecapa("someone/spkrec-ecapa-x", savedir=tmp_path)
    message = str(info.value)
    assert "spk_model (--spk-model)" in message
    assert "someone/spkrec-ecapa-x could not be fetched" in message


def test_cli_spk_model(ecapa_folder, tmp_path, capsys):
    ref, est = tmp_path / "ref", tmp_path / "est"
    save_audio(ref / "a.wav", voice(0, 110.0), SR)
    save_audio(est / "a.wav", voice(0, 110.0) + 0.01 * voice(1, 220.0), SR)
    args = ["--ref", str(ref), "--est", str(est), "--no-progress"]
    assert main(args + ["--metrics", "spk_sim_ecapa"]) == 2
    assert "needs spk_model (--spk-model)" in capsys.readouterr().err
    missing = str(tmp_path / "nope" / "ecapa")
    code = main(args + ["--metrics", "spk_sim_ecapa", "--spk-model", missing])
    assert code == 2
    err = capsys.readouterr().err
    assert "spk_model (--spk-model)" in err and missing in err
    out_csv = tmp_path / "s.csv"
    code = main(
        args
        + ["--metrics", "lsd,spk_sim_ecapa", "--csv", str(out_csv)]
        + ["--spk-model", str(ecapa_folder[0])]
    )
    assert code == 0
    assert (
        "| system | files | lsd ↓ | spk_sim_ecapa ↑ |"
        in capsys.readouterr().out
    )
    with open(out_csv, newline="") as handle:
        rows = list(csv.reader(handle))
    assert (
        rows[0][-1] == "spk_sim_ecapa" and rows[0][-2] == "spk_sim_resemblyzer"
    )
    assert 0.5 < float(rows[1][-1]) <= 1.0
