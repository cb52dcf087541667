"""``AudioMAEClassifier`` and ``AudioMAEReconstruction`` on tiny models.

Authors
 * speechbrain-masksr contributors 2026
"""

import pytest
import soundfile
import torch

from speechbrain_masksr.dataio import AudioError, load_audio, save_audio
from speechbrain_masksr.inference import (
    AudioMAEClassifier,
    AudioMAEReconstruction,
)
from speechbrain_masksr.inference.audio_mae import (
    read_label_names,
    write_model_folder,
)
from speechbrain_masksr.lobes.audio_mae import (
    AudioMAE,
    AudioMAEClassifierModel,
    AudioMAEDecoder,
    AudioMAEEncoder,
    AudioMAEFbank,
)
from speechbrain_masksr.lobes.audio_mae.model import _visible_stats
from speechbrain_masksr.lobes.patching import patchify

SR = 16000
NAMES = ["Speech", "Dog", "Music"]


def tiny_fbank():
    return AudioMAEFbank(num_mel_bins=64, target_length=128)


def tiny_encoder():
    return AudioMAEEncoder(grid=(8, 4), d_model=32, depth=1, num_heads=2)


def tone(freq, seconds=1.0, sr=SR):
    t = torch.arange(int(seconds * sr)) / sr
    gen = torch.Generator().manual_seed(0)
    return 0.3 * torch.sin(2 * torch.pi * freq * t) + 0.01 * torch.randn(
        len(t), generator=gen
    )


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    torch.manual_seed(0)
    model = AudioMAEClassifierModel(tiny_encoder(), n_classes=3)
    torch.nn.init.normal_(model.head.weight, std=0.5)  # visible outputs
    folder = write_model_folder(
        tmp_path_factory.mktemp("clf"), model, tiny_fbank(), NAMES
    )
    return AudioMAEClassifier.from_hparams(source=str(folder)), model


@pytest.fixture(scope="module")
def reconstruction(tmp_path_factory):
    torch.manual_seed(0)
    decoder = AudioMAEDecoder(
        (8, 4), 32, 32, depth=2, num_heads=2, mode="local"
    )
    model = AudioMAE(tiny_encoder(), decoder, norm_pix_loss=True)
    folder = write_model_folder(
        tmp_path_factory.mktemp("mae"), model, tiny_fbank()
    )
    return AudioMAEReconstruction.from_hparams(source=str(folder))


def test_classify_batch_file_and_encode(classifier, tmp_path):
    clf, model = classifier
    wavs = torch.stack([tone(440.0), tone(2000.0)])
    lens = torch.tensor([1.0, 0.7])
    scores, top_s, top_i, top_names = clf.classify_batch(wavs, lens, topk=2)
    with torch.no_grad():
        expected = torch.sigmoid(model.eval()(tiny_fbank()(wavs, lens)))
    assert torch.allclose(scores, expected, atol=1e-6)
    assert not torch.allclose(scores[0], scores[1], atol=1e-3)
    assert torch.equal(top_i, scores.topk(2, dim=1).indices)
    assert top_names == [[NAMES[i] for i in row] for row in top_i.tolist()]
    assert bool((top_s[:, 0] >= top_s[:, 1]).all())

    # The clip embedding is what the head sees.
    clip, patches = clf.encode_batch(wavs, lens)
    assert clip.shape == (2, 32) and patches.shape == (2, 32, 32)
    with torch.no_grad():
        again = torch.sigmoid(clf.mods.model.head(clip))
    assert torch.allclose(again, scores, atol=1e-6)

    # A 44.1 kHz stereo file gives the scores of its 16 kHz mono version.
    path = tmp_path / "stereo.wav"
    save_audio(path, torch.stack([tone(440.0, 1.0, 44100)] * 2), 44100)
    file_scores = clf.classify_file(path)[0]
    mono, _ = load_audio(path, sample_rate=SR)
    assert torch.allclose(file_scores, clf.classify_batch(mono)[0], atol=1e-6)


def test_classifier_bad_inputs(classifier, tmp_path):
    clf, _ = classifier
    with pytest.raises(ValueError, match="mono"):
        clf.classify_batch(torch.zeros(1, 2, 16000))
    with pytest.raises(ValueError, match="NaN"):
        clf.classify_batch(torch.full((1, 16000), float("nan")))
    with pytest.raises(AudioError, match="not found"):
        clf.classify_file(tmp_path / "missing.wav")
    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(AudioError, match="text.wav"):
        clf.classify_file(tmp_path / "text.wav")
    save_audio(tmp_path / "short.wav", torch.zeros(100), SR)
    with pytest.raises(AudioError, match="short.wav"):
        clf.classify_file(tmp_path / "short.wav")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="hyperparams.yaml"):
        AudioMAEClassifier.from_hparams(source=str(tmp_path / "empty"))


def test_missing_weights_fail_loudly(tmp_path):
    model = AudioMAEClassifierModel(tiny_encoder(), n_classes=3)
    folder = write_model_folder(tmp_path / "m", model, tiny_fbank(), NAMES)
    (folder / "model.ckpt").unlink()
    with pytest.raises(FileNotFoundError, match="model.ckpt"):
        AudioMAEClassifier.from_hparams(source=str(folder))
    # A checkpoint of another model is refused with its keys listed.
    other = AudioMAEClassifierModel(tiny_encoder(), n_classes=5)
    torch.save(other.state_dict(), folder / "model.ckpt")
    with pytest.raises(Exception, match="head.weight"):
        AudioMAEClassifier.from_hparams(source=str(folder))


