"""Files hallctl writes that may hold secrets (passwords, device configs)."""
import os


def write_text(path, text, mode=0o644):
    # Created with `mode` from the start (never briefly readable by others), and set to it
    # when the file already existed with another one.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)
