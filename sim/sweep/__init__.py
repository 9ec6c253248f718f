"""`dsim sweep`: many runs of one scenario (grid, random or Latin-hypercube points over paths into
the scenario and its manifests), executed in parallel on a local process pool or Dask distributed,
reduced to one tidy table (results.parquet/csv) and a Pareto report. See docs/sweeps.md."""
