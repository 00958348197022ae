"""Audio modality: front end, crops, augmentations, readers, bad files, and the CLI end to end
(pretrain -> probe/embed/coreset -> ONNX from the raw waveform)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import soundfile as sf
import torch
import torchaudio

from sslctl.encoders.audio_cnn import AudioCNN
from sslctl.errors import UserError
from sslctl.jobs.export import compare_onnx, write_onnx
from sslctl.modalities.audio.augment import augment, gain, mixup, spec_augment
from sslctl.modalities.audio.frontend import LogMelFrontEnd
from sslctl.modalities.audio.modality import AudioModality, crop
from sslctl.modalities.audio.presets import AudioViewParams
from sslctl.modalities.audio.read import load_audio
from sslctl.modalities.audio.spec import AudioAugSpec, AudioDataSpec
from sslctl.sources.stream import StreamSettings
from sslctl.views import ViewPlan
from tests.conftest import cli, one_line_exit_2, small_recipe

RATE = 8000


def tone(freq: float, seconds: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def tone_folder(tmp_path):
    """Two classes of tones in wav/flac/ogg, stereo and other sample rates mixed in."""
    root = tmp_path / "tones"
    for label, base in (("high", 1200.0), ("low", 300.0)):
        (root / label).mkdir(parents=True)
        for i in range(12):
            wave = tone(base * (1 + 0.03 * i), 0.5 + 0.05 * i, 16000 if i % 3 == 0 else RATE)
            rate = 16000 if i % 3 == 0 else RATE
            if i % 4 == 1:
                wave = np.stack([wave, 0.5 * wave], axis=1)  # stereo: mixed to mono
            fmt = ["wav", "flac", "ogg"][i % 3]
            sf.write(root / label / f"{i}.{fmt}", wave, rate)
    return root


def audio_recipe(train: str, **sections) -> dict:
    data = {"modality": "audio", "train": train, "sample_rate": RATE, "clip_seconds": 0.5}
    data.update({"n_mels": 32, "win_length": 200, "hop_length": 80, "f_max": 3900})
    tree = small_recipe(
        data=data,
        encoder={"name": "audio_cnn", "kwargs": {"channels": 8, "dim": 32}},
        train={"epochs": 1, "batch_size": 8, "log_every": 1},
        probe={"train": train, "test": train},
    )
    tree["data"] = {**data, **sections.pop("data", {})}
    tree.update(sections)
    return tree


# ------------------------------------------------------------------ front end and views
def test_frontend_matches_torchaudio_melspectrogram():
    fe = LogMelFrontEnd(16000, 512, 400, 160, 64, 60.0, 7800.0)
    reference = torchaudio.transforms.MelSpectrogram(
        16000, n_fft=512, win_length=400, hop_length=160, n_mels=64, f_min=60.0, f_max=7800.0
    )
    wave = torch.randn(3, 16000) * 0.1
    expected = torch.log(reference(wave)[..., :100] + 1e-6)
    assert torch.allclose(fe.log_mel(wave), expected, atol=1e-4)
    out = fe(wave)
    assert out.shape == (3, 1, 64, 100)
    assert fe(out) is out  # spectrogram views pass straight through


def test_crop_stays_inside_each_clip_and_centres_for_eval():
    x = torch.full((3, 10), float("nan"))
    x[0, :10] = torch.arange(10.0)
    x[1, :6] = torch.arange(6.0)
    x[2, :2] = torch.tensor([5.0, 6.0])
    torch.manual_seed(0)
    for _ in range(20):
        out = crop(x, 4, random=True)
        start = out[0, 0]
        assert torch.equal(out[0], torch.arange(start, start + 4))  # a window of clip 0
        assert 0 <= out[1, 0] <= 2 and torch.equal(out[1], torch.arange(out[1, 0], out[1, 0] + 4))
        assert torch.equal(out[2], torch.tensor([5.0, 6.0, 0.0, 0.0]))  # zero-padded
    assert torch.equal(crop(x, 4, random=False)[0], torch.arange(3.0, 7.0))
    assert crop(x, 12, random=False).shape == (3, 12)


def test_augmentations_are_batched_and_do_what_they_say():
    torch.manual_seed(0)
    spec = torch.randn(16, 1, 32, 50)
    assert torch.equal(mixup(spec, 0.0, 4.0), spec)
    mixed = mixup(spec, 0.4, 4.0)
    # log-sum-exp mixing never drops below the clip's own (1 - ratio) share
    assert (mixed * 4.0 >= spec * 4.0 + np.log(0.6) - 1e-4).all()
    masked = spec_augment(spec, AudioViewParams(time_masks=2, time_mask_width=0.1, freq_masks=0))
    zero_frames = (masked == 0).all(dim=2).squeeze(1).sum(1)
    assert zero_frames.max() <= 10 and zero_frames.sum() > 0
    shifted = gain(spec, 6.0, 0.0, log_scale=1.0)
    offset = (shifted - spec).mean(dim=(1, 2, 3))
    assert offset.abs().max() <= 6 * np.log(10) / 10 + 1e-5 and offset.std() > 0
    view = augment(spec, AudioViewParams(), log_scale=4.0)
    assert view.shape == spec.shape and torch.isfinite(view).all()
    assert not torch.equal(view, augment(spec, AudioViewParams(), log_scale=4.0))


def test_audio_cnn_v2_stacks_conv_features_with_the_mlp():
    """AudioNTT2022 (conv_layers=2, stack): the embedding is [conv features, MLP output] per
    frame, max + mean pooled over time, `dim` wide in all."""
    torch.manual_seed(0)
    net = AudioCNN(32, channels=8, dim=96, conv_layers=2, stack=True).eval()
    spec = torch.randn(3, 1, 32, 40)
    out = net(spec)
    conv = net.features(spec).permute(0, 3, 1, 2).reshape(3, 10, 64)  # 8 channels x 8 mels
    assert out.shape == (3, 96)
    assert torch.allclose(out[:, :64], conv.amax(1) + conv.mean(1), atol=1e-6)
    with pytest.raises(TypeError, match="dim > the conv features' width 64"):
        AudioCNN(32, channels=8, dim=64, conv_layers=2, stack=True)


def test_local_windows_are_stretches_of_each_clip():
    from sslctl.modalities.audio.augment import local_window

    frames = torch.arange(100.0).expand(8, 1, 4, 100)  # every mel band holds the frame index
    window = local_window(frames + torch.arange(8.0).view(8, 1, 1, 1) * 1000, 0.3)
    assert window.shape == (8, 1, 4, 30)
    start = window[:, 0, 0, 0] % 1000
    expected = (
        start.view(8, 1, 1, 1) + torch.arange(30.0) + torch.arange(8.0).view(8, 1, 1, 1) * 1000
    )
    assert torch.equal(window, expected.expand(8, 1, 4, 30))  # clip i's own frames, in order
    assert (start >= 0).all() and (start <= 70).all()


def test_views_follow_the_plan_and_presets(tone_folder):
    data = AudioDataSpec.model_validate(audio_recipe(str(tone_folder))["data"])
    samples = AudioModality.load_training_samples(data)
    modality = AudioModality.for_training(data, samples)
    x = modality.batch(samples, torch.arange(6), torch.device("cpu"))
    assert x.shape == (6, 4000) and torch.isfinite(x).all()
    views = modality.views(x, ViewPlan(n_global=2, n_local=3, kind="multi-crop"))
    assert len(views) == 5 and all(v.shape == (6, 1, 32, 50) for v in views[:2])
    assert all(v.shape == (6, 1, 32, 21) for v in views[2:])  # 96/224 of the frames, all mels
    assert [n for _, n in views.groups()] == [2, 3]
    clean = modality.views(x, ViewPlan(n_global=1, kind="masked"))[0]
    assert torch.allclose(clean, modality.frontend(x))  # masked modelling sees the plain log-mel
    assert abs(float(modality.frontend(x).mean())) < 1.0  # standardised with the train stats
    byol_a = AudioModality(modality.input_spec, AudioAugSpec(preset="byol-a"))
    pair = torch.stack(byol_a.views(x, ViewPlan(n_global=2, kind="asymmetric")))
    assert abs(float(pair.mean())) < 1e-5 and abs(float(pair.std()) - 1) < 1e-5  # Post-Norm
    assert not torch.allclose(pair[0].std(), pair[1].std())  # together, not view by view
    crops = byol_a.views(
        x, ViewPlan(n_global=2, n_local=2, local_size_ratio=0.5, kind="multi-crop")
    )
    flat = torch.cat([v.flatten() for v in crops])  # shorter local views join the Post-Norm
    assert crops[2].shape[-1] == 25 and abs(float(flat.mean())) < 1e-5


# ------------------------------------------------------------------ readers and bad input
def read_folder(root, rate, max_samples, on_error):
    """The folder decoded into memory, as `data.cache: memory` holds it."""
    stream = StreamSettings(cache="memory", on_decode_error=on_error)
    samples = load_audio(str(root), rate, max_samples, stream, workers=0)
    return samples.x.numpy(), None if samples.y is None else samples.y.numpy()


def test_folder_reader_resamples_mixes_and_labels(tone_folder):
    x, y = read_folder(tone_folder, RATE, 10 * RATE, "fail")
    assert x.shape[0] == 24 and sorted(set(y.tolist())) == [0, 1]
    lengths = (~np.isnan(x)).sum(1)
    assert lengths.min() == int(0.5 * RATE) and lengths.max() == int(1.05 * RATE)


def test_npz_reader_converts_int16_and_rate(tmp_path):
    from sslctl.modalities.audio.read import read_npz

    wave = (tone(440, 1.0, 16000) * 32767).astype(np.int16)
    np.savez(tmp_path / "a.npz", x=np.stack([wave, wave]), y=np.array([0, 1]), sample_rate=16000)
    x, y = read_npz(tmp_path / "a.npz", RATE, 10 * RATE)
    assert x.shape == (2, RATE) and np.abs(x).max() < 0.31 and y.tolist() == [0, 1]
    np.savez(tmp_path / "b.npz", x=np.zeros((2, 3, 4, 5)))
    with pytest.raises(UserError, match="b.npz: x must be"):
        read_npz(tmp_path / "b.npz", RATE, RATE)


@pytest.mark.parametrize(
    "problem, content, message",
    [
        ("corrupt", b"RIFF\x00\x00\x00\x00WAVEfmt garbage", "cannot decode audio"),
        ("empty", None, "zero length"),
    ],
)
def test_bad_audio_file_is_named_and_exits_2(tone_folder, write_recipe, problem, content, message):
    bad = tone_folder / "low" / f"{problem}.wav"
    if content is None:
        sf.write(bad, np.zeros(0, dtype=np.float32), RATE)
    else:
        bad.write_bytes(content)
    proc = cli("pretrain", write_recipe(audio_recipe(str(tone_folder))), "--out", "/nonexistent")
    one_line_exit_2(proc, str(bad))
    assert message in proc.stderr


def test_skip_policy_counts_undecodable_files(tone_folder):
    (tone_folder / "low" / "bad.ogg").write_bytes(b"not audio at all")
    x, _ = read_folder(tone_folder, RATE, RATE, "skip")
    assert len(x) == 24
    with pytest.raises(UserError, match="bad.ogg: cannot decode"):
        read_folder(tone_folder, RATE, RATE, "fail")


def test_folder_without_audio_exits_2(tmp_path, write_recipe):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no audio here")
    proc = cli("pretrain", write_recipe(audio_recipe(str(tmp_path / "notes"))))
    one_line_exit_2(proc, "notes: no audio files")


# ------------------------------------------------------------------ CLI end to end
@pytest.fixture(scope="module")
def audio_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("audio")
    folder = root / "tones"
    for label, base in (("high", 1200.0), ("low", 300.0)):
        (folder / label).mkdir(parents=True)
        for i in range(16):
            sf.write(folder / label / f"{i}.wav", tone(base * (1 + 0.02 * i), 0.7), RATE)
    recipe = root / "r.yaml"
    recipe.write_text(
        json.dumps(
            audio_recipe(
                str(folder),
                data={"augment": {"preset": "byol-a"}},
                method={"name": "byol", "proj_hidden": 32, "proj_dim": 16},
            )
        )
    )
    cli("pretrain", recipe, "--out", root / "run", "--quiet", check=True)
    return root / "run"


def test_audio_run_probes_embeds_and_picks_coresets(audio_run):
    info = json.loads((audio_run / "encoder.json").read_text())
    assert info["input"]["modality"] == "audio" and info["input"]["clip_samples"] == 4000
    assert info["input"]["std"] > 0  # dataset statistics stored with the encoder
    result = json.loads(cli("probe", audio_run, "--json", check=True).stdout)
    assert result["n_train"] == 32 and result["dim"] == 32
    out = audio_run.parent / "emb.npz"
    cli(
        "embed",
        audio_run,
        "--data",
        audio_run.parent / "tones",
        "--out",
        out,
        check=True,
    )
    assert np.load(out)["x"].shape == (32, 32)
    picked = cli(
        "coreset", audio_run, "--data", audio_run.parent / "tones", "--budget", "5", check=True
    )
    assert len(picked.stdout.split()) == 5


def test_onnx_from_raw_waveform_matches_pytorch(audio_run, tmp_path):
    proc = cli("export", audio_run, "--out", tmp_path / "a.onnx", check=True)
    assert "L2-normalised" in proc.stderr
    model = onnx.load(tmp_path / "a.onnx")
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and dims[1].dim_value == 4000  # (batch, samples)
    from sslctl.rundir import load_run

    run = load_run(audio_run)
    frontend = run.encoder.normalize  # waveform -> standardised log-mel
    write_onnx(frontend, run.modality.export_example(2), tmp_path / "fe.onnx", {}, "logmel")
    assert (
        compare_onnx(frontend, run.modality.export_checks(), tmp_path / "fe.onnx")["max_abs_diff"]
        < 1e-3
    )
    diffs = compare_onnx(run.encoder, run.modality.export_checks(), tmp_path / "a.onnx")
    assert diffs["max_abs_diff_l2_normalised"] < 1e-4


@pytest.mark.parametrize(
    "method, encoder",
    [
        (
            {"name": "mae", "decoder_dim": 32, "decoder_depth": 1, "decoder_heads": 2},
            {
                "name": "vit_tiny_patch16_224",
                # the shipped recipe's pooling: mean of the final-norm patch tokens
                "kwargs": {
                    "patch_size": [8, 10],
                    "depth": 2,
                    "global_pool": "avg",
                    "fc_norm": False,
                },
            },
        ),
        (
            {
                "name": "dino",
                "out_dim": 64,
                "hidden_dim": 32,
                "bottleneck_dim": 16,
                "local_crops": 2,
            },
            {"name": "audio_cnn", "kwargs": {"channels": 8, "dim": 32}},
        ),
    ],
    ids=["masked-spectrogram", "dino"],
)
def test_other_methods_train_on_audio(tone_folder, write_recipe, tmp_path, method, encoder):
    tree = audio_recipe(str(tone_folder), method=method, encoder=encoder)
    cli("pretrain", write_recipe(tree), "--out", tmp_path / "r", "--quiet", check=True)
    rows = [
        json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()
    ]
    assert rows and all(np.isfinite(r["loss"]) for r in rows)


# ------------------------------------------------------------------ builtin sets
def test_builtin_gm_instruments_holds_out_instruments(tmp_path, monkeypatch):
    from sslctl.modalities.audio.builtin import load_builtin_audio

    monkeypatch.setenv("SSLCTL_CACHE", str(tmp_path))
    (xtr, ytr), (xte, yte) = (
        load_builtin_audio(f"builtin:gm-instruments:{s}") for s in ("train", "test")
    )
    assert xtr.shape[1] == xte.shape[1] == 16000
    assert sorted(set(ytr.tolist())) == sorted(set(yte.tolist())) == list(range(16))
    assert 0.15 < len(xte) / (len(xtr) + len(xte)) < 0.25
    # no test clip is a copy of a training clip: whole instruments are held out
    a = torch.nn.functional.normalize(torch.from_numpy(np.nan_to_num(xtr)), dim=1)
    b = torch.nn.functional.normalize(torch.from_numpy(np.nan_to_num(xte)), dim=1)
    assert float((b @ a.T).max()) < 0.999
    again = load_builtin_audio("builtin:gm-instruments:test")  # from the cache, identical
    assert np.array_equal(np.nan_to_num(again[0]), np.nan_to_num(xte))


def test_builtin_needs_its_debian_tool(tmp_path, monkeypatch):
    import shutil

    from sslctl.modalities.audio.builtin import load_builtin_audio

    monkeypatch.setenv("SSLCTL_CACHE", str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(UserError, match="sudo apt-get install -y espeak-ng"):
        load_builtin_audio("builtin:spoken-digits")
    with pytest.raises(UserError, match="valid: spoken-digits, gm-instruments"):
        load_builtin_audio("builtin:birdsong")


def student_recipe(teacher: Path, **data) -> dict:
    """A smaller audio_cnn distilled from `teacher` on the teacher's folder."""
    student = audio_recipe(
        str(teacher.parent / "tones"),
        method={"name": "distill"},
        teacher={"run": str(teacher)},
        encoder={"name": "audio_cnn", "kwargs": {"channels": 4, "dim": 16}},
    )
    student["data"].update(data)
    return student


