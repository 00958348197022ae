"""What the loss tests share: each loss is checked against a direct transcription of its
paper's formula (written independently), on the value and on the gradients."""

from __future__ import annotations

import torch


def _leaves(*tensors: torch.Tensor) -> list[torch.Tensor]:
    return [t.clone().requires_grad_(True) for t in tensors]


def assert_same_loss_and_grads(ours, reference, inputs, rtol=1e-4, atol=1e-6) -> None:
    """`ours(*inputs)` and `reference(*inputs)` agree in value and in every input's gradient."""
    a, b = _leaves(*inputs), _leaves(*inputs)
    la, lb = ours(*a), reference(*b)
    torch.testing.assert_close(la, lb, rtol=rtol, atol=atol)
    la.backward()
    lb.backward()
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x.grad, y.grad, rtol=rtol, atol=atol)
