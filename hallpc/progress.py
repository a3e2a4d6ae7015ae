"""Progress of a long command on stderr, drawn by rich where stderr is a terminal (and
nothing at all elsewhere: logs and pipes get only the results)."""
from contextlib import contextmanager


@contextmanager
def bar(description, total=1.0, enabled=True):
    """Yields update(completed, description=None); total None: no end known (a pulse).
    enabled False (a command printing JSON, say): nothing is drawn, terminal or not."""
    from rich.console import Console
    from rich.progress import (BarColumn, Progress, TaskProgressColumn, TextColumn,
                               TimeElapsedColumn)
    console = Console(stderr=True)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                        TimeElapsedColumn(), console=console,
                        disable=not (enabled and console.is_terminal))
    task = progress.add_task(description, total=total)

    def update(completed, description=None):
        if description is None:
            progress.update(task, completed=completed)
        else:
            progress.update(task, completed=completed, description=description)
    with progress:
        yield update
