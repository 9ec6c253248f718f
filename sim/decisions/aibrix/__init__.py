"""AIBrix's PodAutoscaler (KPA and APA strategies), ported as pure decisions (vllm-project/aibrix at
e3e10f9e, pkg/controller/podautoscaler).

context: NewBaseScalingContext defaults and the autoscaling.aibrix.ai/ annotations; algorithms:
KPA and APA computeTargetReplicas/ComputeRecommendation; window: the metrics client's time windows;
autoscaler: ComputeDesiredReplicas over metric sources, the cooldown stabilization and the
controller's computeScaleDecision.
"""
