"""A look inside a network: every layer's output, and saliency maps with their sanity check."""