def test_distill_student_standardises_its_views_as_the_teacher_did(
    audio_run, write_recipe, tmp_path
):
    # shorter clips than the teacher's: on its own the student would fit other statistics
    recipe = write_recipe(student_recipe(audio_run, clip_seconds=0.3))
    cli("distill", recipe, "--out", tmp_path / "d", "--quiet", check=True)
    teacher = json.loads((audio_run / "encoder.json").read_text())["input"]
    student = json.loads((tmp_path / "d" / "encoder.json").read_text())["input"]
    assert student["clip_samples"] == 2400 != teacher["clip_samples"]
    assert (student["mean"], student["std"]) == (teacher["mean"], teacher["std"])
    result = json.loads(cli("probe", tmp_path / "d", "--json", check=True).stdout)
    assert result["n_train"] == 32 and result["dim"] == 16


@pytest.mark.parametrize("field, value", [("n_mels", 16), ("hop_length", 40)])
def test_distill_refuses_a_log_mel_unlike_the_teachers(
    audio_run, write_recipe, tmp_path, field, value
):
    recipe = write_recipe(student_recipe(audio_run, **{field: value}))
    proc = cli("distill", recipe, "--out", tmp_path / "d")
    one_line_exit_2(proc, f"{field} = ")
    assert proc.stderr.startswith("error: teacher.run:")
    assert not (tmp_path / "d").exists()


