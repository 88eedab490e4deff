"""Update rules: SGD (momentum, Nesterov), Adagrad, RMSProp, Adam, AdamW.

Hyper-parameter names and conventions follow PyTorch's ``torch.optim`` (the
momentum buffer accumulates gradients and lr multiplies it; RMSProp's decay is
``alpha``; eps is added after the square root), so trajectories agree with it.
In the formulas g is the gradient (plus ``weight_decay * w`` where a rule has
coupled weight decay), t the step count of that parameter, and eta the lr.
"""

from __future__ import annotations

import math

import numpy as np

from .._core import ArgumentError, check, check_bool, short_repr
from ..autodiff.engine import GRAD_MODE
from .optimizer import OPTIMIZERS, Optimizer, check_grad_shape, check_step_lr, elementwise

__all__ = ["SGD", "Adagrad", "RMSProp", "Adam", "AdamW"]


def _check_betas(betas):
    if isinstance(betas, np.ndarray) and betas.ndim == 1:
        betas = betas.tolist()
    if not isinstance(betas, (tuple, list)):  # a set has no order; a generator would be read up
        raise ArgumentError(f"betas must be a pair (beta1, beta2), got {short_repr(betas)}")
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {short_repr(betas)}")
    check("betas[0]", betas[0], "[0,1)")
    check("betas[1]", betas[1], "[0,1)")
    return tuple(float(b) for b in betas)


