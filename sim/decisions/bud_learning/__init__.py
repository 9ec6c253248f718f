"""The BudScaler learning system as upstream orchestrates it: accuracy tracking, calibration,
seasonal-profile management, the LearningSystem lifecycle, its ConfigMap storage format, and the
controller's per-scaler predictor book.

upstream: BudEcosystem/scaler 79bffc5, pkg/controller/budaiscaler/learning/{system,storage,
calibrator,accuracy,seasonal}.go and autoscaler.go (getPredictionData, getLearningSystem,
recordLearningFeedback, VerifyLearningPredictions, PersistLearningData). Pure: every time comes in as
an argument (`now` = simulated seconds, `at` = the simulated wall-clock datetime); storage builds and
parses ConfigMap objects but never talks to an API server.
"""
