"""Thin SimPy wrappers around the pure decisions: DisaggregatedService, BudAIScaler and HPA controllers."""
