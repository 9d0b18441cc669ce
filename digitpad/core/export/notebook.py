"""A ``CodePlan`` as a Jupyter notebook (nbformat): the script's pieces as cells, each
after a markdown cell saying what it does, and the exercise's question."""

from __future__ import annotations

from digitpad.core.export.code_plan import CodePlan
from digitpad.core.export.script import LAST_LINE, part_function_name, script_pieces


def notebook_text(plan: CodePlan) -> str:
    """The notebook as ``.ipynb`` text (nbformat 4). Run top to bottom, its last cell
    prints the line the script's last line prints."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    pieces = script_pieces(plan)
    cells = [
        new_markdown_cell(
            f"# {plan.title}\n\nMade by DigitPad from {plan.made_from}: plain Keras, numpy and "
            "the standard library. Run every cell from the top (Kernel → Restart & Run All): "
            "on the computer that trained these runs, with the same library versions, the "
            "last cell prints their stored test accuracy to the last digit."
        )
    ]
    for piece in pieces:
        cells += [new_markdown_cell(piece.markdown), new_code_cell(piece.code)]
    cells += [
        new_markdown_cell("Read MNIST, once for every part."),
        new_code_cell("mnist = load_mnist(MNIST_FILE)\naccuracies = []"),
    ]
    for part in plan.parts:
        cells.append(new_code_cell(f"accuracies += {part_function_name(part)}(mnist)"))
    cells += [
        new_markdown_cell("Each run's test accuracy, to compare with DigitPad's."),
        new_code_cell(f'print("{LAST_LINE} " + " ".join(f"{{a:.4f}}" for a in accuracies))'),
    ]
    notebook = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(notebook)
    return nbformat.writes(notebook)
