"""Reading drawings: the Predictor (LiteRT or Keras), the shipped networks, network references."""
