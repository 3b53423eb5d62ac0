"""Calibrate an accuracy threshold: train the reference solution with several seeds.

Runs the graded cells of the built solution notebook (the cells the autograder runs:
not tagged ``otter_ignore``, no export) in a fresh kernel per seed and thread count, then
measures the trained model on the MNIST test set exactly as the hidden test does. The
threshold belongs well below the minimum, so a correct solution never fails on another
machine or thread count.

    .venv/bin/python benchmarks/calibrate_accuracy.py dist/neural-networks/autograder/neural-networks.ipynb \\
        --model mlp_keras --seeds 0 1 2 3 4 --threads 2 1
"""

import argparse
import os
import statistics
from pathlib import Path

import nbformat
from nbclient import NotebookClient

MEASURE = """\
import numpy as np
from student.checks import evaluate_accuracy
from mnist_data import load_mnist_test
x_calibration, y_calibration = load_mnist_test()
x_calibration = np.expand_dims(x_calibration, -1)
print("ACCURACY", evaluate_accuracy({model}, x_calibration, y_calibration))
"""


def graded_cells(solution: Path) -> list:
    """The code cells the autograder executes, in order."""
    notebook = nbformat.read(solution, as_version=4)
    return [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code"
        and "otter_ignore" not in cell.metadata.get("tags", [])
        and "grader.export" not in cell.source
    ]


def train_once(solution: Path, model: str, seed: int, threads: int) -> float:
    """Accuracy of ``model`` after running the graded cells with ``seed`` and ``threads``."""
    cells = [nbformat.v4.new_code_cell(f"import keras\nkeras.utils.set_random_seed({seed})")]
    cells += graded_cells(solution)
    cells.append(nbformat.v4.new_code_cell(MEASURE.format(model=model)))
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    # Thread pools are sized when TensorFlow starts, so they are set in the kernel's environment.
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ[name] = str(threads)
    NotebookClient(notebook, timeout=900, resources={"metadata": {"path": str(solution.parent)}}).execute()
    for output in notebook.cells[-1].outputs:
        for line in output.get("text", "").splitlines():
            if line.startswith("ACCURACY"):
                return float(line.split()[1])
    raise RuntimeError(f"seed {seed}: the measuring cell printed no accuracy: {notebook.cells[-1].outputs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("solution", type=Path)
    parser.add_argument("--model", default="mlp_keras")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--threads", type=int, nargs="+", default=[2])
    args = parser.parse_args()
    accuracies = []
    for threads in args.threads:
        for seed in args.seeds:
            accuracy = train_once(args.solution, args.model, seed, threads)
            accuracies.append(accuracy)
            print(f"threads={threads} seed={seed} accuracy={accuracy:.4f}", flush=True)
    print(
        f"runs={len(accuracies)} min={min(accuracies):.4f} "
        f"median={statistics.median(accuracies):.4f} max={max(accuracies):.4f}"
    )


if __name__ == "__main__":
    main()
