# The protocol's exception tree. The stream decoder never raises on wire bytes;
# these are for encoding bad messages and for callers that ask for strict checks.


class ProtocolError(Exception):
    pass


class FrameError(ProtocolError):
    pass


class ChecksumError(FrameError):
    pass


class TooLongError(FrameError):
    pass


class TruncatedError(FrameError):
    pass


class VersionError(FrameError):
    pass


class UnknownTypeError(ProtocolError):
    pass


class PayloadError(ProtocolError):
    # A message whose fields do not match the schema (missing, extra, wrong type, out of range).
    pass


class LinkError(ProtocolError):
    pass


class QueueFull(LinkError):
    pass
