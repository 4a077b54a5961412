"""In-graph decoding and resizing with the error policy: files -> an unbatched pass of images."""

from __future__ import annotations

import sys

from keras_transfer import image_io
from keras_transfer.image_io import read_image, resize_images

ERROR_TAG = "keras_transfer.streaming: could not decode image file"
NONE_DECODED_TAG = "keras_transfer.streaming: none of the files could be decoded"


def decoder(color_mode):
    """path -> uint8 (H, W, C): native JPEG/8-bit PNG decoding, PIL (read_image) for the rest.

    An image of more than ``keras_transfer.image_io.MAX_IMAGE_PIXELS`` pixels (read now, when the
    dataset is built) fails from its header, before any pixel is decoded: JPEG and PNG sizes are
    read in the graph, other formats by `read_image`.
    """
    import tensorflow as tf

    channels = 3 if color_mode == "rgb" else 1
    limit = image_io.MAX_IMAGE_PIXELS

    def capped(height, width, decode_pixels):
        if limit is None:
            return decode_pixels()
        pixels = tf.cast(height, tf.int64) * tf.cast(width, tf.int64)
        check = tf.debugging.assert_less_equal(
            pixels, tf.constant(limit, tf.int64), message="image above MAX_IMAGE_PIXELS"
        )
        with tf.control_dependencies([check]):
            return tf.identity(decode_pixels())

    def pil(path):
        return read_image(path.decode(), None, color_mode)

    def via_pil(path):
        image = tf.numpy_function(pil, [path], tf.uint8, stateful=False)
        return tf.ensure_shape(image, (None, None, channels))

    def to_mode(rgb):
        if channels == 3:
            return rgb
        x = tf.cast(rgb, tf.int32)  # PIL's "L": (19595 R + 38470 G + 7471 B + 2^15) >> 16
        luma = (x[..., 0] * 19595 + x[..., 1] * 38470 + x[..., 2] * 7471 + 32768) // 65536
        return tf.cast(luma, tf.uint8)[..., None]

    def decode(path):
        raw = tf.io.read_file(path)
        head = tf.strings.substr(tf.strings.substr(raw, 0, 26) + b"\0" * 26, 0, 26)
        is_jpeg = tf.equal(tf.strings.substr(head, 0, 3), b"\xff\xd8\xff")
        is_png8 = tf.logical_and(
            tf.equal(tf.strings.substr(head, 0, 8), b"\x89PNG\r\n\x1a\n"),
            tf.equal(tf.strings.substr(head, 24, 1), b"\x08"),
        )

        def jpeg():
            shape = tf.io.extract_jpeg_shape(raw)
            return capped(
                shape[0],
                shape[1],
                lambda: tf.cond(
                    shape[2] <= 3,
                    lambda: to_mode(tf.io.decode_jpeg(raw, channels=3, dct_method="INTEGER_ACCURATE")),
                    lambda: via_pil(path),
                ),
            )

        def png():
            # IHDR: width and height are big-endian uint32 at bytes 16-23 of the file
            halves = tf.io.decode_raw(tf.strings.substr(head, 16, 8), tf.uint16, little_endian=False)
            halves = tf.cast(halves, tf.int64)
            return capped(
                halves[2] * 65536 + halves[3],
                halves[0] * 65536 + halves[1],
                lambda: to_mode(tf.ensure_shape(tf.io.decode_png(raw, channels=3), (None, None, 3))),
            )

        return tf.cond(is_jpeg, jpeg, lambda: tf.cond(is_png8, png, lambda: via_pil(path)))

    return decode