def test_reconstruct_batch(reconstruction):
    wavs = torch.stack([tone(500.0), tone(3000.0)])
    out = reconstruction.reconstruct_batch(wavs, mask_ratio=0.75, seed=3)
    fbank, mask, recon = out["fbank"], out["mask"], out["reconstruction"]
    assert out["mask_patches"].sum(dim=1).tolist() == [24.0, 24.0]
    assert mask.shape == fbank.shape == recon.shape == (2, 128, 64)
    # Visible patches are the input; hidden ones are predicted.
    assert torch.equal(recon[mask == 0], fbank[mask == 0])
    assert not torch.allclose(recon[mask == 1], fbank[mask == 1])
    # The seed fixes the mask.
    same = reconstruction.reconstruct_batch(wavs, mask_ratio=0.75, seed=3)
    other = reconstruction.reconstruct_batch(wavs, mask_ratio=0.75, seed=4)
    assert torch.equal(same["mask"], mask)
    assert not torch.equal(other["mask"], mask)
    # The oracle statistics give each hidden patch the input's mean.
    oracle = reconstruction.reconstruct_batch(
        wavs, mask_ratio=0.75, seed=3, stats="oracle", paste_visible=False
    )
    pred_mean = patchify(oracle["reconstruction"]).mean(dim=-1)
    true_mean = patchify(fbank).mean(dim=-1)
    out_mean = oracle["pred"].mean(dim=-1)  # standardised prediction
    std = (patchify(fbank).var(dim=-1) + 1e-6).sqrt()
    assert torch.allclose(pred_mean, out_mean * std + true_mean, atol=1e-4)


def test_visible_statistics_per_frequency_band():
    # Patch means depend on the frequency column only: the estimate from
    # visible patches is exact for the hidden ones.
    col_mean = torch.tensor([1.0, -2.0, 3.0, 0.5])
    col_std = torch.tensor([0.5, 1.0, 2.0, 0.1])
    base = torch.randn(256)
    base = (base - base.mean()) / base.std()
    target = col_mean[None, :, None] + col_std[None, :, None] * base
    target = target.expand(8, 4, 256).reshape(1, 32, 256)
    mask = (torch.rand(1, 32) < 0.6).float()
    mask[0, :4] = 0  # each column keeps a visible patch
    mean, std = _visible_stats(target, mask, (8, 4))
    assert torch.allclose(mean[0, :, 0], col_mean.repeat(8), atol=1e-5)
    assert torch.allclose(std[0, :, 0], col_std.repeat(8), atol=1e-3)


def test_reconstruct_file_figure_and_audio(reconstruction, tmp_path):
    path = tmp_path / "tone.wav"
    save_audio(path, tone(1000.0, 1.0, 22050), 22050)
    before = path.read_bytes()
    out = reconstruction.reconstruct_file(
        path,
        png_path=tmp_path / "fig.png",
        wav_path=tmp_path / "rec.wav",
        mask_ratio=0.0,  # nothing hidden: the rendering is of the input
        n_iter=8,
    )
    assert (tmp_path / "fig.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    wav, sr = load_audio(tmp_path / "rec.wav")
    assert sr == SR and abs(wav.numel() - out["n_frames"] * 160) <= 400
    spectrum = torch.fft.rfft(wav[1000:9000]).abs()
    peak_hz = float(spectrum.argmax()) * SR / 8000
    assert abs(peak_hz - 1000.0) < 30.0
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="overwrite"):
        reconstruction.reconstruct_file(path, wav_path=path, n_iter=1)
    assert path.read_bytes() == before


def test_batch_checks_every_entry_point(classifier, reconstruction):
    clf, _ = classifier
    x = torch.stack([tone(440.0), tone(880.0)])
    calls = (
        clf.classify_batch,
        clf.encode_batch,
        reconstruction.reconstruct_batch,
    )
    for call in calls:
        for lens in (torch.ones(3), torch.ones(2, 1), torch.tensor([1.5, 1])):
            with pytest.raises(ValueError, match=r"\[batch\] = \[2\]"):
                call(x, lens)
        with pytest.raises(AudioError, match=r"wavs\[0\].*fbank frame"):
            call(x, torch.tensor([0.01, 1.0]))  # 160 samples < 400
        with pytest.raises(ValueError, match="floating-point"):
            call((x * 32767).short())
        with pytest.raises(AudioError, match="at least 400"):
            call(torch.zeros(1, 399))
    # Silence and clips longer than target_length give finite outputs.
    for wav in (torch.zeros(1, SR), tone(300.0, 3.0)[None]):
        scores = clf.classify_batch(wav)[0]
        out = reconstruction.reconstruct_batch(wav)
        assert torch.isfinite(scores).all()
        assert torch.isfinite(out["reconstruction"]).all()


def test_reconstruct_file_refuses_input_as_figure(reconstruction, tmp_path):
    path = tmp_path / "clip.wav"
    save_audio(path, torch.stack([tone(700.0, 0.5, 44100)] * 2), 44100)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="overwrite"):
        reconstruction.reconstruct_file(path, png_path=path)
    assert path.read_bytes() == before
    short = tmp_path / "short.wav"
    soundfile.write(str(short), tone(500.0, 0.02, 44100).numpy(), 44100)
    with pytest.raises(AudioError, match=r"short\.wav.*16000 Hz"):
        reconstruction.reconstruct_file(short)


def test_label_file_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n")
    with pytest.raises(ValueError, match="display_name"):
        read_label_names(bad)
    bad.write_text("index,mid,display_name\nx,/m/a,A\n")
    with pytest.raises(ValueError, match="bad class index"):
        read_label_names(bad)
    bad.write_bytes(b"\x80\x81\x82")
    with pytest.raises(ValueError, match="UTF-8"):
        read_label_names(bad)
