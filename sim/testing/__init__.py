"""Testing support users import: the pytest plugin (fixtures) and Hypothesis strategies."""
