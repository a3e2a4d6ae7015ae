"""The one error a hallctl command raises for the user: printed as one line, exit status 2."""


class CommandError(Exception):
    """A problem the user can fix (bad input, missing port...); the message says what and where."""
