"""Pure decisions of the BudAIScaler controller: conflicts, status, scale targets, the metric pipeline.

Ported from BudEcosystem/scaler `pkg/controller/budaiscaler/` (budaiscaler_controller.go,
autoscaler.go, workload_scale.go) plus the per-role changes of the DisaggregatedService pull request.
"""
