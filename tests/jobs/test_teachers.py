"""Teachers from anywhere: a run, a timm weights file in timm's own layout (a user's
download, or `sslctl export --format timm`), an ONNX file, a random init; several students
from one teacher pass; bad teachers refused in one line with nothing written."""

from __future__ import annotations

import json

import pytest
import timm
import torch
from safetensors.torch import load_file, save_file

from sslctl.modalities.image.modality import ImageModality
from sslctl.specs.teachers.timm_file import TimmTeacherSpec
from sslctl.teachers.base import teacher_kind
from tests.conftest import cli, one_line_exit_2, small_recipe

VIT = {"name": "vit_tiny_patch16_224", "kwargs": {"patch_size": 4}}


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory):
    """resnet10t pretrained briefly on digits (16 px), exported as ONNX and in timm's layout."""
    root = tmp_path_factory.mktemp("teacher")
    recipe = root / "r.yaml"
    import yaml

    tree = small_recipe(encoder={"name": "resnet10t"}, train={"steps": 6})
    recipe.write_text(yaml.safe_dump(tree))
    cli("pretrain", recipe, "--out", root / "run", "--quiet", check=True)
    cli("export", root / "run", check=True)
    cli("export", root / "run", "--format", "timm", check=True)
    return root / "run"


def distill_recipe(teacher: dict, **sections) -> dict:
    """A 4-step distill into resnet10t with v3's global loss (`sections` override)."""
    base = {
        "encoder": {"name": "resnet10t"},
        "method": {"name": "distill", "losses": {"queue_kl": 1.0}},
        "teacher": teacher,
        "train": {"steps": 4, **sections.pop("train", {})},
    }
    return small_recipe(**{**base, **sections})


def test_timm_export_loads_in_timm_as_it_is(teacher_run):
    """`timm.create_model(..., pretrained_cfg_overlay={"file": ...})` takes the export, and
    gives the run's embeddings on the run's normalised input."""
    from sslctl.rundir import load_run

    path = teacher_run / "model.safetensors"
    model = timm.create_model(
        "resnet10t", pretrained=True, pretrained_cfg_overlay={"file": str(path)}, num_classes=0,
        in_chans=1,
    ).eval()  # fmt: skip
    run = load_run(teacher_run)
    x = torch.rand(4, 1, 16, 16)
    with torch.inference_mode():
        torch.testing.assert_close(model(run.encoder.normalize(x)), run.encoder(x))
    meta = json.loads(load_file_meta(path)["mean"])
    assert meta == pytest.approx(run.encoder.normalize.mean.flatten().tolist())


def load_file_meta(path) -> dict:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        return fh.metadata()


def test_every_teacher_kind_of_one_model_gives_the_same_targets(
    teacher_run, write_recipe, tmp_path
):
    """The run, its timm export and its ONNX export are one teacher: a distill step from
    each logs the same loss; each student directory is a run probe and export take."""
    kinds = {
        "run": {"run": str(teacher_run)},
        "timm": {"timm": "resnet10t", "weights": str(teacher_run / "model.safetensors")},
        "onnx": {"onnx": str(teacher_run / "encoder.onnx")},
    }
    losses = {}
    for kind, teacher in kinds.items():
        out = tmp_path / kind
        cli("distill", write_recipe(distill_recipe(teacher), f"{kind}.yaml"), "--out", out,
            "--quiet", check=True)  # fmt: skip
        log = (out / "metrics.jsonl").read_text().splitlines()
        losses[kind] = [json.loads(line)["loss"] for line in log]
    assert losses["timm"] == pytest.approx(losses["run"], rel=1e-4)
    assert losses["onnx"] == pytest.approx(losses["run"], rel=1e-4)
    probe = json.loads(cli("probe", tmp_path / "onnx", "--json", "--protocol", "knn").stdout)
    assert probe["knn_top1"] > 20


def test_a_downloaded_timm_vit_file_loads_as_a_teacher(tmp_path):
    """A timm ViT's state_dict saved with safetensors (random weights, classifier included,
    as in a model repository's model.safetensors) is the teacher: its class token is the
    pooled target and its patch tokens the token map."""
    torch.manual_seed(0)
    vit = timm.create_model("vit_tiny_patch16_224", img_size=16, patch_size=4, num_classes=10)
    save_file(
        {k: v.contiguous() for k, v in vit.state_dict().items()}, tmp_path / "model.safetensors"
    )
    spec = TimmTeacherSpec(
        timm="vit_tiny_patch16_224", weights=str(tmp_path / "model.safetensors"),
        kwargs={"patch_size": 4}, pool="cls", mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25],
    )  # fmt: skip
    input_spec = {"modality": "image", "channels": 3, "image_size": 16, "mean": [0.0] * 3,
                  "std": [1.0] * 3}  # fmt: skip
    teacher = teacher_kind(spec).load(ImageModality(input_spec), seed=0).teacher
    x = torch.rand(2, 3, 16, 16)
    out = teacher(x)
    with torch.inference_mode():
        tokens = vit.eval().forward_features((x - 0.5) / 0.25)
    torch.testing.assert_close(out.pooled, tokens[:, 0])
    torch.testing.assert_close(out.tokens, tokens[:, 1:])
    assert out.grid == (4, 4) and teacher.embed_dim == teacher.token_dim == 192


