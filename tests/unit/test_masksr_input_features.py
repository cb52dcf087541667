"""MaskSR input-feature options (paper appendix, Table 5) at the lobe level.

* ``"waveform"``: a learned 1-D convolution front end (kernel 2048, stride
  512, ReLU, LayerNorm, Linear) whose frames are the codec's frames, then
  the same transformer blocks as the STFT encoder;
* ``"dac"``: summed embeddings of the DAC tokens of the degraded input (no
  speech encoder);
* ``"stft"`` stays the default, with unchanged checkpoint keys.

Authors
 * speechbrain-masksr contributors 2026
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from speechbrain_masksr.codecs.base import codec_frames
from speechbrain_masksr.codecs.dac import DACTokenizer
from speechbrain_masksr.lobes.codec_lm import MaskedCodecLM
from speechbrain_masksr.lobes.masksr import build_masksr
from speechbrain_masksr.lobes.speech_encoder import (
    CodecTokenConditioner,
    SpeechEncoder,
    build_speech_encoder,
)
from speechbrain_masksr.lobes.transformer import TransformerStack

#: Lengths around frame boundaries, short and long.
LENGTHS = (1, 300, 511, 512, 513, 1000, 1025, 2048, 5121, 22050)


@pytest.fixture(scope="module")
def codec(tiny_dac_path):
    return DACTokenizer(load_path=tiny_dac_path)


def waveform_encoder(channels=32, d=16, layers=1, seed=0):
    torch.manual_seed(seed)
    return SpeechEncoder(
        d_model=d,
        num_layers=layers,
        nhead=2,
        hop_length=512,
        front_end="waveform",
        conv_channels=channels,
    ).eval()


def test_waveform_frames_are_the_codec_frames(codec):
    enc = waveform_encoder(channels=8)
    for n in LENGTHS:
        wav = 0.1 * torch.randn(2, n)
        frames = codec_frames(n, codec.hop_length)
        assert enc.num_frames(n) == frames
        assert enc.features(wav).shape == (2, frames, 8)
        assert enc(wav).shape == (2, frames, 16)
        assert codec.encode(wav).shape == (2, 9, frames)


def test_waveform_front_end_values_and_frame_window():
    enc = waveform_encoder()
    conv = enc.conv
    assert (conv.in_channels, conv.out_channels) == (1, 32)
    assert conv.kernel_size == (2048,) and conv.stride == (512,)
    wav = torch.randn(1, 3000)  # 6 frames
    # 3000 -> 3072 (whole frames), plus 2048 - 512 = 1536 split evenly
    padded = F.pad(wav, (768, 72 + 768))
    expected = F.relu(
        F.conv1d(padded[:, None], conv.weight, conv.bias, stride=512)
    ).transpose(1, 2)
    assert expected.shape == (1, 6, 32)
    feats = enc.features(wav)
    assert torch.allclose(feats, expected, atol=1e-5)
    # frame 3 sees [3 * 512 - 768, 3 * 512 + 1280) = [768, 2816): centred
    # on its own codec samples [1536, 2048)
    for pos, inside in ((767, False), (768, True), (2815, True), (2816, False)):
        other = wav.clone()
        other[0, pos] += 1.0
        changed = not torch.equal(enc.features(other)[0, 3], feats[0, 3])
        assert changed == inside, pos


def test_waveform_projection_and_shared_transformer_blocks():
    enc = waveform_encoder(channels=32, d=16, layers=2)
    norm, linear = enc.mlp
    assert isinstance(norm, nn.LayerNorm) and norm.normalized_shape == (32,)
    assert isinstance(linear, nn.Linear)
    assert (linear.in_features, linear.out_features) == (32, 16)
    with torch.no_grad():
        for p in enc.parameters():  # non-trivial LayerNorm affine
            p.add_(0.1 * torch.randn_like(p))
    wav = torch.randn(2, 4000)
    feats = enc.features(wav)
    assert bool((feats >= 0).all()) and bool((feats == 0).any())  # ReLU
    normed = F.layer_norm(feats, (32,), norm.weight, norm.bias)
    expected = enc.transformer(normed @ linear.weight.t() + linear.bias)
    assert torch.allclose(enc(wav), expected, atol=1e-5)
    # the same transformer stack (class and parameters) as the STFT encoder
    stft = SpeechEncoder(d_model=16, num_layers=2, nhead=2, hop_length=512)
    assert type(enc.transformer) is type(stft.transformer) is TransformerStack
    shapes = {k: v.shape for k, v in enc.transformer.state_dict().items()}
    assert shapes == {
        k: v.shape for k, v in stft.transformer.state_dict().items()
    }


def test_stft_default_keeps_its_checkpoint_keys():
    enc = SpeechEncoder(d_model=16, num_layers=1, nhead=2, hop_length=512)
    assert enc.input_features == "stft"
    keys = enc.state_dict()
    assert keys["mlp.0.weight"].shape == (16, 1025)
    assert keys["mlp.2.weight"].shape == (16, 16)
    assert not any(k.startswith("conv.") for k in keys)
    lm = MaskedCodecLM(3, 8, d_model=16, num_layers=1, nhead=2)
    emb_keys = sorted(k for k in lm.state_dict() if k.startswith("emb"))
    assert emb_keys == [f"embeddings.{q}.weight" for q in range(3)]
    tokens = torch.tensor([[[8, 1], [2, 3], [7, 8]]])
    expected = sum(lm.embeddings[q].weight[tokens[0, q]] for q in range(3))
    assert torch.equal(lm.embed(tokens)[0], expected)


def test_dac_conditioner_sums_the_embeddings_of_its_input_tokens(codec):
    torch.manual_seed(0)
    cond = CodecTokenConditioner(codec, d_model=16)
    wavs = 0.1 * torch.randn(2, 3000)
    tokens = codec.encode(wavs)
    out = cond(wavs)
    expected = sum(cond.embeddings[q].weight[tokens[:, q]] for q in range(9))
    assert out.shape == (2, 6, 16)
    assert torch.allclose(out, expected, atol=1e-6)
    # another input: other tokens, another condition
    other = cond(0.1 * torch.randn(2, 3000))
    assert not torch.allclose(other, out)
    for n in LENGTHS:
        assert cond(0.1 * torch.randn(1, n)).shape == (
            1,
            codec_frames(n, 512),
            16,
        )
    # the frozen codec is referenced, not a parameter or a checkpoint entry
    assert cond.codec is codec
    assert sorted(cond.state_dict()) == [
        f"embeddings.{q}.weight" for q in range(9)
    ]
    assert sum(p.numel() for p in cond.parameters()) == 9 * 1024 * 16
    # summed tables: about unit variance per channel
    assert 0.8 < float(out.std()) < 1.2
    assert cond.num_layers == 0 and cond.input_features == "dac"


def test_dac_conditioner_checks_its_codec(codec, tiny_dac_path):
    with pytest.raises(TypeError, match="needs the codec"):
        build_speech_encoder("dac", d_model=16)
    empty = DACTokenizer(load_pretrained=False)
    # no default geometry: an empty codec cannot give it
    with pytest.raises(TypeError, match="n_codebooks, codebook_size"):
        CodecTokenConditioner(empty, d_model=16)
    dac = dict(n_codebooks=9, codebook_size=1024, hop_length=512)
    with pytest.raises(RuntimeError, match="no weights yet"):
        CodecTokenConditioner(empty, d_model=16, **dac)(torch.zeros(1, 512))
    # weights loaded after construction (as the model-folder pretrainer
    # does) are used
    late = CodecTokenConditioner(empty, d_model=16, **dac)
    empty.load_weights(tiny_dac_path)
    wav = 0.1 * torch.randn(1, 1024)
    assert torch.equal(late.tokenize(wav), codec.encode(wav))
    wrong = CodecTokenConditioner(codec, d_model=16, n_codebooks=8)
    with pytest.raises(ValueError, match=r"\(9, 1024, 512\)"):
        wrong(torch.zeros(1, 512))


def test_build_speech_encoder_options(codec):
    kw = dict(d_model=16, num_layers=1, nhead=2, conv_channels=8)
    with pytest.raises(TypeError, match="needs hop_length"):
        build_speech_encoder("stft", **kw)
    # the hop is the codec's: given, or read from the codec
    assert build_speech_encoder("stft", codec=codec, **kw).hop_length == 512
    kw["hop_length"] = 512
    stft = build_speech_encoder("stft", **kw)
    wave = build_speech_encoder("waveform", **kw)
    dac = build_speech_encoder("dac", codec=codec, **kw)
    assert [e.input_features for e in (stft, wave, dac)] == [
        "stft",
        "waveform",
        "dac",
    ]
    assert isinstance(dac, CodecTokenConditioner) and dac.codec is codec
    assert [e.num_layers for e in (stft, wave, dac)] == [1, 1, 0]
    with pytest.raises(ValueError, match="conv_kernel"):
        build_speech_encoder("waveform", conv_kernel=256, **kw)


def test_masksr_dac_input_conditions_on_the_degraded_tokens(codec):
    torch.manual_seed(0)
    model = build_masksr(
        d_model=16,
        lm_layers=2,
        nhead=2,
        input_features="dac",
        codec=codec,
        dropout=0.0,
    ).eval()
    # no geometry given: the codec's
    geometry = (
        model.n_codebooks,
        model.codebook_size,
        model.encoder.hop_length,
    )
    assert geometry == (9, 1024, 512)
    assert len(model.lm.transformer.layers) == 2
    clean = 0.1 * torch.randn(2, 2560)
    degraded = clean + 0.1 * torch.randn(2, 2560)
    targets = codec.encode(clean)
    seen = []
    model.lm.register_forward_pre_hook(lambda m, args: seen.append(args[1]))
    out = model(degraded, targets)
    expected = model.encoder.embeddings(codec.encode(degraded))
    assert torch.allclose(seen[0], expected, atol=1e-6)
    assert not torch.allclose(
        seen[0], model.encoder.embeddings(targets), atol=1e-3
    )
    loss, _ = model.loss(out["logits"], targets, out["mask"])
    assert 6.0 < float(loss) < 8.0  # about log(1024) untrained
    # generation: one LM call per step on [cond; null], 5 frames
    seen.clear()
    tokens = model.generate(degraded, steps=3, guidance=0.3, seed=0)
    assert tokens.shape == (2, 9, 5) and len(seen) == 3
    assert torch.allclose(seen[0][:2], expected, atol=1e-6)
    assert torch.equal(seen[0][2:], model.lm.null_cond(2, 5))