@OPTIMIZERS.register(name="sgd")
class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (Polyak 1964) or Nesterov momentum.

    Without momentum: ``w <- w - eta g``. With momentum mu (buffer b, b_1 = g):
    ``b <- mu b + (1 - dampening) g``; ``w <- w - eta b``; with Nesterov
    (Sutskever et al., 2013, "On the importance of initialization and momentum
    in deep learning"): ``w <- w - eta (g + mu b)``. The slides' form
    ``v <- gamma v + eta g; w <- w - v`` is the same with v = eta b at a fixed lr.

    Args:
        params: Tensors or a Module.
        lr: learning rate eta > 0.
        momentum: mu in [0, 1) (from 1 on, past gradients never fade and the steps grow without bound).
        dampening: in [0, 1); scales the new gradient in the buffer.
        nesterov: Nesterov's look-ahead form (needs momentum > 0, dampening 0).
        weight_decay: coupled L2 coefficient: g <- g + weight_decay w.

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
        >>> round(float(w.data[0]), 4)  # 1 - 0.2 = 0.8, then 0.8 - 0.1 (0.9 * 2 + 1.6) = 0.46
        0.46
    """

    HYPER = ("lr", "momentum", "dampening", "nesterov", "weight_decay")

    def __init__(self, params, lr=0.01, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr)
        self.momentum = check("momentum", momentum, "[0,1)")
        self.dampening = check("dampening", dampening, "[0,1)")
        self.weight_decay = check("weight_decay", weight_decay, ">=0")
        self.nesterov = check_bool("nesterov", nesterov)
        if self.nesterov and (momentum == 0 or dampening != 0):
            raise ValueError(f"nesterov=True needs momentum > 0 and dampening = 0, got momentum={momentum}, "
                             f"dampening={dampening}")

    def _state_names(self):
        return ("momentum_buffer",) if self.momentum else ()

    def step(self):
        """Update every parameter that has a gradient, in place."""
        if self.momentum or self.weight_decay:
            return super().step()
        lr = check_step_lr(self)
        if GRAD_MODE.recorder is not None:  # a compiled step replays this call
            GRAD_MODE.recorder.on_step(self)
        if self.state is None:
            self._allocate()
        # Plain w <- w - lr g skips the per-rule calls, about a tenth of a small net's step.
        for i, (p, st) in enumerate(zip(self.params, self.state)):
            g = p.grad
            if g is None:
                continue
            data, tmp = p.data, st["_tmp"]
            if g.shape != data.shape:
                check_grad_shape(i, g, data)
            st["step"] += 1
            if tmp.shape != data.shape:  # a large parameter: the scratch buffer is one slice long
                self._update_in_slices(data, g, st)
            else:
                np.multiply(g, lr, out=tmp)
                data -= tmp

    @elementwise
    def _update(self, p, g, st):
        g = self._l2(p, g, st)
        tmp = st["_tmp"]
        mu = self.momentum
        if mu:
            buf = st["momentum_buffer"]
            if st["step"] == 1:
                np.copyto(buf, g)
            else:
                buf *= mu
                np.multiply(g, 1.0 - self.dampening, out=tmp)
                buf += tmp
            if self.nesterov:
                np.multiply(buf, mu, out=tmp)
                tmp += g
                g = tmp
            else:
                g = buf
        np.multiply(g, self.lr, out=tmp)
        p -= tmp


@OPTIMIZERS.register(name="adagrad")
class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011, "Adaptive subgradient methods for online learning").

    ``G <- G + g^2``; ``w <- w - eta_t g / (sqrt(G) + eps)`` with
    ``eta_t = eta / (1 + (t - 1) lr_decay)``: each coordinate's step shrinks
    with the squared gradients it has seen.

    Args:
        lr: eta > 0.
        lr_decay: >= 0.
        weight_decay: coupled L2 coefficient.
        initial_accumulator_value: starting value of G (>= 0).
        eps: > 0, added to sqrt(G).

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0, -4.0], requires_grad=True)
        >>> opt = Adagrad([w], lr=0.5)
        >>> (w * w).sum().backward(); opt.step()
        >>> w.data  # the first step moves every coordinate by lr, whatever its gradient
        array([ 0.5, -3.5], dtype=float32)
    """

    HYPER = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(params, lr)
        self.lr_decay = check("lr_decay", lr_decay, ">=0")
        self.weight_decay = check("weight_decay", weight_decay, ">=0")
        self.initial_accumulator_value = check("initial_accumulator_value", initial_accumulator_value, ">=0")
        self.eps = check("eps", eps, ">0")

    def _state_names(self):
        return ("sum",)

    def _state_fill(self, name):
        return self.initial_accumulator_value

    @elementwise
    def _update(self, p, g, st):
        g = self._l2(p, g, st)
        tmp, acc = st["_tmp"], st["sum"]
        np.multiply(g, g, out=tmp)
        acc += tmp
        np.sqrt(acc, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= self.lr / (1.0 + (st["step"] - 1) * self.lr_decay)
        p -= tmp


@OPTIMIZERS.register(name="rmsprop")
class RMSProp(Optimizer):
    """RMSProp (Hinton, 2012, Coursera "Neural Networks for Machine Learning", lecture 6e).

    ``S <- alpha S + (1 - alpha) g^2``; ``w <- w - eta g / (sqrt(S) + eps)``.
    ``centered=True`` divides by the estimated standard deviation
    ``sqrt(S - Gbar^2)`` instead, with ``Gbar <- alpha Gbar + (1 - alpha) g``
    (Graves, 2013); ``momentum`` mu keeps ``b <- mu b + g / (sqrt(S) + eps)``
    and steps ``w <- w - eta b``.

    Args:
        lr: eta > 0.
        alpha: decay of the squared-gradient average, in [0, 1).
        eps: > 0, added after the square root.
        weight_decay: coupled L2 coefficient.
        momentum: mu in [0, 1) (from 1 on, past gradients never fade and the steps grow without bound).
        centered: normalise by the variance instead of the raw second moment.

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = RMSProp([w], lr=0.01, alpha=0.75)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(float(w.data[0]), 4)  # 1 - 0.01 * 2 / sqrt(0.25 * 4)
        0.98
    """

    HYPER = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(params, lr)
        self.alpha = check("alpha", alpha, "[0,1)")
        self.eps = check("eps", eps, ">0")
        self.weight_decay = check("weight_decay", weight_decay, ">=0")
        self.momentum = check("momentum", momentum, "[0,1)")
        self.centered = check_bool("centered", centered)

    def _state_names(self):
        return ("square_avg",) + (("grad_avg",) if self.centered else ()) + (
            ("momentum_buffer",) if self.momentum else ())

    @elementwise
    def _update(self, p, g, st):
        g = self._l2(p, g, st)
        a, tmp, sq = self.alpha, st["_tmp"], st["square_avg"]
        sq *= a
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - a
        sq += tmp
        if self.centered:
            gbar = st["grad_avg"]
            gbar *= a
            np.multiply(g, 1.0 - a, out=tmp)
            gbar += tmp
            np.multiply(gbar, gbar, out=tmp)
            np.subtract(sq, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(sq, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        if self.momentum:
            buf = st["momentum_buffer"]
            buf *= self.momentum
            buf += tmp
            np.multiply(buf, self.lr, out=tmp)
        else:
            tmp *= self.lr
        p -= tmp


@OPTIMIZERS.register(name="adam")
class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015, "Adam: A method for stochastic optimization").

    ``m <- b1 m + (1 - b1) g``; ``v <- b2 v + (1 - b2) g^2``;
    ``w <- w - eta (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``.
    ``weight_decay`` here is coupled L2 (added to g); see :class:`AdamW`.

    Args:
        lr: eta > 0.
        betas: (b1, b2), each in [0, 1).
        eps: > 0.
        weight_decay: coupled L2 coefficient.

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([3.0, -0.5], requires_grad=True)
        >>> opt = Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w.data  # bias correction makes the first step lr * sign(g)
        array([ 2.9, -0.4], dtype=float32)
    """

    HYPER = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        self.betas = _check_betas(betas)
        self.eps = check("eps", eps, ">0")
        self.weight_decay = check("weight_decay", weight_decay, ">=0")

    def _state_names(self):
        return ("exp_avg", "exp_avg_sq")

    @elementwise
    def _update(self, p, g, st):
        g = self._l2(p, g, st)
        b1, b2 = self.betas
        t, tmp, m, v = st["step"], st["_tmp"], st["exp_avg"], st["exp_avg_sq"]
        m *= b1
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp /= math.sqrt(1.0 - b2**t)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr / (1.0 - b1**t)
        p -= tmp


@OPTIMIZERS.register(name="adamw")
class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019, "Decoupled weight decay regularization").

    Adam on the raw gradient, with the decay applied to the weights directly:
    ``w <- w (1 - eta lambda)`` before the Adam step, so the decay is not
    rescaled by the adaptive denominator.

    Args:
        lr, betas, eps: as for :class:`Adam`.
        weight_decay: lambda >= 0 (default 0.01).

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([2.0], requires_grad=True)
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
        >>> w.grad = np.zeros(1, dtype=np.float32); opt.step()
        >>> w.data  # zero gradient: only the decay acts, w (1 - 0.1 * 0.5)
        array([1.9], dtype=float32)
    """

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr, betas, eps, weight_decay)

    @elementwise
    def _l2(self, p, g, st):
        if self.weight_decay:
            p *= 1.0 - self.lr * self.weight_decay
        return g