@pytest.mark.slow
def test_several_students_resume_exactly(teacher_run, write_recipe, tmp_path):
    """Two students from one teacher pass, each its own run directory; a run stopped after 3
    steps and resumed to 6 ends where the 6-step run does, for both students."""
    students = [{"name": "cnn", "encoder": {"name": "resnet10t"}}, {"name": "vit", "encoder": VIT}]

    def tree(steps: int, watched: dict | None = None) -> dict:
        t = distill_recipe({"run": str(teacher_run)}, optim={"schedule": "constant"},
                           train={"steps": steps, "log_every": 1, **(watched or {})})  # fmt: skip
        t["method"]["losses"] = {"queue_kl": 1.0, "token_kl": 1.0}
        del t["encoder"]
        return {**t, "students": students}

    # the uninterrupted run is also judged online, each student on its own
    watched = {"eval_every": 3, "eval_samples": 200}
    full = cli("distill", write_recipe(tree(6, watched), "full.yaml"), "--out", tmp_path / "full",
               "--quiet", check=True)  # fmt: skip
    assert full.stdout.split() == [str(tmp_path / "full" / n) for n in ("cnn", "vit")]
    part = tmp_path / "part"
    cli("distill", write_recipe(tree(3), "part.yaml"), "--out", part, "--quiet", check=True)
    cli("distill", write_recipe(tree(6), "more.yaml"), "--out", part, "--resume", "--quiet",
        check=True)  # fmt: skip
    for name in ("cnn", "vit"):
        a = load_file(tmp_path / "full" / name / "encoder.safetensors")
        b = load_file(part / name / "encoder.safetensors")
        for key in a:
            torch.testing.assert_close(b[key], a[key], rtol=1e-4, atol=1e-5, msg=f"{name} {key}")
        log = (part / name / "metrics.jsonl").read_text().splitlines()
        assert [json.loads(x)["step"] for x in log] == [1, 2, 3, 4, 5, 6]
    judged = {}
    for name in ("cnn", "vit"):
        log = [
            json.loads(x)
            for x in (tmp_path / "full" / name / "metrics.jsonl").read_text().splitlines()
        ]
        judged[name] = [(r["step"], r["knn_top1"], r["rankme"]) for r in log if "knn_top1" in r]
        assert [step for step, *_ in judged[name]] == [3, 6]
    assert judged["cnn"] != judged["vit"]  # each student judged, not the first one twice
    probe = cli("probe", tmp_path / "full" / "vit", "--json", "--protocol", "knn", check=True)
    assert json.loads(probe.stdout)["dim"] == 192
    one_line_exit_2(cli("probe", tmp_path / "full"), "full: holds distilled students, each a run")


def test_random_teacher_starts_the_student_as_its_copy(write_recipe, tmp_path):
    teacher = {"random": {"encoder": {"name": "resnet10t"}}}
    zero = {"epochs": 0, "steps": None}
    cli("distill", write_recipe(distill_recipe(teacher, train=zero)), "--out", tmp_path / "copy",
        "--quiet", check=True)  # fmt: skip
    own = {"random": {"encoder": {"name": "resnet10t"}, "student_init": "random"}}
    cli("distill", write_recipe(distill_recipe(own, train=zero), "own.yaml"), "--out",
        tmp_path / "own", "--quiet", check=True)  # fmt: skip
    copy, fresh = (load_file(tmp_path / d / "encoder.safetensors") for d in ("copy", "own"))
    first = "backbone.conv1.0.weight"
    assert not torch.equal(copy[first], fresh[first])
    other = distill_recipe(teacher, encoder=VIT)
    proc = cli("distill", write_recipe(other, "vit.yaml"), "--out", tmp_path / "vit")
    one_line_exit_2(proc, "encoder: student_init teacher copies the teacher's weights")
    assert not (tmp_path / "vit").exists()


def _rank2_onnx(path) -> None:
    from sslctl.jobs.export import write_onnx

    write_onnx(torch.nn.Linear(8, 4), torch.randn(2, 8), path, {})


def test_bad_teachers_exit_2_in_one_line_and_write_nothing(teacher_run, write_recipe, tmp_path):
    pickled = tmp_path / "pickled.pt"
    torch.save({"weights": torch.nn.Linear(2, 2)}, pickled)  # a module: a pickled object
    _rank2_onnx(tmp_path / "rank2.onnx")
    timm_file = str(teacher_run / "model.safetensors")
    cases = {
        "wrong_weights": ({"timm": "resnet18", "weights": timm_file},
                          "teacher.weights: " + timm_file + " does not fit this model"),
        "wrong_rank": ({"onnx": str(tmp_path / "rank2.onnx")}, "rank-2 input"),
        "size": ({"timm": "resnet10t", "weights": timm_file, "image_size": 32},
                 "teacher: the teacher takes 32 px images; the data gives 16"),
        "channels": ({"timm": "resnet10t", "weights": timm_file, "channels": 3},
                     "teacher: the teacher takes 3-channel images; the data gives 1"),
        "pickle": ({"timm": "resnet10t", "weights": str(pickled)}, "not a readable state dict"),
        "onnx_size": ({"onnx": str(teacher_run / "encoder.onnx")}, "teacher.onnx: the teacher "
                      "takes 16 px images; the data gives 24"),
    }  # fmt: skip
    for name, (teacher, needle) in cases.items():
        tree = distill_recipe(teacher)
        if name == "onnx_size":
            tree["data"]["image_size"] = 24
        proc = cli("distill", write_recipe(tree, f"{name}.yaml"), "--out", tmp_path / name)
        one_line_exit_2(proc, needle)
        assert not (tmp_path / name).exists(), name
