"""Plots of training and of what a network has learned, written to PNG files.

Needs matplotlib (``pip install chainrule[plot]``); figures are drawn on the
Agg canvas directly, so no display is needed and pyplot's state is untouched.

* :func:`plot_history`: loss and metric curves, training against validation;
* :func:`plot_decision_regions`: a 2-D classifier's predicted class over the
  plane, with the data points;
* :func:`plot_hyperplanes`: the line each first-layer unit draws;
* :func:`plot_gradient_norms`: the gradient norm per layer (vanishing gradients).
"""

from .curves import curve_keys, plot_history
from .gradients import plot_gradient_norms
from .regions import RegionPlot, first_layer, hyperplane_segments, plot_decision_regions, plot_hyperplanes

__all__ = ["plot_history", "curve_keys", "plot_decision_regions", "plot_hyperplanes", "RegionPlot",
           "first_layer", "hyperplane_segments", "plot_gradient_norms"]
