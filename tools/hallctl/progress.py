"""Progress of a long command on stderr, drawn by rich where stderr is a terminal (and
nothing at all elsewhere: logs and pipes get only the results)."""
from contextlib import contextmanager


@contextmanager
def bar(description, total=1.0, unit=None):
    """Yields update(completed, description=None); total None: no end known (a pulse)."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn,
                               TextColumn, TimeElapsedColumn)
    console = Console(stderr=True)
    columns = [TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn() if unit else TaskProgressColumn(), TimeElapsedColumn()]
    progress = Progress(*columns, console=console, disable=not console.is_terminal,
                        transient=False)
    task = progress.add_task(description, total=total)

    def update(completed, description=None):
        if description is None:
            progress.update(task, completed=completed)
        else:
            progress.update(task, completed=completed, description=description)
    with progress:
        yield update
