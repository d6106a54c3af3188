"""The example notebook runs top to bottom in a real Jupyter kernel and shows what it says: the
trained network's channels as a picture, a dream, a film playing inline, a random torchvision
network's channel, and a bad key's message."""

import nbformat
from nbclient import NotebookClient


def outputs_of(cell) -> tuple[str, set[str]]:
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    kinds = {kind for o in cell.outputs if o.output_type in ("display_data", "execute_result") for kind in o.data}
    html = "".join(o.data.get("text/html", "") for o in cell.outputs if o.output_type in ("display_data", "execute_result"))
    return text + html, kinds


def test_the_example_notebook_runs_and_shows_its_pictures(tmp_path, root):
    notebook = nbformat.read(root / "examples" / "studio-in-a-notebook.ipynb", as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    shown = {cell.source.splitlines()[-1]: outputs_of(cell) for cell in code}
    assert "training accuracy" in outputs_of(code[1])[0]
    accuracy = int(outputs_of(code[1])[0].split("training accuracy ")[1].split("%")[0])
    assert accuracy >= 90  # the network learned the stripes before its channels are drawn
    assert "data:image/png;base64," in shown["channels"][0]
    assert "image/png" in shown["dream.image"][1]
    film_text, _ = shown["film"]
    assert "12 frames of (128, 96)" in film_text and "data:video/mp4;base64," in film_text
    assert "image/png" in shown['studio.visualize(random_resnet, "layer2:5", size=64, steps=16)'][1]
    assert "did you mean `octave_scale`" in shown["    print(error)"][0]
