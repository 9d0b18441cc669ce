"""MNIST (its sources, checks and restricted unpickler), drawing-to-28x28 preprocessing,
augmentation."""
