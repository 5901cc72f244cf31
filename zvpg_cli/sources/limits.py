"""The size limit of every input (a file, stdin, a ZVM's answer), in one
place; small, because the command line reads it at start-up for --help."""

#: Input larger than this is refused (override with --max-bytes).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
#: how --help shows it
DEFAULT_MAX_BYTES_TEXT = f"{DEFAULT_MAX_BYTES >> 20} MiB"
