import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_npz() -> Path:
    """The real MNIST file the tests read, from MNIST_NPZ (CI sets it to ../shared/data/mnist.npz)."""
    value = os.environ.get("MNIST_NPZ")
    if not value or not Path(value).is_file():
        pytest.fail(
            "Set MNIST_NPZ to a copy of mnist.npz to run the tests, e.g. "
            "MNIST_NPZ=../shared/data/mnist.npz make test"
        )
    return Path(value)
