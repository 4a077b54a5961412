"""Streaming image input: a folder, a list of files, an array or a `tf.data.Dataset` in, a
batched and prefetched `tf.data.Dataset` out, with memory bounded by a few batches.

`image_dataset` follows `keras.utils.image_dataset_from_directory` (sorted files, labels
inferred from class sub-folders, bilinear resize without antialiasing) and gives the pixels of the
in-memory path, `keras_transfer.image_io.to_images`, exactly: JPEG is decoded with the accurate
integer DCT (PIL's default; Keras' loader uses the fast one, which differs by a few levels), PNG
natively, other formats (BMP, GIF, TIFF, WebP, 16-bit PNG, CMYK JPEG) through
`keras_transfer.image_io.read_image` inside the pipeline; ``"grayscale"`` uses PIL's integer
luma formula, and resizing rounds to uint8 as `keras_transfer.image_io.resize_images` does.
Decoding runs in parallel in `tf.data`; TensorFlow is imported the first time a dataset is built.

Unreadable files (not an image, truncated, deleted after listing) never end an epoch with a
TensorFlow traceback from deep inside a decoder. ``on_error="skip"`` (the default of
`two_domain_dataset`, for training) drops them and prints ``keras_transfer.streaming: skipped
unreadable image file <path>`` to stderr; ``on_error="raise"`` (the default of `image_dataset`,
for transform/predict, whose output rows must match the input files) stops with an error that
names the file: a `ValueError` from `numpy_batches`, or, inside `keras.Model.fit`, an
``InvalidArgumentError`` whose message names the file and the fix.

Under `tf.distribute` the datasets shard by data (`tf.data.experimental.AutoShardPolicy.DATA`):
each worker reads the whole stream and keeps its part of every global batch, so N workers see the
same global batches as one worker.

Example:
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from PIL import Image
    >>> from keras_transfer.streaming import image_dataset, numpy_batches
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ["cat", "dog"]:
    ...     (root / name).mkdir()
    ...     for i in range(3):
    ...         Image.fromarray(np.full((40, 30, 3), 40 * i, np.uint8)).save(root / name / f"{i}.png")
    >>> ds = image_dataset(root, image_size=(32, 32), batch_size=4, labels="inferred")
    >>> ds.class_names, [(x.shape, y.tolist()) for x, y in numpy_batches(ds)]
    (['cat', 'dog'], [((4, 32, 32, 3), [0, 0, 0, 1]), ((2, 32, 32, 3), [1, 1])])
"""

from keras_transfer.streaming._files import is_dataset, is_streaming_input, labelled_files, source_fingerprint
from keras_transfer.streaming._streams import ON_ERROR
from keras_transfer.streaming.cycling import cycled_index
from keras_transfer.streaming.image_dataset import as_model_input, image_dataset, numpy_batches
from keras_transfer.streaming.two_domain_dataset import two_domain_dataset

__all__ = [
    "ON_ERROR",
    "as_model_input",
    "cycled_index",
    "image_dataset",
    "is_dataset",
    "is_streaming_input",
    "labelled_files",
    "numpy_batches",
    "source_fingerprint",
    "two_domain_dataset",
]
