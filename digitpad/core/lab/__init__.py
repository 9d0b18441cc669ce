"""The lab's exercises as data: sweeps, sweep ids, lab tables, exercise 5's first five."""
