"""Every file a hallctl command writes goes through here, so that none is half-written, none
follows a link somebody planted, none lands in a directory others may write to, and none
is a file the command did not make for this purpose, its own input above all.

    plan = Writes(inputs=[hall_path])          # what the command read
    plan.add("out/passwd", text, 0o600, owner="mosquitto")
    plan.add("out/credentials.json", text, 0o600)
    plan.commit()       # every target checked before the first byte; each file atomic
"""
import os
import stat
import tempfile
from pathlib import Path

from hallpc.errors import CommandError


def _refuse(path, why):
    raise CommandError("%s: %s" % (path, why))


def check_dir(path, secret=False):
    # A directory we may write into: it exists, is one, is writable by us, and (for secrets)
    # nobody else can swap files in it behind our back.
    path = Path(path)
    if path.is_symlink() and secret:
        _refuse(path, "a symbolic link: refusing to follow it to write secrets")
    try:
        st = path.stat()
    except FileNotFoundError:
        _refuse(path, "no such directory")
    except NotADirectoryError:
        _refuse(path, "not a directory")
    except OSError as exc:
        _refuse(path, exc.strerror)
    if not stat.S_ISDIR(st.st_mode):
        _refuse(path, "not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        _refuse(path, "not writable")
    if secret:
        me = os.geteuid()
        if st.st_uid not in (me, 0):
            _refuse(path, "owned by another user: refusing to write secrets there")
        if st.st_mode & stat.S_IWOTH or (st.st_mode & stat.S_IWGRP and st.st_uid != me):
            _refuse(path, "others may write here: refusing to write secrets there")


def make_dir(path, mode=0o755):
    # A directory (and its parents) made if missing; a failure is the user's one line.
    try:
        Path(path).mkdir(mode=mode, parents=True, exist_ok=True)
    except OSError as exc:
        _refuse(path, "cannot create: %s" % exc.strerror)


def check_out_dir(path, option=None):
    # A directory a command will make if missing and then write into, checked before the work
    # that fills it: it is a directory (or can become one) and we may write there. option: the
    # command-line option that named it, for the error ("--out DIR: ...").
    path = Path(path)
    if option is not None:
        try:
            return check_out_dir(path)
        except CommandError as exc:
            raise CommandError("%s %s" % (option, exc)) from None
    probe = path
    while not (probe.exists() or probe.is_symlink()) and probe.parent != probe:
        probe = probe.parent
    if probe != path and not probe.is_dir():
        _refuse(path, "cannot create it: %s is not a directory" % probe)
    if probe == path:
        check_dir(path)
    try:                            # asked by trying (access() says yes to root on /sys...)
        os.rmdir(tempfile.mkdtemp(dir=str(probe), prefix=".qms-probe-"))
    except OSError as exc:
        if probe == path:
            _refuse(path, "cannot write there: %s" % exc.strerror)
        _refuse(path, "cannot create it in %s: %s" % (probe, exc.strerror))


def write_files(directory, files, inputs=()):
    """[(name, data)] written into `directory` (made if missing): every target checked before
    the first byte, each file atomic. Returns the paths written."""
    check_out_dir(directory)
    make_dir(directory)
    plan = Writes(inputs)
    for name, data in files:
        plan.add(Path(directory) / name, data)
    return plan.commit()


def check_target(path, inputs=(), secret=False):
    # Before anything is written: the place is ours to write.
    path = Path(path)
    if path.is_symlink():
        _refuse(path, "a symbolic link: refusing to follow it")
    if path.is_dir():
        _refuse(path, "a directory, not a file")
    for given in inputs:
        try:
            same = path.exists() and os.path.samefile(path, given)
        except OSError:
            same = False
        if same:
            _refuse(path, "is the command's input (%s): refusing to overwrite it" % given)
    check_dir(path.parent, secret)


def _ids(user):
    import pwd
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def write_atomic(path, data, mode=0o644, owner=None):
    # A temporary file beside the target, written, synced and given its mode (and owner, a
    # user name: a service that must read it) before it is renamed over the target: a reader
    # sees the old file or the new one.
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix="." + path.name + ".",
                               suffix=".tmp")
    try:
        ids = _ids(owner) if owner is not None else None
        if ids is not None:
            try:
                os.fchown(fd, ids[0], ids[1])
            except PermissionError:
                pass                        # (not ours to give: the mode still holds)
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _sync_dir(path.parent)


def _sync_dir(path):
    try:
        fd = os.open(str(path) or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Writes:
    """The files one command writes: all checked first, then each written atomically."""

    def __init__(self, inputs=()):
        self.inputs = [str(p) for p in inputs]
        self.files = []

    def add(self, path, data, mode=0o644, owner=None):
        # A file others may not read holds a secret: its directory must be trusted too.
        self.files.append((Path(path), data, mode, owner, not mode & 0o004))
        return Path(path)

    def commit(self):
        targets = [f[0] for f in self.files]
        for k, (path, _, mode, _, secret) in enumerate(self.files):
            if path in targets[:k]:
                _refuse(path, "written twice by one command")
            check_target(path, self.inputs, secret)
        try:
            for path, data, mode, owner, _ in self.files:
                write_atomic(path, data, mode, owner)
        except OSError as exc:
            raise CommandError("%s: cannot write: %s" % (exc.filename or path,
                                                         exc.strerror)) from None
        return targets


def write_text(path, text, mode=0o644, inputs=()):
    # One file, checked and atomic.
    plan = Writes(inputs)
    plan.add(path, text, mode)
    plan.commit()
