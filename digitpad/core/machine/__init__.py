"""This computer: the data folder, processes, Keras' set-up and lock, library versions."""
