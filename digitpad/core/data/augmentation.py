"""Augmented training batches: what hand drawing varies that MNIST's normalisation does
not remove, made with Keras preprocessing layers."""

from __future__ import annotations

# Augmentation ranges: what hand drawing varies that MNIST's normalisation does not remove.
ROTATION_DEGREES = 12
ZOOM = 0.1
SHIFT = 0.08
THICKER, THINNER = 0.15, 0.1  # shares of images whose strokes grow or shrink by a pixel


def augmented_batches(x, y, batch_size: int, seed: int):
    """A shuffled ``tf.data`` stream of randomly rotated, zoomed, shifted and re-inked batches.

    Built from Keras preprocessing layers; stroke thickness varies by a 2x2 grey dilation or
    erosion of a random share of each batch.
    """
    import keras
    import tensorflow as tf  # tf.data is Keras' own input pipeline on this backend

    layers = keras.layers
    geometry = keras.Sequential(
        [
            layers.RandomRotation(ROTATION_DEGREES / 360, fill_mode="constant", seed=seed),
            layers.RandomZoom(ZOOM, fill_mode="constant", seed=seed + 1),
            layers.RandomTranslation(SHIFT, SHIFT, fill_mode="constant", seed=seed + 2),
        ]
    )

    def re_ink(images):
        thicker = keras.ops.max_pool(images, 2, strides=1, padding="same")
        thinner = -keras.ops.max_pool(-images, 2, strides=1, padding="same")
        pick = tf.random.uniform((tf.shape(images)[0], 1, 1, 1), seed=seed + 3)
        return tf.where(
            pick < THICKER, thicker, tf.where(pick < THICKER + THINNER, thinner, images)
        )

    def augment(images, labels):
        return re_ink(geometry(images, training=True)), labels

    return (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .map(augment, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
