"""The Draw tab: canvas, prediction, network table, collect mode, sample digits."""
