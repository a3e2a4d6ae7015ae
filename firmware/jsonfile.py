# Reading a JSON file from the device's filesystem (or a host disk) for a validator.


def load(path, error, validate):
    # validate(document, path) on the file's JSON; `error` (an exception class) names the file
    # when it cannot be read or is not JSON.
    import json
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as exc:
        raise error("%s: cannot read (%s)" % (path, exc))
    except ValueError as exc:
        raise error("%s: not valid JSON (%s)" % (path, exc))
    return validate(doc, path)
