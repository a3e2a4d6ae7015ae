# The few MicroPython builtins portable code uses, with CPython stand-ins.
# Write `@micropython.native` literally: MicroPython's compiler recognises the name.
try:
    import micropython
    from micropython import const
except ImportError:
    class micropython:  # type: ignore[no-redef]
        @staticmethod
        def native(f):
            return f

        @staticmethod
        def const(x):
            return x

    const = micropython.const
