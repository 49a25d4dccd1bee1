"""How the analysis tools' progress lines and reports write a duration."""


def format_duration(seconds: float) -> str:
    """``'1h02m'``, ``'12m05s'`` or ``'42s'``."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f'{hours}h{minutes:02d}m'
    if minutes:
        return f'{minutes}m{secs:02d}s'
    return f'{secs}s'
