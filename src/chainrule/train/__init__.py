"""Training: the ``fit`` loop, evaluation, histories, checkpoints and restarts.

* :mod:`.loop`: :func:`fit`, :func:`evaluate`, :func:`predict`;
* :mod:`.setup`: turning the user's loss, optimiser, metrics and data into what the loop runs;
* :mod:`.history`: :class:`History`, one row of logs per epoch;
* :mod:`.checkpoint`: atomic per-epoch checkpoints and ``resume``;
* :mod:`.restarts`: :func:`fit_restarts`, several runs from fresh initialisations.
"""

from .history import History
from .loop import evaluate, fit, predict
from .restarts import RestartResult, fit_restarts
from .classify import predict_labels, predict_proba

__all__ = ["fit", "evaluate", "predict", "History", "fit_restarts", "RestartResult", "predict_proba",
           "predict_labels"]
