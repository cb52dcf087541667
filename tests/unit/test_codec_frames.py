"""One source for the codec frame geometry (codecs.base.codec_frames)."""

import torch

from speechbrain_masksr.codecs.base import codec_frames
from speechbrain_masksr.codecs.dac import (
    DAC_HOP_LENGTH,
    DAC_SAMPLE_RATE,
    TINY_DAC_KWARGS,
    DACTokenizer,
    save_tiny_dac,
)
from speechbrain_masksr.data.token_cache import pad_to_multiple
from speechbrain_masksr.lobes.speech_encoder import SpeechEncoder
from speechbrain_masksr.lobes.transformer import relative_to_frame_lengths


def test_constants_match_the_dac_model():
    assert (DAC_SAMPLE_RATE, DAC_HOP_LENGTH) == (44100, 512)
    assert TINY_DAC_KWARGS["sample_rate"] == DAC_SAMPLE_RATE
    strides = 1
    for rate in TINY_DAC_KWARGS["encoder_rates"]:
        strides *= rate
    assert strides == DAC_HOP_LENGTH


def test_codec_frames_values():
    assert [codec_frames(n, 512) for n in (0, 1, 511, 512, 513, 44100)] == [
        0,
        1,
        1,
        1,
        2,
        87,
    ]
    assert codec_frames(7, hop_length=3) == 3
    out = codec_frames(torch.tensor([0, 1, 512, 513, 44100]), 512)
    assert out.dtype == torch.long
    assert out.tolist() == [0, 1, 1, 2, 87]


def test_every_user_agrees(tmp_path):
    codec = DACTokenizer(load_path=save_tiny_dac(tmp_path / "w.pth"))
    encoder = SpeechEncoder(32, 1, 4, hop_length=codec.hop_length)
    for n in (1, 511, 512, 513, 5000, 44100):
        assert codec.num_frames(n) == codec_frames(n, DAC_HOP_LENGTH)
        assert encoder.num_frames(n) == codec_frames(n, DAC_HOP_LENGTH)
        padded = pad_to_multiple(torch.ones(n), DAC_HOP_LENGTH).shape[-1]
        assert padded == codec_frames(n, DAC_HOP_LENGTH) * DAC_HOP_LENGTH
        assert codec.encode(torch.zeros(1, n)).shape[-1] == codec_frames(
            n, DAC_HOP_LENGTH
        )
    frames = relative_to_frame_lengths(
        torch.tensor([1.0, 0.5, 513 / 5000]),
        5000,
        codec_frames(5000, DAC_HOP_LENGTH),
        DAC_HOP_LENGTH,
    )
    assert frames.tolist() == [10, 5, 2]
