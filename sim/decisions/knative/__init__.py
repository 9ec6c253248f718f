"""Knative Serving's KPA, ported as pure decisions (knative/serving at 98e5ef90).

aggregation: bucketed windows, weighted averages, the max window; collector: stable/panic totals;
config: config-autoscaler defaults, annotations, target and window resolution, the decider spec;
decider: autoscaler.Scale; scaler: the reconciler's bounds and scale to zero.
"""
