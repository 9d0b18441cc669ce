"""DigitPad's engine: data, specs, models, training, run store. Imports no Qt (a test checks)."""