def resizer(image_size, out_dtype):
    """image or batch -> resized exactly as `keras_transfer.image_io.resize_images` does, cast.

    On TensorFlow that is ``tf.image.resize`` (bilinear, no antialiasing; uint8 rounded and
    clipped), run in the graph. Other backends resize with their own kernel (JAX's differs from
    TensorFlow's by one level on a few pixels), so there the pipeline calls `resize_images`
    itself, through ``tf.numpy_function``: slower, but the pixels are the in-memory path's.
    """
    import keras
    import tensorflow as tf

    in_graph = keras.backend.backend() == "tensorflow"

    def resize(image):
        if image_size is not None:
            if in_graph:
                resized = tf.image.resize(
                    tf.cast(image, tf.float32), image_size, method="bilinear", antialias=False
                )
                if image.dtype == tf.uint8:
                    resized = tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)
            else:
                out = "uint8" if image.dtype == tf.uint8 else "float32"

                def resize_with_keras(x):  # one image (H, W, C) or a batch (N, H, W, C)
                    batch = resize_images(x if x.ndim == 4 else x[None], image_size)
                    return (batch if x.ndim == 4 else batch[0]).astype(out)

                resized = tf.numpy_function(resize_with_keras, [image], out, stateful=False)
                resized = tf.ensure_shape(resized, (*image.shape[:-3], *image_size, image.shape[-1]))
            image = resized
        return tf.cast(image, out_dtype)

    return resize


def file_pass(paths, labels, image_size, color_mode, on_error, dtype, known_size=None):
    """``one_pass(order, batch_size)``: batches of ``images`` or ``(images, labels)`` over the files
    at positions ``order`` (an int64 vector), with the error policy.

    Without ``image_size`` every image must be ``known_size`` (read from the headers); one that is
    not counts as unreadable. A decode error drops the element (``ignore_errors``); the check that
    follows sees each batch's positions in the pass and reports a gap: ``tf.print`` (skip) or a
    failed assertion naming the file (raise); an end marker catches a gap at the end. A batch
    that lost an element is one shorter. The check runs once per batch, so it costs nothing per image.
    """
    import tensorflow as tf

    path_table = tf.constant(paths)
    label_table = tf.zeros((len(paths),), tf.int64) if labels is None else tf.constant(labels)
    decode, resize = decoder(color_mode), resizer(image_size, dtype)
    channels = 3 if color_mode == "rgb" else 1
    blank = tf.zeros((1, *(image_size or known_size), channels), dtype)

    def load(position, index):
        image = decode(path_table[index])
        if image_size is None:
            image = tf.ensure_shape(image, (*known_size, channels))
        return position, resize(image), label_table[index]

    def one_pass(order, batch_size):
        n = tf.shape(order, out_type=tf.int64)[0]
        stream = tf.data.Dataset.from_tensor_slices(order).enumerate()
        stream = stream.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        stream = stream.ignore_errors().batch(batch_size)  # a failed decode drops its element
        end = tf.data.Dataset.from_tensors((tf.reshape(n, (1,)), blank, label_table[:1]))

        def check(expected, batch):
            positions = batch[0]
            last = positions[-1]
            complete = tf.logical_and(
                tf.equal(positions[0], expected),
                tf.equal(last - expected + 1, tf.shape(positions, out_type=tf.int64)[0]),
            )

            def report():
                span = tf.range(expected, last)
                gone = tf.logical_not(tf.reduce_any(tf.equal(span[:, None], positions[None, :]), axis=1))
                missing = tf.gather(path_table, tf.gather(order, tf.boolean_mask(span, gone)))
                if on_error == "raise":
                    tf.debugging.Assert(
                        False,
                        [
                            ERROR_TAG,
                            missing[:1],
                            "Remove it, or pass on_error='skip' to skip unreadable files.",
                        ],
                        summarize=1,
                    )
                else:
                    print_skipped(missing)
                tf.debugging.Assert(  # an endless stream over files that all fail would never yield
                    tf.logical_or(last < n, expected > 0), [NONE_DECODED_TAG, n]
                )
                return tf.constant(True)

            tf.cond(complete, lambda: tf.constant(True), report)
            return last + 1, batch

        checked = stream.concatenate(end).scan(tf.constant(0, tf.int64), check)
        checked = checked.filter(lambda positions, images, labels: positions[0] < n)
        if labels is None:
            return checked.map(lambda positions, images, labels: images)
        return checked.map(lambda positions, images, labels: (images, labels))

    return one_pass


def print_skipped(paths):
    import tensorflow as tf

    def body(i):
        tf.print(
            "keras_transfer.streaming: skipped unreadable image file", paths[i], output_stream=sys.stderr
        )
        return i + 1

    tf.while_loop(lambda i: i < tf.shape(paths)[0], body, [tf.constant(0)])
