"""`sslctl report`: figures and an index.html over one or several runs, checked in a real
headless browser (Debian's chromium driven by selenium, installed as the README says); and the
probe's progress bars on a terminal."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import threading

import pytest
import yaml

from sslctl.jobs.report import read_metrics
from sslctl.report.page import Figure, RunSummary, render
from tests.conftest import (
    FAST_ENCODER,
    cli,
    cli_process,
    one_line_exit_2,
    process_command,
    small_recipe,
)

WATCHED = {"steps": 10, "log_every": 2, "eval_every": 5, "eval_samples": 300}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """SimCLR and BYOL on digits, each evaluated online every 5 steps."""
    root = tmp_path_factory.mktemp("report")
    runs = []
    for method in ("simclr", "byol"):
        tree = small_recipe(encoder=FAST_ENCODER, train=WATCHED)
        tree["method"] = {"name": method, "proj_hidden": 128, "proj_dim": 64}
        tree["probe"]["protocols"] = ["knn", "rankme"]
        (root / f"{method}.yaml").write_text(yaml.safe_dump(tree))
        cli("pretrain", root / f"{method}.yaml", "--out", root / method, "--quiet", check=True)
        runs.append(root / method)
    return runs


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument("--window-size=1400,1000")
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


@pytest.mark.slow
def test_report_of_two_runs_opens_in_a_real_browser_with_every_image(two_runs, tmp_path):
    out = tmp_path / "compare"
    result = cli("report", *two_runs, "--out", out, "--quiet", check=True)
    assert result.stdout.strip() == str(out)
    files = {p.name for p in out.iterdir()}
    assert {"index.html", "training.png", "online.png", "spectrum.png"} <= files
    assert {"map-1.png", "map-2.png"} <= files
    driver = _browser()
    try:
        driver.get(out.joinpath("index.html").as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map("
            "i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])"
        )
        text = driver.find_element("tag name", "body").text
        shot = tmp_path / "page.png"
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    finally:
        driver.quit()
    assert len(images) == 5 and all(loaded for _, loaded in images), images
    assert "simclr" in text and "byol" in text and "knn_top1" in text and "rankme" in text
    assert "eval_every" in text  # each run's recipe is shown


@pytest.mark.slow
def test_report_of_one_run_goes_in_the_run_and_is_replaced_by_the_next(two_runs):
    run = two_runs[0]
    cli("report", run, "--quiet", check=True)
    (run / "report" / "stale.png").write_bytes(b"")
    cli("report", run, "--quiet", check=True)
    assert not (run / "report" / "stale.png").exists()  # a whole new report, not a merge
    assert (run / "report" / "index.html").is_file()


@pytest.mark.slow
def test_report_refuses_outputs_it_did_not_write(two_runs, tmp_path):
    one_line_exit_2(cli("report", *two_runs), "--out")  # several runs need a folder
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    one_line_exit_2(cli("report", two_runs[0], "--out", tmp_path / "mine"), "not an sslctl report")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    one_line_exit_2(cli("report", two_runs[0], "--out", two_runs[1]), "not an sslctl report")
    one_line_exit_2(cli("report", two_runs[0], "--out", two_runs[1] / "x"), "into run")


def _on_a_terminal(*args: str) -> str:
    """What `sslctl ARGS` writes to stderr when stderr is a terminal."""
    master, slave = pty.openpty()
    command = process_command(*args)
    command["env"].update(TERM="xterm", COLUMNS="120")
    proc = subprocess.Popen(**command, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    proc.wait(timeout=600)
    reader.join(timeout=30)
    os.close(master)
    assert proc.returncode == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_probe_shows_progress_on_a_terminal_and_quiet_turns_it_off(two_runs):
    shown = _on_a_terminal("probe", two_runs[0], "--protocol", "knn")
    assert "embed train" in shown and "embed test" in shown and "probe: knn" in shown
    assert "embed" not in _on_a_terminal("probe", two_runs[0], "--protocol", "knn", "--quiet")
    piped = cli_process("probe", two_runs[0], "--protocol", "knn", "--json", check=True)
    assert "embed" not in piped.stderr  # bars only on a terminal


def test_metrics_reader_skips_torn_overlong_and_foreign_lines(tmp_path):
    path = tmp_path / "metrics.jsonl"
    lines = [
        '{"step": 1, "loss": 2.5, "note": "text is dropped"}',
        '{"step": 2, "loss"',  # torn by a kill
        '{"step": 3, "loss": 1.0, "flag": true, "pad": "' + "x" * 70_000 + '"}',  # overlong
        "[1, 2]",
        '{"loss": 1.0}',  # no step
        '{"step": 4, "loss": NaN, "knn_top1": 55.0}',
    ]
    path.write_text("\n".join(lines) + "\n")
    rows = read_metrics(path)
    assert [r["step"] for r in rows] == [1, 4]
    assert rows[0] == {"step": 1.0, "loss": 2.5} and rows[1]["knn_top1"] == 55.0


def test_page_escapes_what_it_takes_from_runs():
    run = RunSummary(
        name="<b>run</b>",
        path="/x/<script>",
        recipe="data: {train: '</pre><script>alert(1)</script>'}",
        facts={"method": "simclr"},
        probe={"knn_top1": 91.234},
    )
    page = render([run], [Figure("a.png", 'caption "quoted"')], ["note <i>"])
    assert "<script>" not in page and "<b>run</b>" not in page and "<i>" not in page
    assert "&lt;/pre&gt;&lt;script&gt;" in page and "91.23" in page
    assert 'alt="caption &quot;quoted&quot;"' in page


@pytest.mark.parametrize(("n", "dim", "how"), [(3, 8, "PCA"), (40, 1, "PCA"), (50, 16, "t-SNE")])
def test_the_map_places_every_probe_test_point_in_2d(n, dim, how):
    import torch

    from sslctl.eval import ProbeData
    from sslctl.jobs.report import _map_points

    test = torch.randn(n, dim)
    points, labels, made_by = _map_points(ProbeData(test, None, test, torch.arange(n) % 3, None))
    assert points.shape == (n, 2) and made_by == how
    assert sorted(labels.tolist()) == sorted((torch.arange(n) % 3).tolist())


def test_the_map_legend_names_classes_by_the_probes_shared_numbering(tmp_path):
    """A test source lacking a class keeps the others' numbers, so class k's name is train's;
    a folder name that matplotlib would parse as broken mathtext still draws."""
    import torch

    from sslctl.modalities.base import Samples
    from sslctl.probing import shared_labels
    from sslctl.report.plots import embedding_map, legend_label

    names = ["cat", "$\\frac{dog$", "eel"]
    train = Samples(torch.zeros(6, 1), torch.tensor([0, 1, 2, 0, 1, 2]), "train", classes=names)
    test = Samples(torch.zeros(2, 1), torch.tensor([0, 1]), "test", classes=["cat", "eel"])
    y_train, y_test, classes = shared_labels(train, test, ("train", "test"))
    assert classes == names and y_test.tolist() == [0, 2]
    assert [legend_label(k, classes) for k in (0, 2)] == ["cat", "eel"]
    assert legend_label(1, None) == "1"
    points = torch.randn(6, 2).numpy()
    embedding_map(tmp_path / "map.png", points, y_train.numpy(), "map", classes)
    assert (tmp_path / "map.png").stat().st_size > 0
