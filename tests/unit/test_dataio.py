"""Audio I/O boundary: clear errors for bad files, mono/resampling."""

import math
import warnings

import pytest
import soundfile
import torch

from speechbrain_masksr.dataio import (
    AudioError,
    audio_info,
    find_audio_files,
    load_audio,
    load_segment,
    save_audio,
)
from speechbrain_masksr.errors import AudioWarning
from speechbrain_masksr.inference.interface import AudioInterface


def test_roundtrip_stereo_to_mono_and_resample(tmp_path):
    t = torch.arange(8000) / 8000
    left = 0.5 * torch.sin(2 * math.pi * 440 * t)
    path = tmp_path / "st.wav"
    save_audio(path, torch.stack([left, torch.zeros_like(left)]), 8000)
    wav, sr = load_audio(path)
    assert sr == 8000 and wav.dim() == 1
    assert torch.allclose(wav, left / 2, atol=1e-3)  # channel mean
    both, _ = load_audio(path, mono=False)
    assert both.shape == (2, 8000)
    up, sr = load_audio(path, sample_rate=16000)
    assert sr == 16000 and up.shape[-1] == 16000


@pytest.mark.parametrize(
    "content, message",
    [(b"this is not audio", "not a readable audio file"), (None, "not found")],
)
def test_bad_files_raise_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioError, match=message) as err:
        load_audio(path)
    assert "bad.wav" in str(err.value)


def test_empty_and_too_short(tmp_path):
    path = tmp_path / "short.wav"
    save_audio(path, torch.zeros(10), 16000)
    with pytest.raises(AudioError, match="at least 100"):
        load_audio(path, min_samples=100)


def test_find_audio_files(tmp_path):
    save_audio(tmp_path / "a" / "1.wav", torch.zeros(16), 16000)
    save_audio(tmp_path / "a" / "b" / "2.flac", torch.zeros(16), 16000)
    (tmp_path / "a" / "notes.txt").write_text("x")
    names = [p.name for p in find_audio_files(tmp_path / "a")]
    assert names == ["1.wav", "2.flac"]
    with pytest.raises(AudioError):
        find_audio_files(tmp_path / "nope")


def test_hidden_files_and_folders_are_never_listed(tmp_path):
    """A killed writer's temporary file (readable, truncated) and hidden
    folders are not inputs; a hidden file named as such still is."""
    from speechbrain_masksr.data.manifest import scan_audio

    root = tmp_path / ".data" / "in"  # hidden above the root: irrelevant
    save_audio(root / "a.wav", 0.1 * torch.ones(1600), 16000)
    temp = root / ".a.0123abcd.tmp.wav"
    save_audio(temp, 0.1 * torch.ones(1600), 16000)
    temp.write_bytes(temp.read_bytes()[:1000])  # truncated, still readable
    assert load_audio(temp)[0].numel() > 0
    save_audio(root / ".cache" / "b.wav", torch.zeros(16), 16000)
    save_audio(root / "sub" / "c.flac", torch.zeros(16), 16000)
    expected = [root / "a.wav", root / "sub" / "c.flac"]
    assert find_audio_files(root) == expected
    assert scan_audio(root) == expected
    assert find_audio_files(root, exclude=[root / "sub"]) == expected[:1]
    assert find_audio_files(temp) == [temp]


def test_audio_far_outside_unit_range_warns_naming_the_file(tmp_path):
    path = tmp_path / "loud.wav"
    x = 0.3 * torch.sin(torch.arange(1600) / 5.0)
    soundfile.write(str(path), (1000 * x).numpy(), 16000, subtype="FLOAT")
    with pytest.warns(AudioWarning, match=r"loud\.wav: samples reach 300"):
        wav, _ = load_audio(path)
    assert wav.abs().max() > 299  # used as it is
    soundfile.write(str(path), (3 * x).numpy(), 16000, subtype="FLOAT")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_audio(path)  # peak 0.9: no warning


def test_too_short_message_reads_right(tmp_path):
    """4409 samples against a minimum of 4410 must not read '0.1 s ...,
    the minimum is 0.1 s'."""
    path = tmp_path / "short.wav"
    save_audio(path, 0.1 * torch.ones(4409), 44100)
    with pytest.raises(AudioError) as err:
        load_audio(path, sample_rate=44100, min_samples=4410)
    text = str(err.value)
    assert "4409 samples, at least 4410" in text
    assert "(0.09998 s at 44100 Hz, the minimum is 0.1 s)" in text


