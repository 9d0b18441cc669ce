"""The Results tab: the run table, a run's details, sweep tables and plots, first five."""
