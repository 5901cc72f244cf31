"""Every exit code of the command line, in this one module (docs/reference.md lists them).

Under --nagios the codes are the monitoring plugins' (0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN: `knowledge.model.Severity.code`); EXIT_NAGIOS_UNKNOWN is the one the
entry point needs before any of that is imported."""

from typing import Any

#: The answer was printed (and, for triage, every VPG is ok).
EXIT_OK = 0
#: Not found: an unknown term or code; triage: something needs attention.
EXIT_NOT_FOUND = 1
#: Usage error, or input that cannot be used (a knowledge base, a payload, a ZVM).
EXIT_USAGE = 2
#: What a monitoring plugin exits with when it cannot judge (monitoring-plugins' UNKNOWN).
EXIT_NAGIOS_UNKNOWN = 3
#: zvpg itself failed (sysexits' EX_SOFTWARE); the message says to set ZVPG_DEBUG=1.
EXIT_INTERNAL = 70
#: Output could not be written (stdout closed, disk full): sysexits' EX_IOERR.
EXIT_OUTPUT = 74


def triage_exit(summary: Any) -> int:
    """triage's exit code outside --nagios: 2 when no site could be read (the
    output says which failed), 1 when there is nothing to check, else 0."""
    if summary.sites and not any(s.error is None for s in summary.sites):
        return EXIT_USAGE
    return EXIT_NOT_FOUND if summary.problem else EXIT_OK


def exit_signalled(signum: int) -> int:
    """A run that a signal ended: 128 + the signal's number (130 SIGINT, 143 SIGTERM)."""
    return 128 + signum
