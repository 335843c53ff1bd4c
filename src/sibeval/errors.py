"""Errors users see: each names what is wrong, where, and how to fix it."""


class SibevalError(Exception):
    """Base class for every error sibeval raises on purpose."""


class ConfigError(SibevalError):
    """A configuration or cohort file does not hold."""


class ExtractError(SibevalError):
    """A raw extract file does not meet DATA_CONTRACT.md.

    The message names the file, the column, how many rows/persons and examples.
    """

    def __init__(self, file, problem, column=None, n=None, examples=None, fix=None):
        self.file, self.problem, self.column, self.n = str(file), problem, column, n
        self.examples = list(examples or [])[:3]
        parts = [f"{self.file}"]
        if column is not None:
            parts.append(f"column '{column}'")
        msg = ": ".join([", ".join(parts), problem])
        if n is not None:
            msg += f" ({n} row(s)/person(s))"
        if self.examples:
            msg += "; e.g. " + ", ".join(str(e) for e in self.examples)
        if fix:
            msg += f". Fix: {fix}"
        super().__init__(msg)
