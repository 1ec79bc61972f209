"""The one exception type for bad specs, experiments and files."""


class SpecError(ValueError):
    """An invalid model spec, experiment or file.

    The message names the offending field (``layers[2].kernel_size``) and says
    what would fix it, so the GUI can show it as is and mark the field.
    """

    def __init__(self, field: str, problem: str, fix: str = ""):
        self.field = field
        self.problem = problem
        self.fix = fix
        message = f"{field}: {problem}" if field else problem
        if fix:
            message += f" ({fix})"
        super().__init__(message)


class TrainingDiverged(RuntimeError):
    """Training produced NaN or inf; the last good weights were kept."""
