# The protocol's exception tree. The stream decoder never raises on wire bytes (it counts and
# skips them, with a reason); these are for encoding bad messages and for sending.


class ProtocolError(Exception):
    pass


class TooLongError(ProtocolError):
    # A payload or frame over the maximum size.
    pass


class UnknownTypeError(ProtocolError):
    pass


class PayloadError(ProtocolError):
    # A message whose fields do not match the schema (missing, extra, wrong type, out of range).
    pass


class QueueFull(ProtocolError):
    # The link already holds as many must-deliver messages as it may.
    pass
