"""Residual: a block whose input is added to its output, ``y = x + block(x)`` (He et al., 2016).

Example:
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> res = nn.Residual(nn.Sequential(nn.Linear(3, 3, init="zeros"), nn.Tanh()))
    >>> res(cr.ones(1, 3))
    tensor([[1., 1., 1.]], grad_fn=<add>)
"""

from __future__ import annotations

from .module import LAYERS, Module, from_config

__all__ = ["Residual"]


@LAYERS.register
class Residual(Module):
    """Skip connection around ``block``: ``y = x + block(x)``; the block must keep the shape.

    Args:
        block: any Module mapping (..., d) to (..., d).

    Shapes:
        input (..., d) -> output (..., d).

    Example:
        >>> from chainrule import nn
        >>> nn.from_config(nn.Residual(nn.Linear(2, 2, seed=0)).config()).block.out_features
        2
    """

    def __init__(self, block):
        super().__init__()
        if not isinstance(block, Module):
            raise TypeError(f"Residual wraps a Module, got {type(block).__name__}")
        self.block = block

    def forward(self, x):
        out = self.block(x)
        if out.shape != x.shape:
            raise ValueError(f"Residual block must keep its input's shape {x.shape}, but it gave {out.shape}")
        return x + out

    def _config_args(self):
        return {"block": self.block.config()}

    @classmethod
    def _from_args(cls, args):
        return cls(from_config(args["block"]))
