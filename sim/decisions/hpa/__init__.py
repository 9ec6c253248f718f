"""Pure ports of the Kubernetes HorizontalPodAutoscaler controller (pkg/controller/podautoscaler)
and of BudAIScaler's `BuildHPA`. Inputs and `now` in, decision out; no API server, no clock."""
