from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_npz() -> Path:
    """The real MNIST file the tests read: MNIST_NPZ (CI sets it), else Keras's cache or download."""
    from mnist_data import MNISTError, mnist_file

    try:
        return mnist_file()
    except MNISTError as error:
        pytest.fail(f"{error}\nThe tests need MNIST, e.g. MNIST_NPZ=../shared/data/mnist.npz make test")


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory, mnist_npz):
    """The tiny fixture assignment, built by the real build into a temporary dist/."""
    from instructor.build import build_assignment

    return build_assignment(REPO / "tests" / "fixtures" / "tiny", tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def results_validator():
    """Validates a results.json dictionary against our Gradescope schema."""
    import json

    import jsonschema

    from harness.results import SCHEMA_PATH

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema).validate


@pytest.fixture(scope="session")
def nn_dist(tmp_path_factory, mnist_npz):
    """dist/ with the neural-networks assignment built by the real build."""
    from instructor.build import build_assignment

    dist = tmp_path_factory.mktemp("dist")
    build_assignment(REPO / "assignments" / "neural-networks", dist, {"mnist.npz": mnist_npz})
    return dist