def test_folder_and_rate_in_messages(tmp_path):
    with pytest.raises(AudioError, match="is a folder"):
        load_audio(tmp_path)
    path = tmp_path / "short.wav"
    save_audio(path, torch.zeros(441), 44100)  # 10 ms -> 160 at 16 kHz
    with pytest.raises(AudioError, match=r"160 samples.*16000 Hz.*0\.025 s"):
        load_audio(path, sample_rate=16000, min_samples=400)


def _bad_files(tmp_path):
    """One file per way a file can be wrong, with the expected message."""
    import soundfile

    (tmp_path / "text.wav").write_text("not audio")
    soundfile.write(str(tmp_path / "empty.wav"), torch.zeros(0).numpy(), 8000)
    nan = torch.zeros(800)
    nan[10] = float("nan")  # inside every window read below
    soundfile.write(str(tmp_path / "nan.wav"), nan.numpy(), 8000, "FLOAT")
    return {
        "text.wav": "not a readable audio file",
        "empty.wav": "audio is empty",
        "nan.wav": "NaN",
        "none.wav": "file not found",
    }


def test_one_reader_one_set_of_checks(tmp_path):
    """Whole-file, partial and interface reads share the checks/messages."""

    class Interface(AudioInterface):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.sample_rate = 16000

    interface = Interface(modules={}, hparams={})
    readers = {
        "load_audio": lambda p: load_audio(p, sample_rate=16000),
        "load_segment": lambda p: load_segment(p, 0, 100, 16000),
        "interface": interface.load_audio,
    }
    for name, message in _bad_files(tmp_path).items():
        for reader, read in readers.items():
            with pytest.raises(AudioError, match=message) as err:
                read(tmp_path / name)
            assert name in str(err.value), reader
    for name in ("text.wav", "empty.wav", "none.wav"):  # header checks
        with pytest.raises(AudioError, match=_bad_files(tmp_path)[name]):
            audio_info(tmp_path / name)
    with pytest.raises(AudioError, match="is a folder"):
        load_segment(tmp_path, 0, 10, 16000)


def test_stereo_other_rate_same_result_everywhere(tmp_path):
    t = torch.arange(4800) / 48000
    stereo = torch.stack([0.5 * torch.sin(2 * math.pi * 300 * t), 0.1 * t])
    path = tmp_path / "st48k.wav"
    save_audio(path, stereo, 48000)
    assert audio_info(path) == (4800, 48000, 2)
    assert audio_info(path).duration == pytest.approx(0.1)
    whole, sr = load_audio(path, sample_rate=16000)
    assert sr == 16000 and whole.shape == (1600,)
    seg = load_segment(path, 200, 1000, 16000)
    assert torch.allclose(seg, whole[200:1000], atol=1e-5)

    class Interface(AudioInterface):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.sample_rate, self.min_samples = 16000, 2000

    interface = Interface(modules={}, hparams={})
    with pytest.raises(AudioError, match="1600 samples.*at least 2000"):
        interface.load_audio(path)
    interface.min_samples = 1
    assert torch.equal(interface.load_audio(path), whole)


def test_save_audio_is_atomic(tmp_path, monkeypatch):
    """A write killed half-way leaves the earlier file whole, no temp file."""
    path = tmp_path / "out.wav"
    save_audio(path, 0.1 * torch.randn(8000), 16000)
    before = path.read_bytes()
    real_write = soundfile.write

    def write_part_then_die(file, data, *args, **kwargs):
        real_write(file, data[: len(data) // 4], *args, **kwargs)
        with open(file, "r+b") as handle:  # truncated mid-file
            handle.truncate(100)
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(soundfile, "write", write_part_then_die)
    with pytest.raises(KeyboardInterrupt):
        save_audio(path, 0.1 * torch.randn(16000), 16000)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav"]
    monkeypatch.undo()
    # a symlink at the path is replaced, never written through
    outside = tmp_path / "outside.wav"
    save_audio(outside, torch.zeros(160), 16000)
    outside_bytes = outside.read_bytes()
    link = tmp_path / "link.wav"
    link.symlink_to(outside)
    save_audio(link, 0.1 * torch.randn(800), 16000)
    assert not link.is_symlink() and outside.read_bytes() == outside_bytes
    assert load_audio(link)[0].shape == (800,)
