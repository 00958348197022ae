"""Graphs: disjoint-union batching, readers (npz/pt, TU, edge lists, torch_geometric), index
checks on bad files, GIN/GCN against dense formulas, readouts, views, GraphMAE's masking and
loss, GraphCL's loss, and the CLI end to end (pretrain -> probe/embed/coreset/distill -> ONNX
with other graph sizes), graph level and node level."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from sslctl.encoders.gnn import GCNConv, GINConv, readout
from sslctl.errors import UserError
from sslctl.graphs import GraphSet, pack_graphs, segment_ids
from sslctl.modalities.graph.augment import augment, keep_nodes, subgraph_keep
from sslctl.modalities.graph.modality import GraphModality
from sslctl.modalities.graph.presets import GraphViewParams
from sslctl.modalities.graph.read import load_graphs, read_folder, symmetrize
from tests.conftest import cli, one_line_exit_2, small_recipe
from tests.modalities.tu_folder import write_tu_folder


def toy_set() -> GraphSet:
    """Three graphs: a triangle, a single node, a path of four."""
    xs = [torch.full((3, 2), 1.0), torch.full((1, 2), 2.0), torch.arange(8.0).view(4, 2)]
    edges = [
        torch.tensor([[0, 1, 2], [1, 2, 0]]),
        torch.zeros(2, 0, dtype=torch.long),
        torch.tensor([[0, 1, 2], [1, 2, 3]]),
    ]
    return pack_graphs(xs, edges)


def graph_recipe(source: str, **sections) -> dict:
    tree = small_recipe(
        data={"modality": "graph", "train": source},
        encoder={"name": "gin", "kwargs": {"hidden": 32, "layers": 2}},
        method={"name": "graphmae"},
        train={"epochs": 1, "batch_size": 32, "log_every": 1},
        probe={"train": source, "test": None},
    )
    tree["data"] = {"modality": "graph", "train": source}
    for key, value in sections.items():
        tree[key] = {**tree[key], **value} if key in ("train", "probe", "data") else value
    return tree


@pytest.fixture(scope="module")
def tu_folder(tmp_path_factory) -> Path:
    return write_tu_folder(tmp_path_factory.mktemp("tu"), n_graphs=120)


# ------------------------------------------------------------------ containers
def test_segment_ids_handles_empty_segments():
    offsets = torch.tensor([0, 2, 2, 5, 5])
    assert segment_ids(offsets, 5).tolist() == [0, 0, 2, 2, 2]


def test_graph_set_indexing_and_union_match_a_loop():
    gs = toy_set()
    sub = gs[torch.tensor([2, 0])]
    assert len(sub) == 2 and sub.node_ptr.tolist() == [0, 4, 7]
    assert torch.equal(sub.x[:4], gs.x[4:8]) and torch.equal(sub.x[4:], gs.x[:3])
    batch = sub.union()
    assert batch.edge_index.tolist() == [[0, 1, 2, 4, 5, 6], [1, 2, 3, 5, 6, 4]]
    assert batch.pick.tolist() == [0, 4, 7]


def test_symmetrize_adds_reverse_edges_once():
    gs = GraphSet(
        torch.zeros(3, 1),
        torch.tensor([[0, 1, 1], [1, 0, 2]]),
        torch.tensor([0, 3]),
        torch.tensor([0, 3]),
    )
    edges = set(map(tuple, symmetrize(gs).edge_index.T.tolist()))
    assert edges == {(0, 1), (1, 0), (1, 2), (2, 1)}
    assert symmetrize(gs).edge_ptr.tolist() == [0, 4]


# ------------------------------------------------------------------ encoders
def dense_adjacency(edge_index: torch.Tensor, n: int) -> torch.Tensor:
    a = torch.zeros(n, n)
    a.index_put_((edge_index[1], edge_index[0]), torch.ones(edge_index.shape[1]), accumulate=True)
    return a  # a[dst, src]


def test_gin_and_gcn_layers_match_dense_formulas():
    torch.manual_seed(0)
    g = symmetrize(toy_set()).union()
    n = g.x.shape[0]
    a = dense_adjacency(g.edge_index, n)
    gin = GINConv(2, 3, 4, post=False).eval()
    assert torch.allclose(gin(g.x, g.edge_index), gin.mlp(g.x + a @ g.x), atol=1e-6)
    gcn = GCNConv(2, 3, 4, post=False).eval()
    a_hat = a + torch.eye(n)
    d = a_hat.sum(1).rsqrt()
    expected = (d[:, None] * a_hat * d[None, :]) @ gcn.linear(g.x)
    assert torch.allclose(gcn(g.x, g.edge_index), expected, atol=1e-6)


@pytest.mark.parametrize("how", ["sum", "mean", "max"])
def test_readout_per_graph_and_empty_graph_zero(how):
    h = torch.randn(6, 3)
    offsets = torch.tensor([0, 2, 2, 6])  # graph 1 is empty
    out = readout(h, offsets, how)
    ref = {"sum": torch.sum, "mean": torch.mean, "max": lambda t, dim: t.max(dim).values}[how]
    assert torch.allclose(out[0], ref(h[:2], dim=0)) and torch.allclose(out[2], ref(h[2:], dim=0))
    assert torch.equal(out[1], torch.zeros(3))


# ------------------------------------------------------------------ views
def test_keep_nodes_renumbers_edges_and_offsets():
    g = toy_set().union()
    keep = torch.tensor([True, False, True, True, True, False, True, True])
    out = keep_nodes(g, keep)
    assert out.pick.tolist() == [0, 2, 3, 6]
    assert out.edge_index.tolist() == [[1, 4], [0, 5]]  # 2->0 of the triangle, 2->3 of the path


def test_subgraph_keeps_a_connected_share_of_each_graph():
    n = 20
    path = torch.stack([torch.arange(n - 1), torch.arange(1, n)])
    gs = symmetrize(pack_graphs([torch.zeros(n, 1), torch.zeros(n, 1)], [path, path]))
    for _ in range(20):
        keep = subgraph_keep(gs.union(), 0.3)
        for part in keep.view(2, n):
            idx = part.nonzero()[:, 0]
            assert len(idx) == 6 and idx.max() - idx.min() == 5  # contiguous on a path


def test_views_mask_with_the_training_mean_and_drop_edges():
    torch.manual_seed(0)
    g = toy_set().union()
    mean = torch.tensor([7.0, 9.0])
    masked = augment(g, GraphViewParams(node_mask=0.99), mean)
    assert torch.all(masked.x == mean)
    cols = augment(g, GraphViewParams(feature_mask=0.99), mean)
    assert torch.all(cols.x == mean)
    assert augment(g, GraphViewParams(edge_drop=0.99), mean).edge_index.shape[1] < 3
    dropped = augment(g, GraphViewParams(node_drop=0.5), mean)
    assert len(dropped.pick) == 4 and dropped.x.shape[0] < 8


# ------------------------------------------------------------------ readers
def test_tu_reader_and_torch_geometric_agree(tu_folder, tmp_path):
    import shutil

    from torch_geometric.datasets import TUDataset

    graphs, y = read_folder(tu_folder, None)
    assert len(graphs) == 120 and graphs.num_features == 4 and y.tolist()[:4] == [0, 1, 2, 3]
    with pytest.raises(UserError, match="RINGS_A.txt not found; sslctl never downloads"):
        load_graphs(f"pyg:TUDataset:{tmp_path}:RINGS", False)
    shutil.copytree(tu_folder, tmp_path / "RINGS" / "raw", dirs_exist_ok=True)  # ROOT/NAME/raw
    samples = load_graphs(f"pyg:TUDataset:{tmp_path}:RINGS", False)
    shutil.copytree(tu_folder, tmp_path / "pyg" / "RINGS" / "raw")
    reference = TUDataset(str(tmp_path / "pyg"), "RINGS")  # torch_geometric's own reading
    ptr = torch.tensor([0] + [d.num_nodes for d in reference]).cumsum(0)
    assert torch.equal(samples.x.node_ptr, ptr) and torch.equal(samples.x.node_ptr, graphs.node_ptr)
    assert torch.equal(samples.x.x, torch.cat([d.x for d in reference]))
    assert torch.equal(samples.y, torch.cat([d.y for d in reference]))
    key = lambda gs: sorted(map(tuple, gs.union().edge_index.T.tolist()))  # noqa: E731
    assert key(samples.x) == key(graphs)
    edges = torch.cat([d.edge_index + ptr[i] for i, d in enumerate(reference)], 1)
    assert key(samples.x) == sorted(map(tuple, edges.T.tolist()))


def test_pyg_never_unpickles_or_imports_by_name(tu_folder, tmp_path):
    """A malicious processed/pre_transform.pt (a pickle that would create a marker file) sits
    beside the raw files: it is never loaded. Other dataset classes are refused by name."""
    import pickle
    import shutil

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    shutil.copytree(tu_folder, tmp_path / "RINGS" / "raw")
    (tmp_path / "RINGS" / "processed").mkdir()
    for name in ("pre_transform.pt", "pre_filter.pt", "data.pt"):
        (tmp_path / "RINGS" / "processed" / name).write_bytes(pickle.dumps(Payload()))
    samples = load_graphs(f"pyg:TUDataset:{tmp_path}:RINGS", False)
    assert len(samples) == 120 and not marker.exists()
    for cls in ("Planetoid", "__builtins__", "os"):
        with pytest.raises(UserError, match=f"pyg:{cls} is not read"):
            load_graphs(f"pyg:{cls}:{tmp_path}:RINGS", False)
    with pytest.raises(UserError, match="NAME must be a folder name"):
        load_graphs(f"pyg:TUDataset:{tmp_path}:../RINGS", False)


def test_npz_pt_and_edge_list_sources(tmp_path):
    x = np.random.rand(5, 2).astype(np.float32)
    edges = np.array([[0, 1, 3], [1, 2, 4]])
    np.savez(tmp_path / "g.npz", x=x, edge_index=edges, y=[0, 1], batch=[0, 0, 0, 1, 1])
    s = load_graphs(str(tmp_path / "g.npz"), True)
    assert len(s) == 2 and s.x.edge_ptr.tolist() == [0, 4, 6]
    tensors = {"x": x, "edge_index": edges, "ptr": np.array([0, 3, 5]), "y": np.array([1, 0])}
    torch.save({k: torch.from_numpy(v) for k, v in tensors.items()}, tmp_path / "g.pt")
    assert load_graphs(str(tmp_path / "g.pt"), False).y.tolist() == [1, 0]
    folder = tmp_path / "el"
    folder.mkdir()
    (folder / "edges.txt").write_text("0 1\n1 2\n2 3\n")
    (folder / "labels.txt").write_text("0\n0\n1\n1\n")
    nodes = load_graphs(str(folder), True)
    assert len(nodes) == 4 and nodes.x.graph.edge_index.shape[1] == 6
    assert nodes.x.num_features == 64  # one-hot degree without a features file


def test_karate_builtin_splits_nodes():
    pytest.importorskip("networkx")
    train, test = (
        load_graphs("builtin:karate:train", True),
        load_graphs("builtin:karate:test", True),
    )
    assert len(train) + len(test) == 34 and len(test) == 7
    assert not set(train.x.nodes.tolist()) & set(test.x.nodes.tolist())
    assert train.x.graph.edge_index.shape[1] == 156


BAD_FILES = [
    ({"edge_index": [[0, 5], [1, 0]]}, "refers to node 5 but there are only 4 nodes"),
    ({"edge_index": [[0, -1], [1, 0]]}, "negative node indices"),
    ({"edge_index": [[0, 1.5], [1, 0]]}, "non-integer node indices"),
    ({"edge_index": [[0, 1, 2]]}, "edge_index must be (2, E)"),
    ({"ptr": [0, 2, 3]}, "graph offsets must rise from 0 to the 4 rows of x"),
    ({"y": [0, 1, 0]}, "y has 3 labels for 4 nodes"),
    ({"edge_index": [[0, 2], [2, 0]], "ptr": [0, 2, 4], "y": [0, 1]}, "joins nodes of two"),
]


@pytest.mark.parametrize(("override", "message"), BAD_FILES)
def test_bad_graph_files_exit_2_naming_file_and_problem(tmp_path, write_recipe, override, message):
    arrays = {"x": np.ones((4, 2), np.float32), "edge_index": [[0, 1], [1, 2]], **override}
    path = tmp_path / "bad.npz"
    np.savez(path, **{k: np.asarray(v) for k, v in arrays.items()})
    proc = cli("pretrain", write_recipe(graph_recipe(str(path))), "--out", tmp_path / "r")
    one_line_exit_2(proc, str(path))
    assert message in proc.stderr


def test_bad_tu_and_edge_list_files(tmp_path, tu_folder):
    import shutil

    bad = tmp_path / "RINGS"
    shutil.copytree(tu_folder, bad)
    labels = (bad / "RINGS_node_labels.txt").read_text().splitlines()
    (bad / "RINGS_node_labels.txt").write_text("\n".join(labels[:-3]) + "\n")
    with pytest.raises(UserError, match="RINGS_node_labels.txt: .* rows for the .* nodes"):
        read_folder(bad, None)
    folder = tmp_path / "el"
    folder.mkdir()
    (folder / "edges.txt").write_text("0 1\n1 7\n")
    (folder / "features.txt").write_text("1 0\n0 1\n1 1\n")
    with pytest.raises(UserError, match="edges.txt: edge_index refers to node 7 .* 3 nodes"):
        read_folder(folder, None)


def test_distill_student_must_share_the_teachers_level_and_features():
    spec = {"level": "graph", "features": 4, "undirected": True, "mean": [0.0] * 4}
    student = GraphModality(spec)
    assert student.student_of(GraphModality(dict(spec))) is student
    with pytest.raises(UserError, match="teacher.run: .* features = 3, .* gives 4"):
        student.student_of(GraphModality({**spec, "features": 3, "mean": [0.0] * 3}))
    with pytest.raises(UserError, match="level = node"):
        student.student_of(GraphModality({**spec, "level": "node"}))


# ------------------------------------------------------------------ CLI end to end
@pytest.mark.slow
def test_graph_level_pretrain_probe_embed_coreset_distill_export(
    tmp_path, write_recipe, tu_folder, caplog
):
    import onnxruntime as ort

    run = tmp_path / "run"
    cli("pretrain", write_recipe(graph_recipe(str(tu_folder))), "--out", run, check=True)
    info = json.loads((run / "encoder.json").read_text())
    assert info["input"]["level"] == "graph" and info["input"]["features"] == 4
    result = json.loads(cli("probe", run, "--data", str(tu_folder), "--json", check=True).stdout)
    assert result["n_train"] == 96 and result["n_test"] == 24 and result["dim"] == 32
    cli("embed", run, "--data", str(tu_folder), "--out", tmp_path / "e.npy", check=True)
    assert np.load(tmp_path / "e.npy").shape == (120, 32)
    picked = cli("coreset", run, "--data", str(tu_folder), "--budget", "10", "--strategy",
                 "kcenter", "--out", "-", check=True).stdout.split()  # fmt: skip
    assert len(set(picked)) == 10
    student = graph_recipe(str(tu_folder), method={"name": "distill"})
    student["teacher"] = {"run": str(run)}
    student["encoder"] = {"name": "gcn", "kwargs": {"hidden": 16, "layers": 2}}
    cli("distill", write_recipe(student, "d.yaml"), "--out", tmp_path / "d", check=True)
    caplog.clear()
    proc = cli("export", run, "--format", "onnx", check=True)
    assert "check passed" in proc.stderr
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    session = ort.InferenceSession(str(run / "encoder.onnx"))
    assert [i.name for i in session.get_inputs()] == ["x", "edge_index", "pick"]
    from sslctl.rundir import load_run

    loaded = load_run(run)
    graphs = load_graphs(str(tu_folder), True).x[torch.arange(37)]  # sizes unlike the example
    batch = graphs.union()
    got = session.run(None, {k: v.numpy() for k, v in batch._asdict().items()})[0]
    with torch.inference_mode():
        expected = loaded.encoder(batch).numpy()
    assert got.shape == (37, 32)
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    assert np.abs(unit(got) - unit(expected)).max() < 1e-4


@pytest.mark.slow
def test_node_level_karate_graphcl_and_views(tmp_path, write_recipe):
    pytest.importorskip("networkx")
    tree = graph_recipe(
        "builtin:karate",
        method={"name": "byol", "proj_hidden": 32, "proj_dim": 16},
        train={"epochs": 3, "batch_size": 34},
        probe={"train": "builtin:karate:train", "test": "builtin:karate:test"},
    )
    run = tmp_path / "k"
    cli("pretrain", write_recipe(tree), "--out", run, check=True)
    result = json.loads(cli("probe", run, "--json", check=True).stdout)
    assert result["n_train"] == 27 and result["n_test"] == 7
    assert "check passed" in cli("export", run, "--format", "onnx", check=True).stderr
    tree["data"]["augment"] = {"node_drop": 0.2}
    proc = cli("pretrain", write_recipe(tree, "bad.yaml"), "--out", tmp_path / "bad")
    one_line_exit_2(proc, "data.augment.node_drop")
    graphcl = graph_recipe("builtin:karate", method={"name": "graphcl"})
    proc = cli("pretrain", write_recipe(graphcl, "gcl.yaml"), "--out", tmp_path / "gcl")
    one_line_exit_2(proc, "node-level data keeps every node")


@pytest.mark.slow
def test_graphcl_and_simclr_train_on_graph_views(tmp_path, write_recipe, tu_folder):
    for method in ({"name": "graphcl"}, {"name": "simclr", "proj_hidden": 32, "proj_dim": 16}):
        tree = graph_recipe(str(tu_folder), method=method)
        run = tmp_path / method["name"]
        cli("pretrain", write_recipe(tree, f"{method['name']}.yaml"), "--out", run, check=True)
        losses = [json.loads(ln)["loss"] for ln in (run / "metrics.jsonl").read_text().splitlines()]
        assert all(np.isfinite(losses)) and len(losses) == 3


@pytest.mark.slow
def test_graphmae_beats_random_init_on_digits_superpixels(tmp_path):
    pytest.importorskip("skimage")
    from sslctl.jobs.pretrain import pretrain
    from sslctl.jobs.probe import probe
    from sslctl.recipe import load_recipe

    scores = {}
    for epochs in (0, 20):
        recipe = load_recipe("recipes/graph/graphmae.yaml", [f"train.epochs={epochs}", "seed=1"])
        run = tmp_path / f"e{epochs}"
        pretrain(recipe, str(run), device="cpu", quiet=True)
        scores[epochs] = probe(run, None, ["linear"], torch.device("cpu"))["linear_top1"]
    assert scores[20] > scores[0] + 1.0, scores
