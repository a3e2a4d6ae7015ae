# Runs test functions of a portable test module; the same file runs on CPython and MicroPython.
# Usage: micropython runner.py MODULE [TEST_NAME]
import gc
import sys


def run(module_name, only=None):
    module = __import__(module_name)
    gc.collect()                      # start each test from a collected heap
    names = [name for name in dir(module) if name.startswith("test_")]
    names.sort()
    if only:
        names = [name for name in names if name == only]
        if not names:
            print("no test %s in %s" % (only, module_name))
            return 1
    failed = 0
    for name in names:
        try:
            getattr(module, name)()
            print("PASS %s" % name)
        except Exception as exc:
            failed += 1
            print("FAIL %s" % name)
            sys.print_exception(exc) if hasattr(sys, "print_exception") else _print_tb()
    return 1 if failed else 0


def _print_tb():
    import traceback
    traceback.print_exc()


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
