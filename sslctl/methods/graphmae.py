"""GraphMAE (Hou et al. 2022): mask node features, encode, re-mask, decode with one GNN layer,
and score the masked nodes with the scaled cosine error.

As the official code: a share `mask_rate` of the batch's nodes is masked; of those, a share
`replace_rate` take another random node's features, int((1 - replace_rate) * masked) get zeros
plus the learnable [MASK] token, and any remainder keeps its features. The encoder's node
states go through a bias-free linear map, the masked nodes' states are zeroed again
("re-mask") and a single GIN/GCN layer (no norm or activation) reconstructs the standardised
input features; loss = mean over masked nodes of (1 - cos(x, x_rec)) ** alpha.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sslctl.encoders.gnn import CONVS, GNN
from sslctl.errors import UserError
from sslctl.methods.base import Method
from sslctl.specs.methods.graphmae import GraphMAESpec


def sce_loss(x: torch.Tensor, target: torch.Tensor, alpha: float) -> torch.Tensor:
    """Scaled cosine error: mean of (1 - cos)^alpha; alpha > 1 down-weights easy nodes."""
    cos = (F.normalize(x, dim=-1) * F.normalize(target, dim=-1)).sum(-1)
    return (1 - cos).pow(alpha).mean()


class GraphMAE(Method):
    Spec = GraphMAESpec

    def __init__(self, encoder, spec: GraphMAESpec) -> None:
        super().__init__(encoder)
        if not isinstance(encoder.backbone, GNN):
            raise UserError("method.name: graphmae needs a graph encoder (gin or gcn)")
        self.spec = spec
        features, dim = encoder.normalize.mean.shape[1], encoder.embed_dim
        self.enc_mask_token = nn.Parameter(torch.zeros(1, features))
        self.encoder_to_decoder = nn.Linear(dim, dim, bias=False)
        self.decoder = CONVS[encoder.backbone.conv](dim, features, dim, post=False)

    def mask_inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(encoder input, indices of the masked nodes), the official masking and noise."""
        n, device = x.shape[0], x.device
        n_mask = int(self.spec.mask_rate * n)
        mask_nodes = torch.randperm(n, device=device)[:n_mask]
        n_noise = int(self.spec.replace_rate * n_mask)
        n_token = int((1 - self.spec.replace_rate) * n_mask)
        shuffled = mask_nodes[torch.randperm(n_mask, device=device)]
        token_nodes = shuffled[:n_token]
        out = x.clone()
        out[token_nodes] = 0.0
        if n_noise:
            noise_nodes = shuffled[n_mask - n_noise :]
            out[noise_nodes] = x[torch.randperm(n, device=device)[:n_noise]]
        out[token_nodes] += self.enc_mask_token
        return out, mask_nodes

    def forward(self, views):
        g = self.encoder.normalize(views[0])
        masked_x, mask_nodes = self.mask_inputs(g.x)
        edge_index = g.edge_index
        if self.spec.drop_edge_rate:
            keep = torch.rand(edge_index.shape[1], device=edge_index.device)
            edge_index = edge_index[:, keep >= self.spec.drop_edge_rate]
        h = self.encoder.backbone.node_states(masked_x, edge_index)
        rep = self.encoder_to_decoder(h).index_fill(0, mask_nodes, 0.0)  # re-mask
        recon = self.decoder(rep, edge_index)
        loss = sce_loss(recon[mask_nodes], g.x[mask_nodes], self.spec.alpha)
        return loss, {}
