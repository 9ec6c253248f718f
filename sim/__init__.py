"""disagg-sim engine: clock and seeds, fake API server, controller runtime, kubelet and scheduler,
controllers, load and metrics, scenario runner and reports."""
