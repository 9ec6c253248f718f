"""One module per `dsim` sub-command; `sim.cli` imports them lazily so `dsim --help` stays fast."""
