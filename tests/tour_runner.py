"""Run notebooks/tour.ipynb headless with nbclient, with parameters injected
after its `parameters` cell; print its numbers as JSON on the last line.

    python tests/tour_runner.py notebooks/tour.ipynb '{"MASTER": "local[2]"}'

Stdlib, nbformat and nbclient only, so that it runs in the notebook container
too: `python - /sparklab/notebooks/tour.ipynb '{}' < tests/tour_runner.py`.
"""

import json
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run(path: str, parameters: dict) -> dict:
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    at = next(i for i, cell in enumerate(cells) if "parameters" in cell.metadata.get("tags", []))
    assignments = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    cells.insert(at + 1, nbformat.v4.new_code_cell(assignments, metadata={"tags": ["injected-parameters"]}))
    # The kernel's own PYSPARK_SUBMIT_ARGS: what its Spark application was started with.
    cells.append(
        nbformat.v4.new_code_cell(
            'import json, os\nnumbers["kernel_submit_args"] = os.environ.get("PYSPARK_SUBMIT_ARGS", "")\n'
            'print("TOUR " + json.dumps(numbers))'
        )
    )
    where = {"metadata": {"path": str(Path(path).resolve().parent)}}
    NotebookClient(notebook, timeout=900, kernel_name="python3", resources=where).execute()
    printed = "".join(out.get("text", "") for out in cells[-1].outputs if out.output_type == "stream")
    numbers = json.loads(printed.strip().splitlines()[-1].removeprefix("TOUR "))
    numbers["figures"] = sum(
        "image/png" in out.get("data", {}) for cell in cells for out in cell.get("outputs", [])
    )
    return numbers


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}"))))
