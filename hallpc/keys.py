"""Unknown keys are refused wherever a user writes them (hall file, scenario), naming the
closest known key: a misspelt key silently ignored is a setting silently lost."""
import difflib


def reason(key, known, what="key"):
    # Why `key` is refused: "unknown key (did you mean 'name'?)".
    close = difflib.get_close_matches(str(key), [str(k) for k in known], 1, 0.6)
    if close:
        return "unknown %s (did you mean %r?)" % (what, close[0])
    return "unknown %s (expected one of %s)" % (what, ", ".join(str(k) for k in known))


def first_unknown(table, known, what="key"):
    """(key, reason) of the first key of `table` not in `known`, or None."""
    if isinstance(table, dict):
        for key in table:
            if key not in known:
                return key, reason(key, known, what)
    return None


def routing(doc):
    """(key path, reason) of the first unknown key in a hall's routing configuration (what
    firmware.routing.config.HallConfig reads), or None. HallConfig refuses the same keys; this
    adds the suggestion the device has no room for."""
    from firmware.routing import config
    found = first_unknown(doc, config.HALL_KEYS)
    if found:
        return found
    if isinstance(doc, dict):
        found = first_unknown(doc.get("rules"), config.DEFAULT_RULES)
        if found:
            return "rules." + found[0], found[1]
        for part, known in (("services", config.SERVICE_KEYS), ("windows", config.WINDOW_KEYS)):
            entries = doc.get(part)
            for k, entry in enumerate(entries if isinstance(entries, list) else ()):
                found = first_unknown(entry, known)
                if found:
                    return "%s[%d].%s" % (part, k, found[0]), found[1]
    return None
