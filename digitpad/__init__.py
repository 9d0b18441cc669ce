"""DigitPad: draw a digit, watch neural networks read it, and run the classic MNIST lab."""

__version__ = "0.4.0"
