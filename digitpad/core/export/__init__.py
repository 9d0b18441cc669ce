"""Runs out of DigitPad: as a plain Keras script or notebook, and as network files."""
