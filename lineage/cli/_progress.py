"""Progress on stderr, built in one place: bars on a terminal; in logs and pipes one line per
finished model (``done: <id>``, ``skipped: <id>``), which scripts and tests can wait on."""

from __future__ import annotations

from lineage.cli._output import err_console, info

__all__ = ["ModelProgress"]


class ModelProgress:
    """Rich progress bars on stderr: one for models, one for the current model's probes."""

    def __enter__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.p = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=err_console, transient=True,
                          disable=not err_console.is_terminal)  # no bars in logs and pipes
        self.p.__enter__()
        self.models = self.p.add_task("models", total=None, rate="")
        self.probes = None
        return self

    def __call__(self, event: str, data: dict) -> None:
        if event == "model_start":
            if self.probes is not None:
                self.p.remove_task(self.probes)
            self.probes = self.p.add_task(f"  {data['model'][:40]}", total=None, rate="")
        elif event == "extract_progress" and self.probes is not None:
            self.p.update(self.probes, completed=data["done"], total=data["total"], rate=f"{data['tokens']} tok")
        elif event in ("model_done", "model_failed"):
            self.p.advance(self.models)
            if not err_console.is_terminal and event == "model_done":
                info(f"{'skipped' if data.get('skipped') else 'done'}: {data['model']}")
        elif event == "phase":
            self.p.update(self.models, description=f"models ({data['name']})")

    def __exit__(self, *exc):
        self.p.__exit__(*exc)
