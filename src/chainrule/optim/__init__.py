"""chainrule.optim: gradient-descent update rules and learning-rate schedules.

Example:
    >>> import chainrule as cr
    >>> from chainrule import nn, optim
    >>> model = nn.Linear(2, 1, seed=0)
    >>> opt = optim.Adam(model.parameters(), lr=0.01)
    >>> sched = optim.CosineAnnealing(opt, t_max=10)
    >>> loss = nn.functional.mse_loss(model(cr.ones(4, 2)), cr.zeros(4, 1))
    >>> opt.zero_grad(); loss.backward(); opt.step(); _ = sched.step()
    >>> sorted(optim.OPTIMIZERS), sorted(optim.SCHEDULES)
    (['adagrad', 'adam', 'adamw', 'rmsprop', 'sgd'], ['cosine', 'exponential', 'inverse_time', 'plateau', 'step'])
"""

from .optimizer import OPTIMIZERS, Optimizer, elementwise
from .rules import SGD, Adagrad, Adam, AdamW, RMSProp
from .schedules import (
    SCHEDULES, CosineAnnealing, ExponentialDecay, InverseTimeDecay, LRSchedule, ReduceOnPlateau, StepDecay,
)

__all__ = [
    "Optimizer", "SGD", "Adagrad", "RMSProp", "Adam", "AdamW", "OPTIMIZERS", "elementwise",
    "LRSchedule", "StepDecay", "ExponentialDecay", "InverseTimeDecay", "CosineAnnealing", "ReduceOnPlateau",
    "SCHEDULES",
]