def test_streamed_audio_reads_a_window_of_each_file(tmp_path):
    from sslctl.modalities.audio.decode import AudioClipDecoder

    ramp = np.linspace(-0.5, 0.5, 30 * RATE, dtype=np.float32)  # 30 s: position = value
    sf.write(tmp_path / "long.flac", ramp, RATE)
    decoder = AudioClipDecoder(RATE, RATE // 2)

    def window(rng):
        with open(tmp_path / "long.flac", "rb") as fh:
            return decoder(fh, rng)[0]

    centre, a, b = window(None), window(np.random.default_rng(0)), window(np.random.default_rng(0))
    assert centre.shape == (RATE // 2,) and abs(float(centre.mean())) < 0.01
    assert np.array_equal(a, b) and not np.allclose(a, centre, atol=1e-3)


def test_streamed_audio_folder_trains_and_probes(tone_folder, write_recipe, tmp_path):
    tree = audio_recipe(str(tone_folder), data={"cache": "stream"})
    tree["train"]["num_workers"] = 2
    run = tmp_path / "run"
    proc = cli("pretrain", write_recipe(tree), "--out", run, check=True)
    assert "data: 24 audio files streamed from disk" in proc.stderr
    result = json.loads(cli("probe", run, "--json").stdout)
    assert result["n_train"] == 24 and result["n_test"] == 24
