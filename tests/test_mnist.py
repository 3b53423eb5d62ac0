import os
import subprocess
import sys

import numpy as np
import pytest

from mnist_data import MNISTError, load_mnist, load_mnist_test, mnist_file

TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def arrays(mnist_npz):
    (x_train, y_train), (x_test, y_test) = load_mnist(mnist_npz)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def test_loads_the_shared_file_with_shapes_dtypes_and_label_counts(arrays):
    assert arrays["x_train"].shape == (60000, 28, 28)
    assert arrays["x_test"].shape == (10000, 28, 28)
    assert all(a.dtype == np.uint8 for a in arrays.values())
    assert np.bincount(arrays["y_train"]).tolist() == TRAIN_LABEL_COUNTS
    assert np.bincount(arrays["y_test"]).tolist() == TEST_LABEL_COUNTS


def test_reads_the_environment_variable(monkeypatch, mnist_npz, arrays):
    monkeypatch.setenv("MNIST_NPZ", str(mnist_npz))
    (_, y_train), _ = load_mnist()
    assert np.array_equal(y_train, arrays["y_train"])


def test_a_relative_path_is_resolved_from_the_current_folder(monkeypatch, mnist_npz):
    monkeypatch.chdir(mnist_npz.parent)
    monkeypatch.setenv("MNIST_NPZ", mnist_npz.name)
    assert mnist_file() == mnist_npz.resolve()


def test_accepts_a_resaved_copy_with_a_different_container(tmp_path, arrays):
    copy = tmp_path / "uncompressed.npz"
    np.savez(copy, **arrays)
    (x_train, _), _ = load_mnist(copy)
    assert np.array_equal(x_train, arrays["x_train"])


def test_uses_the_keras_cache(tmp_path, monkeypatch, mnist_npz):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "mnist.npz").symlink_to(mnist_npz)
    monkeypatch.delenv("MNIST_NPZ", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    _, (x_test, _) = load_mnist()
    assert x_test.shape == (10000, 28, 28)


def test_refuses_one_changed_pixel(tmp_path, arrays):
    tampered = dict(arrays, x_test=arrays["x_test"].copy())
    tampered["x_test"][123, 14, 14] ^= 1
    path = tmp_path / "tampered.npz"
    np.savez_compressed(path, **tampered)
    with pytest.raises(MNISTError, match=r"tampered\.npz: x_test does not match MNIST"):
        load_mnist(path)


def test_refuses_a_truncated_file(tmp_path, mnist_npz):
    path = tmp_path / "truncated.npz"
    data = mnist_npz.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MNISTError, match=r"truncated\.npz .*(not an \.npz|cannot be read)"):
        load_mnist(path)


def test_refuses_a_damaged_member(tmp_path, mnist_npz):
    # The zip directory survives but the compressed pixels do not: zlib or the CRC must notice.
    data = bytearray(mnist_npz.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 64] = bytes(64)
    path = tmp_path / "damaged.npz"
    path.write_bytes(bytes(data))
    with pytest.raises(MNISTError, match=r"damaged\.npz"):
        load_mnist(path)


def test_refuses_a_file_missing_y_test(tmp_path, arrays):
    path = tmp_path / "no-y-test.npz"
    np.savez(path, **{k: v for k, v in arrays.items() if k != "y_test"})
    with pytest.raises(MNISTError, match=r"no-y-test\.npz is missing the array\(s\) y_test"):
        load_mnist(path)


def test_the_test_set_alone_is_the_same_test_set(mnist_npz, arrays):
    x_test, y_test = load_mnist_test(mnist_npz)
    assert np.array_equal(x_test, arrays["x_test"]) and np.array_equal(y_test, arrays["y_test"])


def test_the_test_set_alone_is_verified_and_needs_no_training_arrays(tmp_path, arrays):
    test_only = tmp_path / "test-only.npz"
    np.savez(test_only, x_test=arrays["x_test"], y_test=arrays["y_test"])
    assert load_mnist_test(test_only)[0].shape == (10000, 28, 28)
    tampered = tmp_path / "tampered-labels.npz"
    np.savez(tampered, x_test=arrays["x_test"], y_test=(arrays["y_test"] + 1) % 10)
    with pytest.raises(MNISTError, match=r"tampered-labels\.npz: y_test does not match MNIST"):
        load_mnist_test(tampered)


def test_refuses_a_file_that_is_not_a_zip(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_text("this is not MNIST\n")
    with pytest.raises(MNISTError, match=r"mnist\.npz is not an \.npz file"):
        load_mnist(path)


def test_refuses_a_bad_keras_cache_and_leaves_it_alone(tmp_path, monkeypatch):
    cache = tmp_path / "datasets" / "mnist.npz"
    cache.parent.mkdir()
    cache.write_bytes(b"PK\x03\x04 half a download")
    monkeypatch.delenv("MNIST_NPZ", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(MNISTError, match="datasets/mnist.npz"):
        load_mnist()
    assert cache.read_bytes() == b"PK\x03\x04 half a download"


def test_a_missing_explicit_path_is_named(tmp_path):
    with pytest.raises(MNISTError, match=r"not found: .*nowhere\.npz"):
        load_mnist(tmp_path / "nowhere.npz")


def test_no_source_and_no_network_gives_a_clear_error(tmp_path):
    # A real download attempt, sent to a closed local port so it fails fast whatever the
    # machine's network: the loader must say what to do, not show urllib's traceback.
    env = {k: v for k, v in os.environ.items() if k != "MNIST_NPZ"}
    env.update(
        HOME=str(tmp_path),
        KERAS_HOME=str(tmp_path / "keras"),
        https_proxy="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    script = "from mnist_data import load_mnist, MNISTError\ntry:\n    load_mnist()\nexcept MNISTError as e:\n    print(e)\n"
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert "MNIST is not available" in result.stdout, result.stdout + result.stderr
    assert "set MNIST_NPZ" in result.stdout
