"""Every exit code of the command line, in this one module (docs/reference.md lists them).

Under --nagios the codes are the monitoring plugins' (0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN: `knowledge.model.Severity.code`); EXIT_NAGIOS_UNKNOWN is the one the
entry point needs before any of that is imported."""

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


def exit_signalled(signum: int) -> int:
    """A run that a signal ended: 128 + the signal's number (130 SIGINT, 143 SIGTERM)."""
    return 128 + signum
